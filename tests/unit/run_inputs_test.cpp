// build_run: the one place the CLI turns its options into a run, for
// `pycheck run` and for serve. Values come from the command line, else the
// config file, else the defaults; the first thing wrong is the usage error.
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "agent/cli/run_inputs.h"

using namespace pycheck;

namespace {

// A config file under the temp dir, named after this process: removed on destruction.
struct ConfigFile {
  explicit ConfigFile(const std::string& text)
      : path((std::filesystem::temp_directory_path() /
              ("pycheck-run-inputs-" + std::to_string(::getpid()) + ".json"))
                 .string()) {
    std::ofstream(path) << text;
  }
  ~ConfigFile() { std::filesystem::remove(path); }
  std::string path;
};

RunArgs args_on_slash() {
  RunArgs args;
  args.root = "/";
  return args;
}

std::vector<std::string> ids(const RunInputs& inputs) {
  std::vector<std::string> out;
  for (const PlannedCheck& p : inputs.checks) out.emplace_back(p.info->id);
  return out;
}

}  // namespace

TEST_CASE("build_run: defaults without options or config", "[cli]") {
  auto run = build_run(args_on_slash(), RunKind::command);
  REQUIRE(run);
  CHECK(run->root == "/");
  CHECK_FALSE(run->online);
  CHECK(run->timeout == kOfflineRunTimeout);
  CHECK(run->fail_on == CheckStatus::fail);
  CHECK_FALSE(run->now);
  CHECK(run->checks.size() == 12);
  auto serve = build_run(args_on_slash(), RunKind::serve);
  REQUIRE(serve);
  CHECK(serve->timeout == kServeRunTimeout);
}

TEST_CASE("build_run: the config file's values, and the command line over them", "[cli]") {
  ConfigFile config(R"({"online": true, "fail_on": "warn",
                        "checks": {"locale": {"enabled": false}}})");
  RunArgs args = args_on_slash();
  args.config_file = config.path;
  auto run = build_run(args, RunKind::command);
  REQUIRE(run);
  CHECK(run->online);
  CHECK(run->timeout == kOnlineRunTimeout);
  CHECK(run->fail_on == CheckStatus::warn);
  CHECK(std::ranges::count(ids(*run), "locale") == 0);

  args.fail_on = "fail";
  args.timeout = "2s";
  args.only = {"locale", "os.eol"};  // an explicit --check wins over config
  args.skip = {"os.eol"};
  args.now = "2026-11-28T12:00:00Z";
  args.cache_dir = "/tmp/cache";
  run = build_run(args, RunKind::command);
  REQUIRE(run);
  CHECK(run->fail_on == CheckStatus::fail);
  CHECK(run->timeout == std::chrono::seconds(2));
  CHECK(ids(*run) == std::vector<std::string>{"locale"});
  REQUIRE(run->now);
  CHECK(std::chrono::system_clock::to_time_t(*run->now) == 1795867200);  // 2026-11-28T12:00:00Z
  CHECK(run->cache_dir == "/tmp/cache");
}

TEST_CASE("build_run: the first thing wrong is the error", "[cli]") {
  ConfigFile config("{bad");
  RunArgs args = args_on_slash();
  args.config_file = config.path;
  args.timeout = "abc";
  args.root = "/nonexistent-pycheck-root";
  args.only = {"nope"};
  args.now = "tomorrow";
  args.cache_dir = "/tmp/cache";
  const std::vector<std::pair<std::string, std::function<void()>>> in_order{
      {config.path + ": config: not valid JSON", [&] { args.config_file.clear(); }},
      {"--timeout: invalid duration \"abc\"", [&] { args.timeout.clear(); }},
      {"--root: /nonexistent-pycheck-root: cannot open root directory",
       [&] { args.root = "/"; }},
      {"unknown check id \"nope\"; known ids:\n  python.path", [&] { args.only.clear(); }},
      {"--cache-dir needs --online: offline runs make no requests",
       [&] { args.cache_dir.clear(); }},
      {"--now: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, got \"tomorrow\"",
       [&] { args.now.clear(); }},
  };
  for (const auto& [message, fix] : in_order) {
    auto run = build_run(args, RunKind::command);
    REQUIRE_FALSE(run);
    CHECK_THAT(run.error().message, Catch::StartsWith(message));
    fix();
  }
  CHECK(build_run(args, RunKind::command));
}
