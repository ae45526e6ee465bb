// A node scan as Prometheus gauges. Per-container series carry exactly the
// labels namespace, pod and container (and check), the names cAdvisor and
// kube-state-metrics use, so PromQL joins with theirs work; on a host without
// Kubernetes, namespace and pod are empty and container is the runtime's name
// (else the short id). Nothing else goes into labels: no messages, paths or
// versions (one series per container and check, and no more). A container
// that is gone is simply absent from the next scan's series.
#include <map>

#include "agent/report/prometheus_text.h"
#include "agent/scan/scan_report.h"

namespace pycheck {
namespace {

double severity(CheckStatus status) {
  switch (status) {
    case CheckStatus::pass:
    case CheckStatus::skip: return 0;
    case CheckStatus::warn: return 1;
    case CheckStatus::fail: return 2;
    case CheckStatus::error: return 3;
  }
  return 3;
}

// A container name alone says which container only where there are no pods
// (plain Docker, Podman): a pod's container whose pod could not be named is
// known by its short id, not confused with another pod's "app".
PrometheusLabels container_labels(const ContainerIdentity& id) {
  const bool name_is_enough = !id.container.empty() && (!id.pod.empty() || id.pod_uid.empty());
  return {{"namespace", id.namespace_name},
          {"pod", id.pod},
          {"container", name_is_enough ? id.container : id.container_id.substr(0, 12)}};
}

}  // namespace

std::string render_scan_prometheus(const ScanReport& scan) {
  std::vector<PrometheusSample> success, severities, pending, python;
  // Two containers under the same names (a restart caught mid-way) would make
  // duplicate series, which Prometheus rejects with the whole scrape: the
  // last in scan order (the newest) speaks for them.
  const auto has_series = [](const ScannedContainer& c) {
    return c.report.has_value() || c.state == ContainerState::no_python;
  };
  std::map<PrometheusLabels, const ScannedContainer*> newest;
  for (const ScannedContainer& c : scan.containers) {
    if (has_series(c)) newest[container_labels(c.identity)] = &c;
  }
  for (const ScannedContainer& c : scan.containers) {
    if (!has_series(c)) continue;
    const bool has_report = c.report.has_value();
    PrometheusLabels labels = container_labels(c.identity);
    if (newest[labels] != &c) continue;
    python.push_back({labels, has_report ? 1.0 : 0.0});
    if (!has_report) continue;
    for (const ContainerReport::Check& r : c.report->checks) {
      PrometheusLabels with_check = labels;
      with_check.emplace_back("check", r.id);
      const bool ok = r.status == CheckStatus::pass || r.status == CheckStatus::warn ||
                      r.status == CheckStatus::skip;
      success.push_back({with_check, ok ? 1.0 : 0.0});
      severities.push_back({std::move(with_check), severity(r.status)});
    }
    if (auto count = c.report->security_updates_pending) pending.push_back({labels, *count});
  }

  std::string out;
  add_prometheus_gauge(out, "pycheck_container_check_success",
                       "1 if the container's check passed, warned or was skipped, 0 if it "
                       "failed or could not tell (error).",
                       success);
  add_prometheus_gauge(out, "pycheck_container_check_severity",
                       "The container's check: 0 passed or skipped, 1 warned, 2 failed, 3 could "
                       "not tell (error).",
                       severities);
  add_prometheus_gauge(out, "pycheck_container_security_updates_pending",
                       "Installed packages with a newer version in the container's security "
                       "repositories (absent: unknown).",
                       pending);
  add_prometheus_gauge(out, "pycheck_container_python",
                       "1 if the container was checked, 0 if it has no Python on its PATH.",
                       python);

  const ScanTotals t = scan.totals();
  const std::pair<const char*, int> states[] = {
      {"checked", t.checked},         {"no_python", t.no_python}, {"sandbox", t.sandboxes},
      {"denied", t.denied},           {"vanished", t.vanished},   {"stale", t.stale},
      {"unsupported", t.unsupported}, {"not_checked", t.not_checked}};
  std::vector<PrometheusSample> containers;
  for (const auto& [state, n] : states) containers.push_back({{{"state", state}}, double(n)});
  add_prometheus_gauge(out, "pycheck_scan_containers", "Containers the last scan found, by state.",
                       containers);
  add_prometheus_gauge(out, "pycheck_scan_containers_failing",
                       "Checked containers with a failing check (or one that could not tell).",
                       {{{}, double(t.failing)}});
  add_prometheus_gauge(out, "pycheck_scan_processes_vanished",
                       "Processes that exited while the last scan read them.",
                       {{{}, double(t.processes_vanished)}});
  add_prometheus_gauge(out, "pycheck_scan_processes_denied",
                       "Processes the last scan may not read (and in no container's cgroup).",
                       {{{}, double(t.processes_denied)}});
  add_prometheus_gauge(out, "pycheck_scan_duration_seconds", "How long the last scan took.",
                       {{{}, scan.duration_ms / 1000.0}});
  if (auto started = parse_started_at(scan.started_at)) {
    add_prometheus_gauge(out, "pycheck_scan_last_timestamp_seconds",
                         "When the last scan started, seconds since the epoch.",
                         {{{}, *started}});
  }
  add_prometheus_gauge(out, "pycheck_scan_success",
                       "1 if the last scan itself worked (it could list and read processes).",
                       {{{}, scan.scanner_error.empty() ? 1.0 : 0.0}});
  add_prometheus_gauge(out, "pycheck_build_info", "pycheck's version.",
                       {{{{"version", scan.pycheck_version}}, 1.0}});
  return out;
}

}  // namespace pycheck
