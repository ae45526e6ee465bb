// The program around the checks: environment, durations, runner, report
// (the config file: config_params_test.cpp).
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

TEST_CASE("report times are RFC 3339 UTC with milliseconds", "[core]") {
  const auto at = [](std::int64_t ms) {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
  };
  CHECK(format_rfc3339(at(0)) == "1970-01-01T00:00:00.000Z");
  CHECK(format_rfc3339(at(1709251199999)) == "2024-02-29T23:59:59.999Z");
  CHECK(format_rfc3339(at(1795860000123)) == "2026-11-28T10:00:00.123Z");
  CHECK(format_rfc3339(at(4107542400001)) == "2100-03-01T00:00:00.001Z");
}

TEST_CASE("severity overrides move warn and fail, never pass or error", "[core]") {
  CheckResult r;
  r.status = CheckStatus::fail;
  apply_severity(r, CheckStatus::warn);
  CHECK(r.status == CheckStatus::warn);
  CHECK(r.details["severity_override"]["original_status"] == "fail");
  CheckResult p;
  p.status = CheckStatus::pass;
  apply_severity(p, CheckStatus::fail);
  CHECK(p.status == CheckStatus::pass);
  CheckResult e;
  e.status = CheckStatus::error;
  apply_severity(e, CheckStatus::warn);
  CHECK(e.status == CheckStatus::error);
}

TEST_CASE("report: verdict line, overall status and exit codes", "[core]") {
  Report report;
  auto add = [&](std::string id, CheckStatus s) {
    CheckResult r;
    r.id = std::move(id);
    r.status = s;
    r.summary = "s";
    report.checks.push_back(r);
  };
  add("a", CheckStatus::pass);
  add("b", CheckStatus::warn);
  CHECK(report.overall() == CheckStatus::warn);
  CHECK(report.exit_code(CheckStatus::fail) == 0);
  CHECK(report.exit_code(CheckStatus::warn) == 1);
  CHECK(verdict_line(report) == "pycheck: WARN — 1 warning, 1 passed (b)");
  add("tls.ca-certificates", CheckStatus::fail);
  add("d", CheckStatus::skip);
  CHECK(report.exit_code(CheckStatus::fail) == 1);
  CHECK(verdict_line(report) ==
        "pycheck: FAIL — 1 failed, 1 warning, 1 passed, 1 skipped (tls.ca-certificates)");
  Report errors;
  errors.checks = {report.checks[0]};
  errors.checks[0].status = CheckStatus::error;
  CHECK(errors.overall() == CheckStatus::error);
  CHECK(errors.exit_code(CheckStatus::fail) == 1);
}

TEST_CASE("text output: verdict first, details and fix only where attention is needed", "[core]") {
  Report report;
  CheckResult ok;
  ok.id = "a.ok";
  ok.status = CheckStatus::pass;
  ok.summary = "all good";
  ok.details = {{"hidden", "yes"}};
  CheckResult bad;
  bad.id = "b.bad";
  bad.status = CheckStatus::fail;
  bad.summary = "broken";
  bad.details = {{"path", "/etc/services"}, {"list", {1, 2}}};
  bad.findings.push_back(Finding{CheckStatus::fail, "/etc/services is missing",
                                 "getservbyname(\"https\") fails", "", "Install netbase:",
                                 {"apt-get install netbase"}});
  report.checks = {ok, bad};
  std::string text = render_text(report, TextOptions{});
  CHECK(text.rfind(verdict_line(report) + "\n", 0) == 0);
  CHECK(text.find("PASS  a.ok   all good\n") != std::string::npos);
  CHECK(text.find("FAIL  b.bad  broken\n") != std::string::npos);
  CHECK(text.find("\n        - /etc/services is missing: getservbyname(\"https\") fails\n") !=
        std::string::npos);
  CHECK(text.find("\n        fix: Install netbase:\n            apt-get install netbase\n") !=
        std::string::npos);
  // No raw details without --verbose; with it, the flat facts that say something.
  CHECK(text.find("hidden") == std::string::npos);
  CHECK(text.find("/etc/services\n") == std::string::npos);
  const std::string verbose = render_text(report, TextOptions{false, 100, true});
  CHECK(verbose.find("        path: /etc/services\n") != std::string::npos);
  CHECK(verbose.find("        list: 1, 2\n") != std::string::npos);
  CHECK(verbose.find("        hidden: yes\n") != std::string::npos);
  CHECK(text.find("\033[") == std::string::npos);
  CHECK(render_text(report, TextOptions{true, 100, false}).find("\033[31m") != std::string::npos);
}

TEST_CASE("text output: a shared cause and each command are said once", "[core]") {
  Report report;
  CheckResult libs;
  libs.id = "python.shared-libraries";
  libs.status = CheckStatus::fail;
  libs.summary = "2 extension modules cannot load: _ssl, _hashlib";
  const std::string cause = "libssl3 is purged or was never installed";
  const std::vector<std::string> reinstall = {"apt-get install -y libssl3", "apt-mark manual libssl3"};
  libs.findings = {
      Finding{CheckStatus::fail, "_ssl cannot load: libssl.so.3 not found", "import ssl fails", cause,
              "Reinstall it:", reinstall},
      Finding{CheckStatus::warn, "_hashlib cannot load: libcrypto.so.3 not found",
              "hashlib has no OpenSSL algorithms", cause, "Reinstall it:", reinstall}};
  CheckResult skipped_check;
  skipped_check.id = "python.venv";
  skipped_check.status = CheckStatus::skip;
  skipped_check.summary = "no virtual environment in use";
  report.checks = {libs, skipped_check};
  const std::string text = render_text(report, TextOptions{});
  auto count = [&](std::string_view needle) {
    std::size_t n = 0;
    for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
    return n;
  };
  CHECK(count(cause) == 1);
  CHECK(count("apt-get install -y libssl3") == 1);
  CHECK(count("apt-mark manual libssl3") == 1);
  CHECK(count("Reinstall it:") == 1);
  CHECK(text.find("        - " + cause + ":\n          - _ssl cannot load: libssl.so.3 not found: "
                  "import ssl fails\n          - _hashlib") != std::string::npos);
  // Skips are one closing line, not a line each.
  CHECK(text.find("\n  skipped: python.venv (no virtual environment in use)\n") != std::string::npos);
  CHECK(text.find("SKIP") == std::string::npos);
  CHECK(text.find("pycheck explain ID") != std::string::npos);
}

TEST_CASE("text output wraps at the width, never inside a word or a command", "[core]") {
  Report report;
  CheckResult r;
  r.id = "x.long";
  r.status = CheckStatus::warn;
  r.summary = "a headline";
  const std::string path = "/very/long/" + std::string(120, 'p');
  std::string message;
  for (int i = 0; i < 30; ++i) message += "word" + std::to_string(i) + " ";
  message += path;
  const std::string command = "apt-get install -y " + std::string(150, 'c');
  r.findings = {Finding{CheckStatus::warn, message, "", "", "", {command}}};
  report.checks = {r};
  for (std::size_t width : {60u, 100u}) {
    const std::string text = render_text(report, TextOptions{false, width, false});
    std::size_t start = text.find('\n') + 1;  // the verdict line is never wrapped
    for (std::size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
      const std::string line = text.substr(start, end - start);
      const bool unbreakable = line.find(path) != std::string::npos || line.find(command) != std::string::npos;
      // Columns, not bytes: a UTF-8 continuation byte takes none.
      const auto cols = std::count_if(line.begin(), line.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
      });
      if (!unbreakable) CHECK(static_cast<std::size_t>(cols) <= width);
    }
    CHECK(text.find("\n            " + command + "\n") != std::string::npos);  // whole, on its own line
    CHECK(text.find(path) != std::string::npos);                            // the path is not cut
  }
}

TEST_CASE("JSON output survives invalid UTF-8 from the inspected system", "[core]") {
  Report report;
  CheckResult r;
  r.id = "x";
  r.status = CheckStatus::pass;
  r.summary = "name \xff\xfe";
  report.checks = {r};
  std::string out = render_json(report);
  auto parsed = json::parse(out);
  CHECK(parsed["schema"] == "pycheck.report/v1");
  CHECK(parsed["checks"][0]["status"] == "pass");
}

TEST_CASE("JSON output is laid out as dump(2), fields in schema order", "[core][perf]") {
  // What render_json writes reads back as the same document, its fields in
  // schema order, and is byte for byte what dump(2) makes of it.
  auto keys = [](const json& object) {
    std::vector<std::string> out;
    for (const auto& [key, value] : object.items()) out.push_back(key);
    return out;
  };
  const std::vector<std::string> report_keys = {"schema", "schema_revision", "pycheck_version",
                                                "root",   "started_at",      "duration_ms",
                                                "status", "summary",         "checks"};
  const std::vector<std::string> check_keys = {"id",      "title",    "status",      "summary",
                                               "details", "findings", "remediation", "duration_ms"};
  auto check_layout = [&](const Report& report) {
    const std::string out = render_json(report);
    const json parsed = json::parse(out);
    CHECK(keys(parsed) == report_keys);
    REQUIRE(parsed["checks"].size() == report.checks.size());
    for (std::size_t i = 0; i < report.checks.size(); ++i) {
      const json& check = parsed["checks"][i];
      CHECK(keys(check) == check_keys);
      CHECK(check["id"] == report.checks[i].id);
      CHECK(check["details"] == json::parse(report.checks[i].details.dump(
                                    -1, ' ', false, json::error_handler_t::replace)));
      CHECK(check["findings"].size() == report.checks[i].findings.size());
    }
    CHECK(out == parsed.dump(2, ' ', false, json::error_handler_t::replace) + "\n");
  };
  Report report;
  report.pycheck_version = "1.2.3";
  report.root = "/var/lib/\"odd\"\nroot \xff";
  report.started_at = "2026-11-28T00:00:00.000Z";
  report.duration_ms = 12.345678901;
  check_layout(report);  // no checks: "checks": []

  CheckResult plain;
  plain.id = "a.plain";
  plain.title = "Plain";
  plain.status = CheckStatus::pass;
  plain.summary = "all good";
  plain.duration_ms = 0.1;  // details: the default empty object
  CheckResult nested = plain;
  nested.id = "b.nested";
  nested.status = CheckStatus::fail;
  nested.summary = "tab\there, quote \" and backslash \\ and \xc3\x28 bad UTF-8";
  nested.findings = {Finding{CheckStatus::fail, "line one\nline two", "breaks", "cause", "fix",
                             {"cmd \xff"}}};
  nested.duration_ms = 1e-7;
  nested.details = {{"path", "/etc/\xff\xfe"},
                    {"empty_list", json::array()},
                    {"empty_object", json::object()},
                    {"list", {1, -2, 3.5, true, nullptr, "x"}},
                    {"deep", {{"a", {{"b", {{"c", json::array({json::object(), 7})}}}}}}},
                    {"big", std::uint64_t{18446744073709551615u}},
                    {"not_a_number", std::nan("")}};
  CheckResult null_details = plain;
  null_details.id = "c.null";
  null_details.status = CheckStatus::error;
  null_details.details = nullptr;
  CheckResult scalar_details = plain;
  scalar_details.id = "d.scalar";
  scalar_details.status = CheckStatus::skip;
  scalar_details.details = "just a string";
  report.checks = {plain, nested, null_details, scalar_details};
  check_layout(report);
  report.checks = {nested};
  check_layout(report);
}
