// The prometheus renderer, checked with prometheus_client's text parser
// (Debian: python3-prometheus-client). A missing parser makes these tests
// fail, not skip. The junit and tap renderers: output_formats_test.cpp.
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "agent/report/escape.h"
#include "agent/report/report.h"
#include "tests/unit/output_formats_test_support.h"

using namespace pycheck;

namespace {

using namespace formats_test;

const std::string kPrometheusParser = R"PY(
import json, sys
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1], encoding="utf-8", newline="").read()
out = []
for fam in text_string_to_metric_families(text):
    out.append({"name": fam.name, "type": fam.type, "documentation": fam.documentation,
                "samples": [{"name": s.name, "labels": s.labels, "value": s.value,
                             "timestamp": s.timestamp} for s in fam.samples]})
print(json.dumps(out))
)PY";

const json* family(const json& families, std::string_view name) {
  for (const json& f : families) {
    if (f["name"] == name) return &f;
  }
  return nullptr;
}

// A report as a run on the official image produces it: python.path and
// apt.security-updates with the details shapes those checks write.
Report image_report(CheckStatus apt_status) {
  Report report = every_status_report();
  CheckResult path =
      result("python.path", CheckStatus::pass, "python3 → /usr/local/bin/python3.11");
  path.details = {{"commands",
                   {{"python3",
                     {{"python",
                       {{"version", "3.11.2"},
                        {"base", {{"prefix", "/usr/local"}, {"version", "3.11.2"}}}}}}}}}};
  report.checks.push_back(path);
  CheckResult apt = result("apt.security-updates", apt_status, "3 pending security updates");
  if (apt_status != CheckStatus::skip && apt_status != CheckStatus::error) {
    apt.details = {{"pending_count", 3}, {"pending", json::array()}};
  }
  report.checks.push_back(apt);
  return report;
}

}  // namespace

TEST_CASE("prometheus: gauges prometheus_client parses, no timestamps", "[formats]") {
  const Report report = image_report(CheckStatus::warn);
  const std::string text = render_prometheus(report);
  CHECK(text.back() == '\n');
  CHECK(text.find("pycheck_check_success{check=\"a.pass\"} 1\n") != std::string::npos);
  CHECK(text.find("pycheck_check_success{check=\"e.error\"} 0\n") != std::string::npos);
  CHECK(text.find("pycheck_last_run_timestamp_seconds 1795867200.25\n") != std::string::npos);
  CHECK(text.find("pycheck_check_duration_seconds{check=\"a.pass\"} 0.0125\n") !=
        std::string::npos);

  const json families = parse_with_python(kPrometheusParser, text);
  // Each metric exactly once (groups uninterrupted), all gauges with HELP.
  std::set<std::string> names;
  for (const json& f : families) {
    CHECK(names.insert(f["name"].get<std::string>()).second);
    CHECK(f["type"] == "gauge");
    CHECK_FALSE(f["documentation"].get<std::string>().empty());
    for (const json& s : f["samples"]) CHECK(s["timestamp"].is_null());
  }
  CHECK(names == std::set<std::string>{"pycheck_check_success", "pycheck_check_status",
                                       "pycheck_check_duration_seconds",
                                       "pycheck_last_run_timestamp_seconds",
                                       "pycheck_security_updates_pending", "pycheck_build_info",
                                       "pycheck_python_info"});
  const json* success = family(families, "pycheck_check_success");
  REQUIRE(success != nullptr);
  std::map<std::string, double> ok;
  for (const json& s : (*success)["samples"]) ok[s["labels"]["check"]] = s["value"];
  CHECK(ok == std::map<std::string, double>{{"a.pass", 1},
                                            {"b.warn", 1},
                                            {"c.fail", 0},
                                            {"d.skip", 1},
                                            {"e.error", 0},
                                            {"python.path", 1},
                                            {"apt.security-updates", 1}});
  // One-hot: exactly one 1 per check, on its own status.
  const json* status = family(families, "pycheck_check_status");
  REQUIRE(status != nullptr);
  CHECK((*status)["samples"].size() == 7 * 5);
  std::map<std::string, std::string> hot;
  for (const json& s : (*status)["samples"]) {
    if (s["value"] == 1.0) {
      CHECK(hot.emplace(s["labels"]["check"], s["labels"]["status"]).second);
    } else {
      CHECK(s["value"] == 0.0);
    }
  }
  CHECK(hot["c.fail"] == "fail");
  CHECK(hot["d.skip"] == "skip");
  CHECK(hot["e.error"] == "error");
  CHECK(hot.size() == 7);
  CHECK((*family(families, "pycheck_security_updates_pending"))["samples"][0]["value"] == 3.0);
  CHECK((*family(families, "pycheck_last_run_timestamp_seconds"))["samples"][0]["value"] ==
        1795867200.25);
  CHECK((*family(families, "pycheck_build_info"))["samples"][0]["labels"] ==
        json({{"version", "0.1.0"}}));
  CHECK((*family(families, "pycheck_python_info"))["samples"][0]["labels"] ==
        json({{"version", "3.11.2"}, {"prefix", "/usr/local"}}));
}

TEST_CASE("prometheus: pending updates and python info only when known", "[formats]") {
  for (CheckStatus s : {CheckStatus::pass, CheckStatus::fail}) {
    CHECK(render_prometheus(image_report(s)).find("\npycheck_security_updates_pending 3\n") !=
          std::string::npos);
  }
  for (CheckStatus s : {CheckStatus::skip, CheckStatus::error}) {
    CHECK(render_prometheus(image_report(s)).find("pycheck_security_updates_pending") ==
          std::string::npos);
  }
  Report bare = every_status_report();  // no python.path, no apt check
  bare.started_at = "not a time";
  const std::string text = render_prometheus(bare);
  CHECK(text.find("pycheck_python_info") == std::string::npos);
  CHECK(text.find("pycheck_security_updates_pending") == std::string::npos);
  CHECK(text.find("pycheck_last_run_timestamp_seconds") == std::string::npos);
  CHECK(text.find("pycheck_build_info{version=\"0.1.0\"} 1\n") != std::string::npos);
  Report unknown_python = image_report(CheckStatus::pass);
  unknown_python.checks[5].status = CheckStatus::fail;
  unknown_python.checks[5].details = {{"commands", {{"python3", {{"python", nullptr}}}}}};
  CHECK(render_prometheus(unknown_python).find("pycheck_python_info") == std::string::npos);
}

TEST_CASE("prometheus: hostile label values are escaped and read back exactly", "[formats]") {
  Report report = image_report(CheckStatus::pass);
  report.checks[0].id = kHostile;
  report.checks[5].details["commands"]["python3"]["python"]["base"]["prefix"] = kHostile;
  const std::string text = render_prometheus(report);
  CHECK(text.find("\\\"") != std::string::npos);
  CHECK(text.find("\\n") != std::string::npos);
  const json families = parse_with_python(kPrometheusParser, text);
  bool found = false;
  for (const json& s : (*family(families, "pycheck_check_success"))["samples"]) {
    found = found || s["labels"]["check"] == hostile_as_utf8();
  }
  CHECK(found);
  CHECK((*family(families, "pycheck_python_info"))["samples"][0]["labels"]["prefix"] ==
        hostile_as_utf8());
}
