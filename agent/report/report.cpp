#include "agent/report/report.h"

#include <ctime>

namespace pycheck {

StatusCounts Report::counts() const {
  StatusCounts c;
  for (const CheckResult& r : checks) {
    switch (r.status) {
      case CheckStatus::pass:
        ++c.pass;
        break;
      case CheckStatus::warn:
        ++c.warn;
        break;
      case CheckStatus::fail:
        ++c.fail;
        break;
      case CheckStatus::skip:
        ++c.skip;
        break;
      case CheckStatus::error:
        ++c.error;
        break;
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
  // Calendar arithmetic, not gmtime_r: glibc's reads the process's time zone
  // file (/etc/localtime, outside the inspected root) the first time.
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(t);
  const auto day = floor<days>(ms);
  const year_month_day date{day};
  const hh_mm_ss<milliseconds> time{ms - day};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
                static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                static_cast<unsigned>(date.day()), static_cast<int>(time.hours().count()),
                static_cast<int>(time.minutes().count()), static_cast<int>(time.seconds().count()),
                static_cast<int>(time.subseconds().count()));
  return buf;
}

json finding_to_json(const Finding& f) {
  json out = {{"severity", to_string(f.severity)}, {"message", f.message}};
  if (!f.consequence.empty()) out["consequence"] = f.consequence;
  if (!f.cause.empty()) out["cause"] = f.cause;
  if (!f.fix.empty()) out["fix"] = f.fix;
  if (!f.commands.empty()) out["commands"] = f.commands;
  return out;
}

namespace {

json findings_json(const std::vector<Finding>& findings) {
  json out = json::array();
  for (const Finding& f : findings) out.push_back(finding_to_json(f));
  return out;
}

}  // namespace

json report_to_json(const Report& report) {
  StatusCounts c = report.counts();
  json checks = json::array();
  for (const CheckResult& r : report.checks) {
    checks.push_back({{"id", r.id},
                      {"title", r.title},
                      {"status", to_string(r.status)},
                      {"summary", r.summary},
                      {"details", r.details},
                      {"findings", findings_json(r.findings)},
                      {"remediation", r.remediation()},
                      {"duration_ms", r.duration_ms}});
  }
  return {{"schema", kReportSchema},
          {"schema_revision", kReportSchemaRevision},
          {"pycheck_version", report.pycheck_version},
          {"root", report.root},
          {"started_at", report.started_at},
          {"duration_ms", report.duration_ms},
          {"status", to_string(report.overall())},
          {"summary",
           {{"pass", c.pass},
            {"warn", c.warn},
            {"fail", c.fail},
            {"skip", c.skip},
            {"error", c.error}}},
          {"checks", std::move(checks)}};
}

// One tree, dumped. A second writer that streamed the fields (so that no
// check's details are copied) saved about 0.5 ms of CPU on a 130 KB report at
// -O2 (measured for issue 15): not worth keeping two writers of the same bytes.
std::string render_json(const Report& report) {
  // Invalid UTF-8 (file names and contents come from the inspected system) is
  // replaced instead of throwing.
  return report_to_json(report).dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace pycheck
