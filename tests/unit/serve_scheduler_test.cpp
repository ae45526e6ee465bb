// serve mode, the background runs (agent/serve/scheduler.h): runs happen on
// schedule, one at a time; online results are merged in; a check stuck from an
// earlier run is not started again.
#include "agent/serve/scheduler.h"

#include <catch2/catch.hpp>
#include <thread>

#include "tests/unit/fixture_root.h"
#include "tests/unit/runner_test_support.h"

using namespace pycheck;
using namespace std::chrono_literals;

namespace {

// Check functions are plain function pointers, so their observable state is global.
std::atomic<int> g_running{0};      // t.slow instances running right now
std::atomic<int> g_max_running{0};  // the most ever seen at once
std::atomic<int> g_slow_runs{0};
std::atomic<int> g_net_calls{0};
std::atomic<int> g_net_online_calls{0};

CheckOutcome slow(const Context&) {
  int now = ++g_running;
  int seen = g_max_running.load();
  while (now > seen && !g_max_running.compare_exchange_weak(seen, now)) {
  }
  std::this_thread::sleep_for(15ms);  // long enough that overlapping runs would show
  --g_running;
  ++g_slow_runs;
  return {CheckStatus::pass, "slow but fine", json::object(), {}};
}

// Reports what it could tell: more with the network than without.
CheckOutcome uses_network(const Context& ctx) {
  ++g_net_calls;
  if (!ctx.online) return {CheckStatus::skip, "offline: unknown", json::object(), {}};
  ++g_net_online_calls;
  return {CheckStatus::warn, "online: 2 pending", json::object(), {Finding{CheckStatus::warn, "online: 2 pending", "", "", "upgrade", {}}}};
}

const CheckInfo kSlow{"t.slow", "Slow", "", slow, {}};
const CheckInfo kNet{"t.net", "Network", "", uses_network, {}};
const CheckInfo kBlocks{"t.blocks", "Blocks", "", test::HangGate::hang, {}};

SchedulerOptions options_for(std::initializer_list<const CheckInfo*> checks) {
  SchedulerOptions options;
  for (const CheckInfo* c : checks) {
    PlannedCheck p;
    p.info = c;
    options.checks.push_back(p);
  }
  options.online_check_ids = {"t.net"};
  options.timeout = 2s;
  options.root = "/fixture";
  return options;
}

// Every run's clock stands still until the test moves it: a run ends when its
// checks are done, or when the test has moved the clock past the deadline.
SetupFactory factory_for(const test::FixtureRoot& root,
                         std::shared_ptr<test::ManualClock> clock = nullptr) {
  if (!clock) clock = std::make_shared<test::ManualClock>();
  return
      [&root, clock](bool online, std::chrono::milliseconds) -> Result<std::shared_ptr<RunSetup>> {
        auto setup = std::make_shared<RunSetup>(root.fs(), Environment{});
        setup->online = online;
        setup->clock = clock;
        return setup;
      };
}

const CheckResult* find(const Snapshot& snapshot, std::string_view id) {
  for (const CheckResult& r : snapshot.report.checks) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

using test::eventually;

}  // namespace

TEST_CASE("serve scheduler: nothing to serve before the first run, then a full report", "[serve]") {
  test::FixtureRoot root;
  std::vector<std::string> logged;
  Scheduler scheduler(options_for({&kSlow, &kNet}), factory_for(root),
                      [&](const std::string& line) { logged.push_back(line); });
  CHECK(scheduler.latest() == nullptr);
  scheduler.run_once(false);
  auto latest = scheduler.latest();
  REQUIRE(latest != nullptr);
  REQUIRE(latest->report.checks.size() == 2);
  CHECK(latest->report.checks[0].id == "t.slow");
  CHECK(latest->report.checks[1].status == CheckStatus::skip);
  CHECK(latest->report.root == "/fixture");
  CHECK(latest->report.pycheck_version == PYCHECK_VERSION);
  CHECK(latest->report_json.find("\"schema\": \"pycheck.report/v1\"") != std::string::npos);
  CHECK(latest->metrics.find("pycheck_check_success{check=\"t.slow\"} 1") != std::string::npos);
  REQUIRE(logged.size() == 1);  // one line per run
  CHECK(logged[0].starts_with("pycheck serve: offline run in "));
  CHECK(logged[0].find("PASS — 1 passed, 1 skipped") != std::string::npos);
}

TEST_CASE("serve scheduler: runs happen on schedule, one at a time", "[serve]") {
  test::FixtureRoot root;
  g_max_running = 0;
  const int before = g_slow_runs;
  SchedulerOptions options = options_for({&kSlow, &kNet});
  options.interval = 10ms;  // shorter than a run: runs must still not overlap
  Scheduler scheduler(options, factory_for(root), nullptr);
  scheduler.start();
  CHECK(eventually([&] { return scheduler.runs_completed() >= 5; }));
  CHECK(scheduler.stop(test::kHangGuard));
  CHECK(g_slow_runs - before >= 5);
  CHECK(g_max_running == 1);
  CHECK(scheduler.latest() != nullptr);
  const int runs = scheduler.runs_completed();
  std::this_thread::sleep_for(50ms);  // five intervals: time for a run that should not happen
  CHECK(scheduler.runs_completed() == runs);  // stopped means stopped
}

TEST_CASE("serve scheduler: online runs only run the network checks and their results are merged",
          "[serve]") {
  test::FixtureRoot root;
  SchedulerOptions options = options_for({&kSlow, &kNet});
  options.online = true;
  Scheduler scheduler(options, factory_for(root), nullptr);
  const int slow_before = g_slow_runs;
  const int online_before = g_net_online_calls;

  scheduler.run_once(false);
  CHECK(find(*scheduler.latest(), "t.net")->summary == "offline: unknown");
  scheduler.run_once(true);
  CHECK(g_slow_runs - slow_before == 1);  // the online run left t.slow alone
  CHECK(g_net_online_calls - online_before == 1);
  auto merged = scheduler.latest();
  CHECK(find(*merged, "t.net")->status == CheckStatus::warn);
  CHECK(find(*merged, "t.net")->summary == "online: 2 pending");
  CHECK(find(*merged, "t.slow")->status == CheckStatus::pass);
  // The next offline run does not wipe the online result out.
  scheduler.run_once(false);
  CHECK(find(*scheduler.latest(), "t.net")->summary == "online: 2 pending");
  CHECK(scheduler.latest()->report.overall() == CheckStatus::warn);
}

TEST_CASE("serve scheduler: the schedule starts online runs when online", "[serve]") {
  test::FixtureRoot root;
  SchedulerOptions options = options_for({&kNet});
  options.online = true;
  options.interval = 1h;
  options.online_interval = 20ms;
  const int online_before = g_net_online_calls;
  Scheduler scheduler(options, factory_for(root), nullptr);
  scheduler.start();
  CHECK(eventually([&] { return g_net_online_calls - online_before >= 3; }));
  CHECK(scheduler.stop(test::kHangGuard));
  CHECK(find(*scheduler.latest(), "t.net")->summary == "online: 2 pending");
}

TEST_CASE("serve scheduler: a check stuck from an earlier run is not started again", "[serve]") {
  test::FixtureRoot root;
  test::HangGate gate;
  auto clock = std::make_shared<test::ManualClock>();
  SchedulerOptions options = options_for({&kSlow, &kBlocks});
  options.timeout = 100ms;
  Scheduler scheduler(options, factory_for(root, clock), nullptr);

  test::InBackground<void> first_run(clock, [&] { scheduler.run_once(false); });
  REQUIRE(gate.started(1));
  clock->advance(100ms);  // the first run's deadline, t.blocks still stuck
  REQUIRE(first_run.returned(test::kHangGuard));
  auto first = scheduler.latest();
  CHECK(find(*first, "t.blocks")->status == CheckStatus::error);
  CHECK(find(*first, "t.blocks")->summary.starts_with("timed out"));
  // t.slow may have been cut off by the deadline too; its thread ends soon after.
  CHECK(
      eventually([&] { return scheduler.stuck_checks() == std::vector<std::string>{"t.blocks"}; }));

  // The clock stands still now: a second run that waited for its deadline
  // would never return.
  test::InBackground<void> second_run(clock, [&] { scheduler.run_once(false); });
  REQUIRE(second_run.returned(test::kHangGuard));
  auto second = scheduler.latest();
  const CheckResult* stuck = find(*second, "t.blocks");
  REQUIRE(stuck != nullptr);
  CHECK(stuck->status == CheckStatus::error);
  CHECK(stuck->summary.starts_with("still running since 20"));
  CHECK(stuck->summary.ends_with(", not restarted"));
  CHECK(stuck->details.contains("running_since"));
  CHECK_FALSE(stuck->remediation().empty());
  CHECK(find(*second, "t.slow")->status == CheckStatus::pass);
  CHECK(second->report.checks[1].id == "t.blocks");  // table order kept
  CHECK(gate.started_now() == 1);

  // Once the read returns, the check runs again.
  gate.release();
  CHECK(eventually([&] { return scheduler.stuck_checks().empty(); }));
  scheduler.run_once(false);
  CHECK(gate.started_now() == 2);
  CHECK(find(*scheduler.latest(), "t.blocks")->status == CheckStatus::pass);
}

TEST_CASE("serve scheduler: a root that cannot be opened makes every check an error", "[serve]") {
  SchedulerOptions options = options_for({&kSlow, &kNet});
  Scheduler scheduler(
      options,
      [](bool, std::chrono::milliseconds) -> Result<std::shared_ptr<RunSetup>> {
        return Error{"cannot open the root /proc/42/root: No such file or directory"};
      },
      nullptr);
  scheduler.run_once(false);
  auto latest = scheduler.latest();
  REQUIRE(latest != nullptr);
  REQUIRE(latest->report.checks.size() == 2);
  for (const CheckResult& r : latest->report.checks) {
    CHECK(r.status == CheckStatus::error);
    CHECK(r.summary == "cannot open the root /proc/42/root: No such file or directory");
  }
}

TEST_CASE("serve scheduler: stop returns at once between runs", "[serve]") {
  test::FixtureRoot root;
  SchedulerOptions options = options_for({&kSlow});
  options.interval = 1h;
  Scheduler scheduler(options, factory_for(root), nullptr);
  scheduler.start();
  CHECK(eventually([&] { return scheduler.latest() != nullptr; }));
  // A thread that did not wake for the stop would sleep out the 1 h interval.
  CHECK(scheduler.stop(test::kHangGuard));
}

TEST_CASE("runner: an abandoned check says when its thread has finished", "[serve]") {
  test::FixtureRoot root;
  test::HangGate gate;
  auto clock = std::make_shared<test::ManualClock>();
  auto setup = std::make_shared<RunSetup>(root.fs(), Environment{});
  setup->clock = clock;
  PlannedCheck p;
  p.info = &kBlocks;
  setup->checks.push_back(p);
  const auto before = std::chrono::system_clock::now();
  test::InBackground<RunOutcome> run(clock, [&] { return run_checks(setup, 50ms); });
  REQUIRE(gate.started(1));
  clock->advance(50ms);
  REQUIRE(run.returned(test::kHangGuard));
  RunOutcome outcome = run.get();
  CHECK(outcome.abandoned_checks == 1);
  REQUIRE(outcome.abandoned.size() == 1);
  CHECK(outcome.abandoned[0].id == "t.blocks");
  CHECK(outcome.abandoned[0].started >= before - 1s);
  CHECK(outcome.abandoned[0].still_running());
  gate.release();
  CHECK(eventually([&] { return !outcome.abandoned[0].still_running(); }));
}
