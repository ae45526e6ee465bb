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
          {"checks", checks}};
}

namespace {

// `value` as dump(2) writes it `depth` levels deep inside a larger document:
// the same text with every line after the first shifted right (a dump holds
// no raw newline inside a string). Invalid UTF-8 (file names and contents come
// from the inspected system) is replaced instead of throwing.
void append_value(std::string& out, const json& value, int depth) {
  const std::string text = value.dump(2, ' ', false, json::error_handler_t::replace);
  std::size_t pos = 0;
  for (std::size_t nl; (nl = text.find('\n', pos)) != std::string::npos; pos = nl + 1) {
    out.append(text, pos, nl + 1 - pos);
    out.append(2 * static_cast<std::size_t>(depth), ' ');
  }
  out.append(text, pos);
}

// One `"key": value` line of an object `depth` levels deep.
void append_field(std::string& out, int depth, std::string_view key, const json& value, bool last) {
  out.append(2 * static_cast<std::size_t>(depth), ' ');
  out += '"';
  out += key;
  out += "\": ";
  append_value(out, value, depth);
  out += last ? "\n" : ",\n";
}

}  // namespace

// The bytes of report_to_json(report).dump(2) plus a newline, written field by
// field so that no check's details are copied into a second tree first (the
// copy and its destruction cost more than the dump). Keep the two in step:
// core_test checks they are equal.
std::string render_json(const Report& report) {
  const StatusCounts c = report.counts();
  std::string out = "{\n";
  append_field(out, 1, "schema", kReportSchema, false);
  append_field(out, 1, "schema_revision", kReportSchemaRevision, false);
  append_field(out, 1, "pycheck_version", report.pycheck_version, false);
  append_field(out, 1, "root", report.root, false);
  append_field(out, 1, "started_at", report.started_at, false);
  append_field(out, 1, "duration_ms", report.duration_ms, false);
  append_field(out, 1, "status", to_string(report.overall()), false);
  append_field(
      out, 1, "summary",
      {{"pass", c.pass}, {"warn", c.warn}, {"fail", c.fail}, {"skip", c.skip}, {"error", c.error}},
      false);
  if (report.checks.empty()) return out + "  \"checks\": []\n}\n";
  out += "  \"checks\": [\n";
  for (std::size_t i = 0; i < report.checks.size(); ++i) {
    const CheckResult& r = report.checks[i];
    out += "    {\n";
    append_field(out, 3, "id", r.id, false);
    append_field(out, 3, "title", r.title, false);
    append_field(out, 3, "status", to_string(r.status), false);
    append_field(out, 3, "summary", r.summary, false);
    append_field(out, 3, "details", r.details, false);
    append_field(out, 3, "findings", findings_json(r.findings), false);
    append_field(out, 3, "remediation", r.remediation(), false);
    append_field(out, 3, "duration_ms", r.duration_ms, true);
    out += i + 1 < report.checks.size() ? "    },\n" : "    }\n";
  }
  out += "  ]\n}\n";
  return out;
}

}  // namespace pycheck
