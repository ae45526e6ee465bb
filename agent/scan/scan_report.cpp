#include "agent/scan/scan_report.h"

#include <algorithm>

#include "agent/report/prometheus_text.h"

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

ContainerReport summarize_report(const Report& report, bool keep_json) {
  ContainerReport summary;
  summary.overall = report.overall();
  for (const CheckResult& r : report.checks) summary.checks.push_back({r.id, r.status});
  summary.security_updates_pending = security_updates_pending(report);
  if (keep_json) summary.json = render_json(report);
  return summary;
}

std::vector<std::string> checks_with(const ContainerReport& report, CheckStatus status) {
  std::vector<std::string> ids;
  for (const ContainerReport::Check& c : report.checks) {
    if (c.status == status) ids.push_back(c.id);
  }
  return ids;
}

std::vector<std::string> failing_checks(const ContainerReport& report) {
  std::vector<std::string> ids;
  for (const ContainerReport::Check& c : report.checks) {
    if (c.status == CheckStatus::fail || c.status == CheckStatus::error) ids.push_back(c.id);
  }
  return ids;
}

bool ScanReport::failing(const ScannedContainer& container) const {
  if (!container.report) return false;
  const CheckStatus o = container.report->overall;
  return o == CheckStatus::fail || o == CheckStatus::error ||
         (o == CheckStatus::warn && fail_on == CheckStatus::warn);
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

namespace {

// A placeholder for a container's report while the rest is dumped: a number
// no field of the scan has, after a key no dumped string can hold unescaped.
constexpr std::uint64_t kReportPlaceholder = 9007199254740993ULL;  // 2^53 + 1
constexpr std::string_view kPlaceholderText = "\"report\": 9007199254740993";

json scan_without_reports(const ScanReport& scan) {
  const ScanTotals t = scan.totals();
  json containers = json::array();
  for (const ScannedContainer& c : scan.containers) {
    const ContainerIdentity& id = c.identity;
    json entry = {{"state", to_string(c.state)}, {"reason", c.reason}};
    if (c.report) {
      entry["verdict"] = to_string(c.report->overall);
      entry["failing_checks"] = failing_checks(*c.report);
      if (!c.report->json.empty()) entry["report"] = kReportPlaceholder;
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

}  // namespace

std::string render_scan_json(const ScanReport& scan) {
  // Invalid UTF-8 (names and files come from the containers) is replaced, as in render_json.
  const std::string outline =
      scan_without_reports(scan).dump(2, ' ', false, json::error_handler_t::replace);
  // Each report goes where its placeholder is, in order, indented to its place.
  std::string out;
  std::size_t size = outline.size() + 1;
  for (const ScannedContainer& c : scan.containers) {
    if (!c.report) continue;
    const std::string& json = c.report->json;  // each line gains the entry's indentation
    size += json.size() + 8 * static_cast<std::size_t>(std::count(json.begin(), json.end(), '\n'));
  }
  out.reserve(size);  // one allocation: a node's scan JSON runs to megabytes
  std::size_t from = 0;
  for (const ScannedContainer& c : scan.containers) {
    if (!c.report || c.report->json.empty()) continue;
    const std::size_t at = outline.find(kPlaceholderText, from);
    if (at == std::string::npos) break;
    const std::size_t line = outline.rfind('\n', at) + 1;
    const std::string indent = "\n" + outline.substr(line, at - line);
    out.append(outline, from, at - from);
    out += "\"report\": ";
    std::string_view report = c.report->json;
    if (report.ends_with('\n')) report.remove_suffix(1);
    for (std::size_t pos = 0; pos < report.size();) {
      const std::size_t nl = report.find('\n', pos);  // dumped strings hold no raw newline
      if (nl == std::string_view::npos) {
        out.append(report.substr(pos));
        break;
      }
      out.append(report.substr(pos, nl - pos));
      out += indent;
      pos = nl + 1;
    }
    from = at + kPlaceholderText.size();
  }
  out.append(outline, from);
  out += '\n';
  return out;
}

}  // namespace pycheck
