#include "agent/scan/scan_report.h"

namespace pycheck {

std::string_view to_string(ContainerState state) {
  switch (state) {
    case ContainerState::checked: return "checked";
    case ContainerState::no_python: return "no-python";
    case ContainerState::sandbox: return "sandbox";
    case ContainerState::denied: return "denied";
    case ContainerState::vanished: return "vanished";
    case ContainerState::stale: return "stale";
    case ContainerState::unsupported: return "unsupported";
    case ContainerState::not_checked: return "not-checked";
  }
  return "?";
}

std::vector<std::string> failing_checks(const Report& report) {
  std::vector<std::string> ids;
  for (const CheckResult& r : report.checks) {
    if (r.status == CheckStatus::fail || r.status == CheckStatus::error) ids.push_back(r.id);
  }
  return ids;
}

bool ScanReport::failing(const ScannedContainer& container) const {
  return container.report && container.report->exit_code(fail_on) != 0;
}

ScanTotals ScanReport::totals() const {
  ScanTotals t;
  t.containers = static_cast<int>(containers.size());
  for (const ScannedContainer& c : containers) {
    switch (c.state) {
      case ContainerState::checked: ++t.checked; break;
      case ContainerState::no_python: ++t.no_python; break;
      case ContainerState::sandbox: ++t.sandboxes; break;
      case ContainerState::denied: ++t.denied; break;
      case ContainerState::vanished: ++t.vanished; break;
      case ContainerState::stale: ++t.stale; break;
      case ContainerState::unsupported: ++t.unsupported; break;
      case ContainerState::not_checked: ++t.not_checked; break;
    }
    if (failing(c)) ++t.failing;
  }
  t.other_namespaces = other_namespaces;
  t.processes_vanished = processes_vanished;
  t.processes_denied = processes_denied;
  return t;
}

int ScanReport::exit_code() const {
  const ScanTotals t = totals();
  const bool unknown = t.denied + t.unsupported + t.not_checked > 0;
  return scanner_error.empty() && t.failing == 0 && !unknown ? 0 : 1;
}

json scan_to_json(const ScanReport& scan) {
  const ScanTotals t = scan.totals();
  json containers = json::array();
  for (const ScannedContainer& c : scan.containers) {
    const ContainerIdentity& id = c.identity;
    json entry = {{"state", to_string(c.state)}, {"reason", c.reason}};
    if (c.report) {
      entry["verdict"] = to_string(c.report->overall());
      entry["failing_checks"] = failing_checks(*c.report);
    }
    entry["identity"] = {{"runtime", to_string(id.runtime)},
                         {"container_id", id.container_id},
                         {"pod_uid", id.pod_uid},
                         {"namespace", id.namespace_name},
                         {"pod", id.pod},
                         {"container", id.container},
                         {"image", id.image},
                         {"names_from", id.names_from},
                         {"cgroup", id.cgroup},
                         {"pid", id.pid},
                         {"pid_rule", id.pid_rule},
                         {"mount_namespace", id.mount_namespace},
                         {"processes", id.processes}};
    if (c.report) entry["report"] = report_to_json(*c.report);
    containers.push_back(std::move(entry));
  }
  return {
      {"schema", kScanSchema},
      {"schema_revision", kScanSchemaRevision},
      {"pycheck_version", scan.pycheck_version},
      {"started_at", scan.started_at},
      {"duration_ms", scan.duration_ms},
      {"node_root", scan.node_root},
      {"options",
       {{"jobs", scan.jobs},
        {"timeout_ms", scan.timeout_ms},
        {"scan_timeout_ms", scan.scan_timeout_ms},
        {"all", scan.all},
        {"fail_on", to_string(scan.fail_on)}}},
      {"scanner_ok", scan.scanner_error.empty()},
      {"scanner_error", scan.scanner_error},
      {"totals",
       {{"containers", t.containers},
        {"checked", t.checked},
        {"failing", t.failing},
        {"no_python", t.no_python},
        {"sandboxes", t.sandboxes},
        {"denied", t.denied},
        {"vanished", t.vanished},
        {"unsupported", t.unsupported},
        {"stale", t.stale},
        {"not_checked", t.not_checked},
        {"other_namespaces", t.other_namespaces},
        {"processes_vanished", t.processes_vanished},
        {"processes_denied", t.processes_denied}}},
      {"containers", std::move(containers)},
  };
}

std::string render_scan_json(const ScanReport& scan) {
  // Invalid UTF-8 (names and files come from the containers) is replaced, as in render_json.
  return scan_to_json(scan).dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace pycheck
