// JUnit XML for CI systems (Jenkins, GitLab, GitHub test reporters): one
// <testsuite name="pycheck"> with one <testcase> per check, the shape goss
// writes. Everything from the inspected system is made valid XML 1.0: invalid
// UTF-8 becomes U+FFFD, characters XML forbids (most control characters) are
// dropped, markup characters are escaped, and in attributes tab/CR/LF are
// written as character references so attribute normalisation keeps them.
#include <cstdio>

#include "agent/report/escape.h"
#include "agent/report/report.h"

namespace pycheck {
namespace {

std::string xml_escape(std::string_view raw, bool attribute) {
  std::string out;
  for (char c : sanitize_utf8(raw, is_xml_char)) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;  // also defuses "]]>"
      case '"':
        out += attribute ? "&quot;" : "\"";
        break;
      case '\'':
        out += attribute ? "&apos;" : "'";
        break;
      case '\n':
        out += attribute ? "&#10;" : "\n";
        break;
      case '\r':
        out += "&#13;";
        break;  // a raw CR would be read as a line end
      case '\t':
        out += attribute ? "&#9;" : "\t";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string attr(std::string_view name, std::string_view value) {
  return " " + std::string(name) + "=\"" + xml_escape(value, true) + "\"";
}

// Seconds with millisecond precision, as goss and most JUnit writers do.
std::string seconds(double ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", ms / 1000.0);
  return buf;
}

// The body of <failure>/<error>/<system-out>: the summary, the findings and
// the fix as the text report says them, and the structured details, for a
// person reading the CI page.
std::string body(const CheckResult& r) {
  std::string text = r.summary;
  std::string findings = render_findings_text(r);
  if (!findings.empty()) findings.pop_back();  // its last newline: the blank line follows
  if (!findings.empty()) text += "\n\n" + findings;
  if (!r.details.empty()) {
    text += "\n\ndetails:\n" + r.details.dump(2, ' ', false, json::error_handler_t::replace);
  }
  return xml_escape(text, false);
}

}  // namespace

std::string render_junit(const Report& report) {
  const StatusCounts c = report.counts();
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<testsuite" + attr("name", "pycheck") +
         attr("tests", std::to_string(report.checks.size())) +
         attr("failures", std::to_string(c.fail)) + attr("errors", std::to_string(c.error)) +
         attr("skipped", std::to_string(c.skip)) + attr("time", seconds(report.duration_ms)) +
         attr("timestamp", report.started_at) + ">\n";
  out += "  <properties>\n";
  out += "    <property" + attr("name", "pycheck.version") + attr("value", report.pycheck_version) +
         "/>\n";
  out += "    <property" + attr("name", "pycheck.root") + attr("value", report.root) + "/>\n";
  out += "    <property" + attr("name", "pycheck.status") +
         attr("value", to_string(report.overall())) + "/>\n";
  out += "  </properties>\n";
  for (const CheckResult& r : report.checks) {
    out += "  <testcase" + attr("classname", "pycheck") + attr("name", r.id) +
           attr("time", seconds(r.duration_ms)) + ">\n";
    switch (r.status) {
      case CheckStatus::pass:
        out += "    <system-out>" + xml_escape(r.summary, false) + "</system-out>\n";
        break;
      case CheckStatus::warn:
        // JUnit has no "warning": a warned check passes (as in pycheck's exit
        // code without --fail-on warn) and says why in <system-out>.
        out += "    <system-out>WARN: " + body(r) + "</system-out>\n";
        break;
      case CheckStatus::fail:
        out += "    <failure" + attr("message", r.summary) + attr("type", "fail") + ">" + body(r) +
               "</failure>\n";
        break;
      case CheckStatus::error:
        out += "    <error" + attr("message", r.summary) + attr("type", "error") + ">" + body(r) +
               "</error>\n";
        break;
      case CheckStatus::skip:
        out += "    <skipped" + attr("message", r.summary) + "/>\n";
        break;
    }
    out += "  </testcase>\n";
  }
  out += "</testsuite>\n";
  return out;
}

}  // namespace pycheck
