// The program around the checks: environment, durations, runner (the report:
// report_output_test.cpp; the config file: config_params_test.cpp).
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <thread>

#include "agent/cli/config.h"
#include "agent/core/duration.h"
#include "agent/core/environment.h"
#include "agent/report/report.h"
#include "agent/run/runner.h"
#include "checks/check_table.h"
#include "tests/unit/fixture_root.h"
#include "tests/unit/runner_test_support.h"

using namespace pycheck;
using namespace std::chrono_literals;

TEST_CASE("env files: KEY=VALUE lines, comments, export, quotes", "[core]") {
  auto env = Environment::parse_env_file(
      "# image ENV\nPATH=/usr/local/bin:/usr/bin\nexport LANG=C.UTF-8\nEMPTY=\nQ=\"a b\"\n\n");
  REQUIRE(env.ok());
  CHECK(env->get("PATH") == "/usr/local/bin:/usr/bin");
  CHECK(env->get("LANG") == "C.UTF-8");
  CHECK(env->get("EMPTY") == "");
  CHECK(env->get("Q") == "a b");
  CHECK_FALSE(env->get("MISSING").has_value());

  auto bad = Environment::parse_env_file("OK=1\nthis is not an assignment\n");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("line 2") != std::string::npos);
  CHECK_FALSE(Environment::parse_env_file("1BAD=x").ok());
}

TEST_CASE("environ blocks: NUL-separated, first definition wins", "[core]") {
  using namespace std::string_literals;
  auto env = Environment::parse_environ_block("A=1\0B=x=y\0A=2\0garbage\0"s);
  CHECK(env.get("A") == "1");
  CHECK(env.get("B") == "x=y");
  CHECK(env.vars().size() == 2);
}

TEST_CASE("durations need a unit", "[core]") {
  CHECK(*parse_duration("800ms") == 800ms);
  CHECK(*parse_duration("2s") == 2000ms);
  CHECK(*parse_duration("1.5s") == 1500ms);
  CHECK(*parse_duration("5m") == 300000ms);
  CHECK(*parse_duration("6h") == 6h);
  for (const char* bad : {"800", "", "ms", "-1s", "1d", "0ms", "1e3s", "1.2.3s"}) {
    INFO(bad);
    CHECK_FALSE(parse_duration(bad).ok());
  }
  CHECK(format_duration(30s) == "30s");
  CHECK(format_duration(800ms) == "800ms");
}

namespace {

CheckOutcome passes(const Context&) { return {CheckStatus::pass, "fine", {{"k", "v"}}, {}}; }
CheckOutcome warns(const Context&) { return {CheckStatus::warn, "meh", json::object(), {Finding{CheckStatus::warn, "meh", "", "", "do x", {}}}}; }
CheckOutcome fails(const Context&) { return {CheckStatus::fail, "bad", json::object(), {Finding{CheckStatus::fail, "bad", "", "", "do y", {}}}}; }
CheckOutcome throws(const Context&) { throw std::runtime_error("boom"); }
CheckOutcome reads_param(const Context& ctx) {
  return {CheckStatus::pass, ctx.params.at("word").get<std::string>(), json::object(), {}};
}

const CheckInfo kPass{"t.pass", "Passes", "", passes, {}};
const CheckInfo kWarn{"t.warn", "Warns", "", warns, {}};
const CheckInfo kFail{"t.fail", "Fails", "", fails, {}};
const CheckInfo kThrow{"t.throw", "Throws", "", throws, {}};
const CheckInfo kHang{"t.hang", "Hangs", "", test::HangGate::hang, {}};
const CheckInfo kParam{"t.param", "Param", "", reads_param, {{"word", "\"hello\"", ""}}};

// The run's clock stands still until the test moves it: a run ends when its
// checks are done, or when the test has moved the clock past the deadline.
std::shared_ptr<RunSetup> setup_for(const test::FixtureRoot& root,
                                    std::initializer_list<const CheckInfo*> checks,
                                    std::shared_ptr<test::ManualClock> clock = nullptr) {
  auto setup = std::make_shared<RunSetup>(root.fs(), Environment{});
  for (const CheckInfo* c : checks) {
    PlannedCheck p;
    p.info = c;
    p.params = effective_params(*c, Config{});
    setup->checks.push_back(p);
  }
  setup->clock = clock ? clock : std::make_shared<test::ManualClock>();
  return setup;
}

// How many threads a run starts with (runner.cpp: one per core, at least 2).
int first_threads() { return static_cast<int>(std::max(2u, std::thread::hardware_concurrency())); }

using BackgroundRun = test::InBackground<RunOutcome>;

}  // namespace

TEST_CASE("runner: results in table order, exceptions become errors", "[core]") {
  test::FixtureRoot root;
  auto outcome = run_checks(setup_for(root, {&kPass, &kWarn, &kThrow, &kParam}), 2s);
  REQUIRE(outcome.report.checks.size() == 4);
  CHECK(outcome.abandoned_checks == 0);
  CHECK(outcome.report.checks[0].id == "t.pass");
  CHECK(outcome.report.checks[0].title == "Passes");
  CHECK(outcome.report.checks[1].status == CheckStatus::warn);
  CHECK(outcome.report.checks[2].status == CheckStatus::error);
  CHECK(outcome.report.checks[2].summary.find("boom") != std::string::npos);
  CHECK(outcome.report.checks[3].summary == "hello");
  CHECK(outcome.report.overall() == CheckStatus::error);
}

TEST_CASE("runner: a check stuck past the deadline is an error and the run returns at it",
          "[core]") {
  // As many stuck checks as the first threads after t.pass: the last one starts
  // on t.pass's thread, so once all have started t.pass's result is in.
  test::FixtureRoot root;
  test::HangGate gate;
  auto clock = std::make_shared<test::ManualClock>();
  auto setup = setup_for(root, {&kPass}, clock);
  for (int i = 0; i < first_threads(); ++i) setup->checks.push_back({&kHang, {}, {}});
  BackgroundRun run(clock, [=] { return run_checks(setup, 200ms); });
  REQUIRE(gate.started(first_threads()));
  CHECK_FALSE(run.returned());  // the deadline has not come
  clock->advance(200ms);
  REQUIRE(run.returned(test::kHangGuard));  // returned at the deadline, checks still stuck
  RunOutcome outcome = run.get();
  CHECK(outcome.abandoned_checks == first_threads());
  REQUIRE(outcome.report.checks.size() == static_cast<std::size_t>(first_threads()) + 1);
  CHECK(outcome.report.checks[0].status == CheckStatus::pass);
  CHECK(outcome.report.checks[1].status == CheckStatus::error);
  CHECK(outcome.report.checks[1].summary == "timed out: still running after 200 ms");
}

TEST_CASE("runner: checks stuck ahead of the others do not hold them back", "[core]") {
  // More stuck checks than the pool has threads, all first in table order: the
  // runner must start more threads for the checks behind them, one per stall.
  // The last check hangs too: it starts on the thread that ran the three
  // before it, so once it has started their results are in.
  test::FixtureRoot root;
  test::HangGate gate;
  auto clock = std::make_shared<test::ManualClock>();
  const int stuck = first_threads() + 3;
  auto setup = setup_for(root, {}, clock);
  for (int i = 0; i < stuck; ++i) setup->checks.push_back({&kHang, {}, {}});
  for (const CheckInfo* c : {&kPass, &kWarn, &kParam, &kHang}) {
    setup->checks.push_back({c, effective_params(*c, Config{}), {}});
  }
  BackgroundRun run(clock, [=] { return run_checks(setup, 1s); });
  REQUIRE(gate.started(first_threads()));
  for (int n = first_threads() + 1; n <= stuck + 1; ++n) {
    REQUIRE(clock->runner_looked_again());
    CHECK(gate.started_now() == n - 1);  // no stall yet: no new thread
    clock->advance(kStallAfter);         // no check finished meanwhile: one more thread
    REQUIRE(gate.started(n));
  }
  CHECK_FALSE(run.returned());
  clock->advance(1s);
  REQUIRE(run.returned(test::kHangGuard));
  RunOutcome outcome = run.get();
  REQUIRE(outcome.report.checks.size() == static_cast<std::size_t>(stuck) + 4);
  CHECK(outcome.abandoned_checks == stuck + 1);
  CHECK(outcome.abandoned.size() == static_cast<std::size_t>(stuck) + 1);
  for (int i = 0; i < stuck; ++i) {
    CHECK(outcome.report.checks[i].summary.starts_with("timed out: still running"));
    CHECK(outcome.abandoned[i].still_running());
  }
  CHECK(outcome.report.checks[stuck].status == CheckStatus::pass);
  CHECK(outcome.report.checks[stuck + 1].status == CheckStatus::warn);
  CHECK(outcome.report.checks[stuck + 2].summary == "hello");
  gate.release();
  CHECK(test::eventually([&] { return !outcome.abandoned[0].still_running(); }));
}

TEST_CASE("runner: a check never started by the deadline is an error, not abandoned", "[core]") {
  // As many stuck checks as the first threads, and the deadline comes before
  // the wait after which one more thread starts: the last check never starts.
  static_assert(5ms < kStallAfter);
  test::FixtureRoot root;
  test::HangGate gate;
  auto clock = std::make_shared<test::ManualClock>();
  auto setup = setup_for(root, {}, clock);
  for (int i = 0; i < first_threads(); ++i) setup->checks.push_back({&kHang, {}, {}});
  setup->checks.push_back({&kPass, {}, {}});
  BackgroundRun run(clock, [=] { return run_checks(setup, 5ms); });
  REQUIRE(gate.started(first_threads()));
  REQUIRE(clock->runner_looked_again());  // with every thread stuck, and no stall yet
  clock->advance(5ms);
  REQUIRE(run.returned(test::kHangGuard));
  RunOutcome outcome = run.get();
  REQUIRE(outcome.report.checks.size() == static_cast<std::size_t>(first_threads()) + 1);
  CHECK(outcome.abandoned_checks == first_threads());
  const CheckResult& last = outcome.report.checks.back();
  CHECK(last.status == CheckStatus::error);
  CHECK(last.summary == "timed out: not started within 5 ms");
  for (const AbandonedCheck& a : outcome.abandoned) CHECK(a.id == "t.hang");
}

TEST_CASE("runner: costlier checks start first, the report keeps table order", "[core]") {
  const CheckInfo light{"t.light", "Light", "", passes, {}};
  const CheckInfo medium{"t.medium", "Medium", "", warns, {}, CheckCost::medium};
  const CheckInfo heavy{"t.heavy", "Heavy", "", fails, {}, CheckCost::heavy};
  const CheckInfo heavier{"t.heavy2", "Heavy too", "", passes, {}, CheckCost::heavy};
  test::FixtureRoot root;
  auto setup = setup_for(root, {&light, &medium, &heavy, &light, &heavier});
  CHECK(start_order(setup->checks) == std::vector<std::size_t>{2, 4, 1, 0, 3});
  auto outcome = run_checks(setup, 2s);
  REQUIRE(outcome.report.checks.size() == 5);
  const char* ids[] = {"t.light", "t.medium", "t.heavy", "t.light", "t.heavy2"};
  for (std::size_t i = 0; i < 5; ++i) CHECK(outcome.report.checks[i].id == ids[i]);
  CHECK(outcome.report.checks[2].status == CheckStatus::fail);

  // The real table: the two costliest checks start first.
  std::vector<PlannedCheck> table;
  for (const CheckInfo& info : check_table()) table.push_back({&info, json::object(), {}});
  const auto order = start_order(table);
  REQUIRE(order.size() >= 2);
  CHECK(table[order[0]].info->cost == CheckCost::heavy);
  CHECK(table[order[1]].info->cost == CheckCost::heavy);
}
