#include "agent/report/prometheus_text.h"

#include <cstdio>
#include <ctime>

#include "agent/core/metric_details.h"
#include "agent/core/text.h"
#include "agent/report/escape.h"

namespace pycheck {
namespace {

std::string label_value(std::string_view raw) {
  std::string out;
  for (char c : sanitize_utf8(raw)) {
    if (const char* escaped = quote_escape(c)) {
      out += escaped;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

void add_prometheus_gauge(std::string& out, std::string_view name, std::string_view help,
                          const std::vector<PrometheusSample>& samples) {
  if (samples.empty()) return;
  out += "# HELP " + std::string(name) + " " + std::string(help) + "\n";
  out += "# TYPE " + std::string(name) + " gauge\n";
  for (const PrometheusSample& s : samples) {
    out += name;
    if (!s.labels.empty()) {
      out += "{";
      append_joined(out, s.labels, ",", [](std::string& o, const auto& label) {
        o += std::string(label.first) + "=\"" + label_value(label.second) + "\"";
      });
      out += "}";
    }
    out += " " + format_number(s.value) + "\n";
  }
}

// "2026-11-28T12:00:00.123Z" (format_rfc3339) -> seconds since the epoch.
std::optional<double> parse_started_at(const std::string& text) {
  std::tm tm{};
  int millis = 0, n = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6) {
    return std::nullopt;
  }
  std::string_view rest = std::string_view(text).substr(static_cast<std::size_t>(n));
  if (rest.starts_with(".")) {
    int digits = 0;
    rest.remove_prefix(1);
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') {
      if (digits < 3) millis = millis * 10 + (rest.front() - '0'), ++digits;
      rest.remove_prefix(1);
    }
    for (; digits < 3; ++digits) millis *= 10;
  }
  if (rest != "Z") return std::nullopt;  // pycheck writes UTC only
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const std::time_t secs = timegm(&tm);
  return static_cast<double>(secs) + millis / 1000.0;
}

const CheckResult* find_result(const Report& report, std::string_view id) {
  for (const CheckResult& r : report.checks) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

// The pending count apt.security-updates found; nullopt when it could not
// tell (skip: no lists offline; error) — absence of the metric means unknown.
std::optional<double> security_updates_pending(const Report& report) {
  const CheckResult* r = find_result(report, metric_details::kSecurityUpdatesCheck);
  if (r == nullptr || r->status == CheckStatus::skip || r->status == CheckStatus::error) {
    return std::nullopt;
  }
  const auto count = r->details.find(metric_details::kPendingCount);
  if (count == r->details.end() || !count->is_number()) return std::nullopt;
  return count->get<double>();
}

}  // namespace pycheck
