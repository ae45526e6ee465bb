// The report the program writes: times, severity overrides, the verdict and
// exit codes, text output and JSON output (the runner: core_test.cpp).
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>

#include "agent/cli/config.h"
#include "agent/core/environment.h"
#include "agent/report/report.h"
#include "agent/run/runner.h"
#include "checks/check_table.h"

using namespace pycheck;
using namespace std::chrono_literals;

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
