// The scan report: verdict, exit code, JSON, text and Prometheus, and serve
// --scan's endpoints, from a scan made of known containers.
#include <catch2/catch.hpp>

#include "agent/scan/scan_report.h"
#include "agent/serve/health_endpoints.h"
#include "agent/serve/scan_scheduler.h"

using namespace pycheck;

namespace {

CheckResult result(std::string id, CheckStatus status, json details = json::object()) {
  CheckResult r;
  r.id = std::move(id);
  r.title = r.id;
  r.status = status;
  r.summary = "summary of " + r.id;
  r.details = std::move(details);
  return r;
}

ScannedContainer container(std::string ns, std::string pod, std::string name, std::string id,
                           ContainerState state, std::optional<Report> full = std::nullopt) {
  std::optional<ContainerReport> report;
  if (full) report = summarize_report(*full, true);
  ScannedContainer c;
  c.identity.runtime = ContainerRuntime::containerd;
  c.identity.namespace_name = std::move(ns);
  c.identity.pod = std::move(pod);
  c.identity.container = std::move(name);
  c.identity.container_id = std::move(id);
  c.state = state;
  c.report = std::move(report);
  if (state != ContainerState::checked) c.reason = "because";
  return c;
}

Report report_of(std::vector<CheckResult> checks) {
  Report r;
  r.pycheck_version = "0.1.0";
  r.started_at = "2026-12-07T04:00:00.000Z";
  r.checks = std::move(checks);
  return r;
}

ScanReport sample_scan() {
  ScanReport scan;
  scan.pycheck_version = "0.1.0";
  scan.started_at = "2026-12-07T04:00:00.000Z";
  scan.jobs = 2;
  const std::string a(64, 'a'), b(64, 'b'), c(64, 'c'), d(64, 'd');
  scan.containers.push_back(container(
      "shop", "web-1", "app", a, ContainerState::checked,
      report_of({result("python.path", CheckStatus::pass),
                 result("tls.ca-certificates", CheckStatus::fail),
                 result("apt.security-updates", CheckStatus::warn, {{"pending_count", 3}})})));
  scan.containers.push_back(container("", "", "", b, ContainerState::checked,
                                      report_of({result("python.path", CheckStatus::warn)})));
  scan.containers.push_back(container("shop", "web-1", "", c, ContainerState::sandbox));
  scan.containers.push_back(container("shop", "db-0", "postgres", d, ContainerState::no_python));
  scan.processes_denied = 1;
  return scan;
}

}  // namespace

TEST_CASE("a scan fails when a checked container fails or a container could not be read",
          "[scan]") {
  ScanReport scan = sample_scan();
  ScanTotals t = scan.totals();
  CHECK(t.containers == 4);
  CHECK(t.checked == 2);
  CHECK(t.failing == 1);
  CHECK(t.sandboxes == 1);
  CHECK(t.no_python == 1);
  CHECK(scan.exit_code() == 1);
  scan.containers.erase(scan.containers.begin());
  CHECK(scan.exit_code() == 0);  // a warning passes, a sandbox and no Python are no failures
  scan.fail_on = CheckStatus::warn;
  CHECK(scan.exit_code() == 1);
  scan.fail_on = CheckStatus::fail;
  scan.containers.push_back(container("", "", "x", std::string(64, 'e'), ContainerState::denied));
  CHECK(scan.exit_code() == 1);  // never healthy when a container could not be read
  scan.containers.pop_back();
  scan.scanner_error = "cannot list processes";
  CHECK(scan.exit_code() == 1);
}

TEST_CASE("the scan's text: the verdict first, one line per container", "[scan]") {
  const std::string text = render_scan_text(sample_scan(), false);
  CHECK(text.starts_with(
      "pycheck scan: FAIL — 4 containers: 2 checked (1 failing), 1 without Python, 1 sandbox\n"));
  CHECK(text.find("\n  FAIL       shop/web-1/app      containerd aaaaaaaaaaaa  tls.ca-certificates\n") !=
        std::string::npos);
  CHECK(text.find("  WARN       bbbbbbbbbbbb        containerd bbbbbbbbbbbb  python.path\n") !=
        std::string::npos);
  CHECK(text.find("  NO-PYTHON  shop/db-0/postgres  containerd dddddddddddd  because\n") !=
        std::string::npos);
  CHECK(text.find("1 process pycheck may not read") != std::string::npos);
  CHECK(text.find('\033') == std::string::npos);
}

TEST_CASE("the scan's JSON: schema, totals, one v1 report per checked container", "[scan]") {
  const std::string text = render_scan_json(sample_scan());
  json j = json::parse(text);
  CHECK(j["schema"] == "pycheck.scan/v1");
  CHECK(j["totals"]["containers"] == 4);
  CHECK(j["totals"]["failing"] == 1);
  CHECK(j["containers"][0]["verdict"] == "fail");
  CHECK(j["containers"][0]["failing_checks"] == json::array({"tls.ca-certificates"}));
  CHECK(j["containers"][0]["report"]["schema"] == "pycheck.report/v1");
  CHECK(j["containers"][2]["state"] == "sandbox");
  CHECK_FALSE(j["containers"][2].contains("report"));
  CHECK(j["containers"][3]["state"] == "no-python");
  CHECK(j["scanner_ok"] == true);
  // The report is the one render_json writes, indented to its place.
  CHECK(j["containers"][0]["report"] ==
        json::parse(sample_scan().containers[0].report->json));
  CHECK(text.find("\n      \"report\": {\n        \"schema\": \"pycheck.report/v1\",\n") !=
        std::string::npos);
}

TEST_CASE("a container named like the placeholder cannot move a report", "[scan]") {
  ScanReport scan = sample_scan();
  scan.containers[0].identity.container = "\"report\": 9007199254740993";
  scan.containers[0].identity.pod = "x\n\"report\": 9007199254740993";
  json j = json::parse(render_scan_json(scan));
  CHECK(j["containers"][0]["identity"]["container"] == "\"report\": 9007199254740993");
  CHECK(j["containers"][0]["report"]["schema"] == "pycheck.report/v1");
  CHECK(j["containers"][1]["report"]["schema"] == "pycheck.report/v1");
}

TEST_CASE("the scan's metrics: per-container series labelled exactly namespace, pod, container",
          "[scan]") {
  const std::string m = render_scan_prometheus(sample_scan());
  CHECK(m.find("pycheck_container_check_success{namespace=\"shop\",pod=\"web-1\",container=\"app\","
               "check=\"tls.ca-certificates\"} 0\n") != std::string::npos);
  CHECK(m.find("pycheck_container_check_severity{namespace=\"shop\",pod=\"web-1\",container=\"app\","
               "check=\"apt.security-updates\"} 1\n") != std::string::npos);
  CHECK(m.find("pycheck_container_security_updates_pending{namespace=\"shop\",pod=\"web-1\","
               "container=\"app\"} 3\n") != std::string::npos);
  // No names: the short id stands for the container, with empty pod and namespace.
  CHECK(m.find("pycheck_container_check_success{namespace=\"\",pod=\"\",container=\"bbbbbbbbbbbb\","
               "check=\"python.path\"} 1\n") != std::string::npos);
  CHECK(m.find("pycheck_container_python{namespace=\"shop\",pod=\"db-0\",container=\"postgres\"} 0\n") !=
        std::string::npos);
  CHECK(m.find("pycheck_scan_containers{state=\"sandbox\"} 1\n") != std::string::npos);
  CHECK(m.find("pycheck_scan_success 1\n") != std::string::npos);
  // The sandbox has no per-container series.
  CHECK(m.find("container=\"\",") == std::string::npos);
}

TEST_CASE("two containers under the same names make one set of series, not a rejected scrape",
          "[scan]") {
  ScanReport scan = sample_scan();
  scan.containers.push_back(scan.containers.front());
  scan.containers.back().identity.container_id = std::string(64, 'f');
  const std::string m = render_scan_prometheus(scan);
  const std::string series =
      "pycheck_container_check_success{namespace=\"shop\",pod=\"web-1\",container=\"app\","
      "check=\"python.path\"}";
  const std::size_t first = m.find(series);
  REQUIRE(first != std::string::npos);
  CHECK(m.find(series, first + 1) == std::string::npos);
  // The newer one speaks for both: here its python.path fails.
  scan.containers.back().report->checks[0].status = CheckStatus::fail;
  CHECK(render_scan_prometheus(scan).find(series + " 0\n") != std::string::npos);
}

TEST_CASE("a pod's container whose pod is not named is known by its short id", "[scan]") {
  ScanReport scan = sample_scan();
  scan.containers[0].identity.pod.clear();
  scan.containers[0].identity.namespace_name.clear();
  scan.containers[0].identity.pod_uid = "0f1e2d3c-4b5a-6978-8a9b-acbdcedf0123";
  const std::string m = render_scan_prometheus(scan);
  CHECK(m.find("{namespace=\"\",pod=\"\",container=\"aaaaaaaaaaaa\",check=\"python.path\"}") !=
        std::string::npos);
  CHECK(m.find("container=\"app\"") == std::string::npos);
}

TEST_CASE("serve --scan: /readyz tells whether the scanner works, not the containers", "[scan]") {
  ScanReport scan = sample_scan();  // a failing container
  auto ok = make_scan_snapshot(render_scan_json(scan), render_scan_prometheus(scan), "");
  HealthRequest get{"GET", "/readyz", {}, false};
  CHECK(respond(get, ok.get()).status == 200);
  auto broken = make_scan_snapshot("{}", "", "cannot list processes: /proc: Permission denied");
  HealthResponse r = respond(get, broken.get());
  CHECK(r.status == 503);
  CHECK(r.content().find("cannot list processes") != std::string::npos);
  HealthRequest one{"GET", "/readyz/python.path", {}, false};
  CHECK(respond(one, ok.get()).status == 404);
  HealthRequest report{"GET", "/report", {}, false};
  HealthResponse body = respond(report, ok.get());
  CHECK(body.status == 200);
  CHECK(json::parse(body.content())["schema"] == "pycheck.scan/v1");
  CHECK(respond(get, nullptr).status == 503);  // before the first scan
}

TEST_CASE("serve --scan: a scanner that stopped publishing is overdue, not ready", "[scan]") {
  using std::chrono::milliseconds;
  const auto published = std::chrono::steady_clock::time_point(std::chrono::hours(1));
  const milliseconds interval(60'000), scan_timeout(60'000);
  CHECK_FALSE(scan_overdue(published, published, interval, scan_timeout));
  // A scan due after the interval may take its whole deadline and grace.
  CHECK_FALSE(scan_overdue(published, published + interval + scan_timeout + milliseconds(5000),
                           interval, scan_timeout));
  CHECK(scan_overdue(published, published + interval + scan_timeout + milliseconds(5001), interval,
                     scan_timeout));
}
