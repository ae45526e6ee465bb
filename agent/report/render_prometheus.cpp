// Prometheus text exposition format 0.0.4: what one run found, as gauges.
//
// No sample carries a timestamp: node_exporter's textfile collector rejects a
// whole file that has one. Each metric's lines form one uninterrupted group
// (HELP, TYPE, samples), and every label value is valid UTF-8 escaped per the
// format (\\, \", \n). The run's own time is a metric instead,
// pycheck_last_run_timestamp_seconds, so staleness can be alerted on.
#include <cmath>
#include <cstdio>
#include <ctime>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "agent/core/metric_details.h"
#include "agent/core/text.h"
#include "agent/report/escape.h"
#include "agent/report/prometheus_text.h"
#include "agent/report/report.h"

namespace pycheck {
namespace {

constexpr CheckStatus kStatuses[] = {CheckStatus::pass, CheckStatus::warn, CheckStatus::fail,
                                     CheckStatus::skip, CheckStatus::error};

// The value at `keys` inside nested objects, or null when any step is missing.
const json* find_path(const json& root, std::span<const char* const> keys) {
  const json* at = &root;
  for (const char* key : keys) {
    if (!at->is_object()) return nullptr;
    auto it = at->find(key);
    if (it == at->end()) return nullptr;
    at = &*it;
  }
  return at;
}


// python3's version and installation prefix from python.path's details
// (commands.python3.python: version, base.prefix); nullopt when unknown.
std::optional<std::pair<std::string, std::string>> python_info(const Report& report) {
  const CheckResult* r = find_result(report, metric_details::kPythonPathCheck);
  if (r == nullptr) return std::nullopt;
  const json* version = find_path(r->details, metric_details::kPython3Version);
  const json* prefix = find_path(r->details, metric_details::kPython3Prefix);
  if (version == nullptr || !version->is_string() || version->get<std::string>().empty()) {
    return std::nullopt;
  }
  return std::make_pair(version->get<std::string>(),
                        prefix != nullptr && prefix->is_string() ? prefix->get<std::string>() : "");
}

}  // namespace

std::string render_prometheus(const Report& report) {
  std::vector<PrometheusSample> success, status, duration;
  for (const CheckResult& r : report.checks) {
    // A warning is a success here as in the exit code (without --fail-on warn);
    // pycheck_check_status tells warn apart.
    const bool ok = r.status == CheckStatus::pass || r.status == CheckStatus::warn ||
                    r.status == CheckStatus::skip;
    success.push_back({{{"check", r.id}}, ok ? 1.0 : 0.0});
    // Microseconds are plenty, and keep the text short (0.241453, not
    // 0.24145308099999999).
    duration.push_back({{{"check", r.id}}, std::round(r.duration_ms * 1000.0) / 1e6});
  }
  // One-hot over the five statuses, all samples of a check side by side.
  for (const CheckResult& r : report.checks) {
    for (CheckStatus s : kStatuses) {
      status.push_back(
          {{{"check", r.id}, {"status", std::string(to_string(s))}}, r.status == s ? 1.0 : 0.0});
    }
  }

  std::string out;
  add_prometheus_gauge(
      out, "pycheck_check_success",
      "1 if the check passed, warned or was skipped, 0 if it failed or could not tell (error).",
      success);
  add_prometheus_gauge(out, "pycheck_check_status",
             "The check's status: 1 for the status it had, 0 for the others.", status);
  add_prometheus_gauge(out, "pycheck_check_duration_seconds", "How long the check took.", duration);
  if (auto started = parse_started_at(report.started_at)) {
    add_prometheus_gauge(out, "pycheck_last_run_timestamp_seconds",
               "When the run that produced these metrics started, seconds since the epoch.",
               {{{}, *started}});
  }
  if (auto pending = security_updates_pending(report)) {
    add_prometheus_gauge(out, "pycheck_security_updates_pending",
               "Installed packages with a newer version in the image's security repositories "
               "(absent: unknown).",
               {{{}, *pending}});
  }
  add_prometheus_gauge(out, "pycheck_build_info", "pycheck's version.",
             {{{{"version", report.pycheck_version}}, 1.0}});
  if (auto python = python_info(report)) {
    add_prometheus_gauge(out, "pycheck_python_info",
               "The Python python3 runs: version and installation prefix.",
               {{{{"version", python->first}, {"prefix", python->second}}, 1.0}});
  }
  return out;
}

}  // namespace pycheck
