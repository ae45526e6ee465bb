// The report: what one run found, independent of how it is rendered.
#pragma once

#include <string>
#include <vector>

#include "agent/core/check.h"

namespace pycheck {

inline constexpr std::string_view kReportSchema = "pycheck.report/v1";
// Additive changes within v1 count up here: 2 added each check's `findings`.
inline constexpr int kReportSchemaRevision = 2;

struct StatusCounts {
  int pass = 0, warn = 0, fail = 0, skip = 0, error = 0;
};

struct Report {
  std::string pycheck_version;
  std::string root;
  std::string started_at;  // RFC 3339, UTC
  double duration_ms = 0;
  std::vector<CheckResult> checks;

  StatusCounts counts() const;
  // The overall verdict: fail if any check failed, else error if any could
  // not tell, else warn if any warned, else pass (skips do not count).
  CheckStatus overall() const;
  // 0 when nothing failed (and, with fail_on=warn, nothing warned), else 1.
  // An error is a failure: a probe must not say healthy when it could not tell.
  int exit_code(CheckStatus fail_on) const;
};

// Renderers. The first line of text output is always the one-line verdict
// (Docker keeps only the first 4096 bytes of a health check's output).
std::string verdict_line(const Report& report);
struct TextOptions {
  bool color = false;
  std::size_t width = 100;  // wrap here: the terminal's width on a TTY, else 100
  bool verbose = false;     // also the flat facts of each check's details
};
std::string render_text(const Report& report, const TextOptions& options);
// A check's findings and fix block as the text report writes them, without
// its indentation (JUnit bodies); empty when it has none.
std::string render_findings_text(const CheckResult& result);
json finding_to_json(const Finding& finding);
// The JSON report (schema pycheck.report/v1, agent/report/report.schema.json):
// report_to_json as dump(2) writes it, plus a newline.
json report_to_json(const Report& report);
std::string render_json(const Report& report);
// JUnit XML: one <testsuite name="pycheck">, one <testcase> per check;
// fail -> <failure>, error -> <error>, skip -> <skipped>, warn -> passes
// with the warning in <system-out>. Always well-formed XML 1.0.
std::string render_junit(const Report& report);
// TAP: "TAP version 13" (what Perl's TAP::Parser accepts; TAP 14 readers read
// it too), "1..N", one "ok"/"not ok" line per check, YAML diagnostics for
// warn/fail/error, "# SKIP" for skips. See agent/report/render_tap.cpp.
std::string render_tap(const Report& report);
// Prometheus text exposition format 0.0.4 (no sample timestamps, so
// node_exporter's textfile collector accepts it). Ends with a newline.
// pycheck_security_updates_pending and pycheck_python_info are absent when
// unknown. Safe to call from any thread (serve's /metrics).
std::string render_prometheus(const Report& report);

std::string format_rfc3339(std::chrono::system_clock::time_point t);

}  // namespace pycheck
