// Writing Prometheus text exposition format 0.0.4, shared by a run's metrics
// (render_prometheus) and a node scan's (agent/scan): gauges, each metric's
// lines one uninterrupted group, label values valid UTF-8 and escaped.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/report/report.h"

namespace pycheck {

using PrometheusLabels = std::vector<std::pair<std::string_view, std::string>>;

struct PrometheusSample {
  PrometheusLabels labels;
  double value = 0;
};

// Appends one gauge: HELP, TYPE and its samples; nothing when there are none.
void add_prometheus_gauge(std::string& out, std::string_view name, std::string_view help,
                          const std::vector<PrometheusSample>& samples);

// "2026-11-28T12:00:00.123Z" (format_rfc3339) -> seconds since the epoch.
std::optional<double> parse_started_at(const std::string& text);

// The pending count apt.security-updates found; nullopt when it could not
// tell (skip: no lists offline; error) — absence of the metric means unknown.
std::optional<double> security_updates_pending(const Report& report);

// The result of check `id` in `report`, or null.
const CheckResult* find_result(const Report& report, std::string_view id);

}  // namespace pycheck
