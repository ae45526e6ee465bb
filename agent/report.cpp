#include "agent/report.h"

#include <ctime>

namespace pycheck {

StatusCounts Report::counts() const {
  StatusCounts c;
  for (const CheckResult& r : checks) {
    switch (r.status) {
      case CheckStatus::pass: ++c.pass; break;
      case CheckStatus::warn: ++c.warn; break;
      case CheckStatus::fail: ++c.fail; break;
      case CheckStatus::skip: ++c.skip; break;
      case CheckStatus::error: ++c.error; break;
    }
  }
  return c;
}

CheckStatus Report::overall() const {
  StatusCounts c = counts();
  if (c.fail > 0) return CheckStatus::fail;
  if (c.error > 0) return CheckStatus::error;
  if (c.warn > 0) return CheckStatus::warn;
  return CheckStatus::pass;
}

int Report::exit_code(CheckStatus fail_on) const {
  CheckStatus o = overall();
  if (o == CheckStatus::fail || o == CheckStatus::error) return 1;
  if (o == CheckStatus::warn && fail_on == CheckStatus::warn) return 1;
  return 0;
}

std::string format_rfc3339(std::chrono::system_clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

json report_to_json(const Report& report) {
  StatusCounts c = report.counts();
  json checks = json::array();
  for (const CheckResult& r : report.checks) {
    checks.push_back({{"id", r.id},
                      {"title", r.title},
                      {"status", to_string(r.status)},
                      {"summary", r.summary},
                      {"details", r.details},
                      {"remediation", r.remediation},
                      {"duration_ms", r.duration_ms}});
  }
  return {{"schema", kReportSchema},
          {"pycheck_version", report.pycheck_version},
          {"root", report.root},
          {"started_at", report.started_at},
          {"duration_ms", report.duration_ms},
          {"status", to_string(report.overall())},
          {"summary",
           {{"pass", c.pass}, {"warn", c.warn}, {"fail", c.fail}, {"skip", c.skip}, {"error", c.error}}},
          {"checks", checks}};
}

std::string render_json(const Report& report) {
  // Replace invalid UTF-8 (file names and contents come from the inspected
  // system) instead of throwing.
  return report_to_json(report).dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace pycheck
