#include "agent/core/run_facts.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <latch>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "agent/core/check.h"
#include "agent/rootfs/rootfs.h"

namespace pycheck {
namespace {

TEST_CASE("RunFacts computes a fact once for all threads that ask", "[run_facts]") {
  RunFacts facts;
  std::atomic<int> computed{0};
  std::vector<std::shared_ptr<const std::string>> seen(8);
  // The computation ends only once every thread is about to ask: computations
  // that ran side by side would each wait here, and all count.
  std::latch asking(static_cast<std::ptrdiff_t>(seen.size()));
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < seen.size(); ++i) {
    threads.emplace_back([&, i] {
      asking.count_down();
      seen[i] = facts.get<std::string>("dpkg", [&] {
        ++computed;
        asking.wait();
        return std::string("database");
      });
    });
  }
  for (auto& t : threads) t.join();
  CHECK(computed == 1);
  for (const auto& value : seen) {
    REQUIRE(value);
    CHECK(value.get() == seen[0].get());
    CHECK(*value == "database");
  }
}

TEST_CASE("RunFacts keys facts by type and name", "[run_facts]") {
  RunFacts facts;
  auto a = facts.get<std::string>("/usr/local", [] { return std::string("a"); });
  auto b = facts.get<std::string>("/usr", [] { return std::string("b"); });
  auto n = facts.get<int>("/usr", [] { return 7; });
  CHECK(*a == "a");
  CHECK(*b == "b");
  CHECK(*n == 7);
  CHECK(*facts.get<std::string>("/usr", [] { return std::string("not again"); }) == "b");
}

TEST_CASE("RunFacts keeps nothing when the computation throws", "[run_facts]") {
  RunFacts facts;
  CHECK_THROWS_AS(facts.get<int>("x", []() -> int { throw std::runtime_error("boom"); }),
                  std::runtime_error);
  CHECK(*facts.get<int>("x", [] { return 3; }) == 3);
}

TEST_CASE("shared_fact computes afresh without RunFacts and shares with them", "[run_facts]") {
  int calls = 0;
  auto compute = [&] { return ++calls; };
  const json params = json::object();
  auto fs = RootFs::open("/");
  REQUIRE(fs);
  const Environment env;
  Context alone{*fs, env, params, std::chrono::system_clock::now()};
  CHECK(*shared_fact<int>(alone, "n", compute) == 1);
  CHECK(*shared_fact<int>(alone, "n", compute) == 2);
  RunFacts facts;
  Context shared{*fs, env, params, std::chrono::system_clock::now(), false, nullptr, &facts};
  CHECK(*shared_fact<int>(shared, "n", compute) == 3);
  CHECK(*shared_fact<int>(shared, "n", compute) == 3);
}

}  // namespace
}  // namespace pycheck
