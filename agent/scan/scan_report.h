// The report of a node scan: one entry per container with its identity, its
// state and (when it was checked) its pycheck.report/v1 report; totals; and
// how the scan itself went. Renderers: JSON (schema pycheck.scan/v1,
// agent/scan/scan.schema.json), text, Prometheus.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/report/report.h"
#include "agent/scan/container_discovery.h"

namespace pycheck {

inline constexpr std::string_view kScanSchema = "pycheck.scan/v1";
inline constexpr int kScanSchemaRevision = 1;

enum class ContainerState {
  checked,      // its checks ran
  no_python,    // no python3 or python on its PATH: not checked (--all checks it)
  sandbox,      // a pod's pause container
  denied,       // pycheck may not read its root or environment
  vanished,     // it exited before its check started
  stale,        // it exited during its check: the report is kept, marked
  unsupported,  // its files are not visible from the node (Kata, gVisor)
  not_checked,  // the scan's deadline came first, or a check of it is still stuck
};
std::string_view to_string(ContainerState state);  // "no-python", "not-checked", ...

// What a scan keeps of a container's report: the statuses, the pending count
// and, when the scan's JSON is wanted, the report's JSON text (as render_json
// writes it). Text is several times smaller than the Report it comes from, so
// a node's scan holds little more than what it will print.
struct ContainerReport {
  struct Check {
    std::string id;
    CheckStatus status;
  };
  CheckStatus overall = CheckStatus::pass;
  std::vector<Check> checks;
  std::optional<double> security_updates_pending;  // absent: unknown
  std::string json;  // pycheck.report/v1; empty unless kept
};
ContainerReport summarize_report(const Report& report, bool keep_json);

struct ScannedContainer {
  ContainerIdentity identity;
  ContainerState state = ContainerState::checked;
  std::string reason;                     // why, for every state but checked
  std::optional<ContainerReport> report;  // checked and stale
};

struct ScanTotals {
  int containers = 0, checked = 0, failing = 0, no_python = 0, sandboxes = 0, denied = 0,
      vanished = 0, unsupported = 0, stale = 0, not_checked = 0;
  int other_namespaces = 0, processes_vanished = 0, processes_denied = 0;
};

struct ScanReport {
  std::string pycheck_version;
  std::string started_at;  // RFC 3339, UTC
  double duration_ms = 0;
  std::string node_root;
  int jobs = 0;
  double timeout_ms = 0, scan_timeout_ms = 0;
  bool all = false;
  CheckStatus fail_on = CheckStatus::fail;
  std::string scanner_error;  // empty: the scan itself worked
  std::vector<ScannedContainer> containers;
  int other_namespaces = 0, processes_vanished = 0, processes_denied = 0;
  int abandoned_checks = 0;  // check threads still stuck in a read at their deadline

  ScanTotals totals() const;
  // A checked container fails when its report would exit 1 under fail_on.
  bool failing(const ScannedContainer& container) const;
  // 0: every checked container passes and none was left unknown (denied,
  // unsupported, not checked), and the scan worked; else 1.
  int exit_code() const;
};

// The checks that failed or could not tell; with_status warn: the warnings.
std::vector<std::string> checks_with(const ContainerReport& report, CheckStatus status);
std::vector<std::string> failing_checks(const ContainerReport& report);

// The pycheck.scan/v1 JSON text; each container's report is its kept JSON.
std::string render_scan_json(const ScanReport& scan);
// First line: the verdict; then one line per container; then the totals.
std::string render_scan_text(const ScanReport& scan, bool color);
std::string scan_verdict_line(const ScanReport& scan);
// Per-container series labelled exactly namespace, pod, container (and check),
// plus scan gauges. Safe to call from any thread.
std::string render_scan_prometheus(const ScanReport& scan);

}  // namespace pycheck
