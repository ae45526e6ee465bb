// TAP (Test Anything Protocol) for CI and `prove`.
//
// We write "TAP version 13": TAP 14 is a superset that changes nothing we
// use, and Perl's TAP::Parser (Test::Harness 3.44, Debian 12) refuses a
// version-14 header. One test line per check, "ok N - id: summary":
//   pass  ok
//   warn  ok, followed by a YAML diagnostic block with severity: warn (TAP has
//         no warning; a warned check passes, as in pycheck's exit code without
//         --fail-on warn)
//   fail  not ok + YAML block (severity fail, message, fix, data)
//   error not ok + YAML block (severity error): a check that could not tell
//   skip  ok N - id # SKIP summary
// YAML blocks are block style with double-quoted strings, the subset
// TAP::Parser::YAMLish reads. Descriptions escape '\' and '#' (TAP's
// directive marker) and fold line breaks into spaces.
#include "agent/report/escape.h"
#include "agent/report/report.h"

namespace pycheck {
namespace {

bool is_printable(char32_t c) { return c >= 0x20 && c != 0x7F; }

// A test description or directive reason: one line, '#' and '\' escaped.
std::string description(std::string_view raw) {
  std::string flat(raw);
  for (char& c : flat) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  std::string out;
  for (char c : sanitize_utf8(flat, is_printable)) {
    if (c == '\\' || c == '#') out += '\\';
    out += c;
  }
  return out;
}

// A YAML double-quoted scalar. In a list item a ':' before a space is written
// \x3a: TAP::Parser::YAMLish reads `- "a: b"` as a one-key mapping.
std::string yaml_quoted(std::string_view raw, bool list_item = false) {
  const std::string text = sanitize_utf8(raw);
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const auto u = static_cast<unsigned char>(c);
    if (list_item && c == ':' && i + 1 < text.size() && text[i + 1] == ' ') {
      out += "\\x3a";
      continue;
    }
    if (const char* escaped = quote_escape(c)) {
      out += escaped;
      continue;
    }
    switch (c) {
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20 || u == 0x7F) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\x";
          out += kHex[u >> 4];
          out += kHex[u & 0xF];
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

bool is_plain_key(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  // YAMLish takes a nested mapping's first key only when it starts with a word
  // character or a quote.
  return key.front() != '-' && key.front() != '.';
}

std::string yaml_scalar(const json& v, bool list_item = false) {
  if (v.is_null()) return "~";
  if (v.is_string()) return yaml_quoted(v.get<std::string>(), list_item);
  if (v.is_object() && v.empty()) return "{}";
  if (v.is_array() && v.empty()) return "[]";
  return v.dump();  // numbers, booleans
}

bool is_leaf(const json& v) { return v.is_primitive() || v.empty(); }

void yaml_value(std::string& out, const json& v, int indent) {
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  if (v.is_object()) {
    for (const auto& [key, item] : v.items()) {
      out += pad + (is_plain_key(key) ? key : yaml_quoted(key)) + ":";
      if (is_leaf(item)) {
        out += " " + yaml_scalar(item) + "\n";
      } else {
        out += "\n";
        yaml_value(out, item, indent + 2);
      }
    }
  } else if (v.is_array()) {
    for (const json& item : v) {
      if (is_leaf(item)) {
        out += pad + "- " + yaml_scalar(item, true) + "\n";
      } else {
        out += pad + "-\n";
        yaml_value(out, item, indent + 2);
      }
    }
  } else {
    out += pad + yaml_scalar(v) + "\n";
  }
}

void diagnostic(std::string& out, const CheckResult& r) {
  json block = json::object();
  block["message"] = r.summary;
  block["severity"] = to_string(r.status);
  if (!r.findings.empty()) {
    json findings = json::array();
    for (const Finding& f : r.findings) findings.push_back(finding_to_json(f));
    block["findings"] = std::move(findings);
  }
  if (const std::string fix = r.remediation(); !fix.empty()) block["fix"] = fix;
  if (!r.details.empty()) block["data"] = r.details;
  out += "  ---\n";
  yaml_value(out, block, 2);
  out += "  ...\n";
}

}  // namespace

std::string render_tap(const Report& report) {
  std::string out = "TAP version 13\n";
  if (report.checks.empty()) return out + "1..0 # SKIP no checks ran\n";
  out += "1.." + std::to_string(report.checks.size()) + "\n";
  out += "# " + description(verdict_line(report)) + "\n";
  std::size_t n = 0;
  for (const CheckResult& r : report.checks) {
    const std::string number = std::to_string(++n);
    switch (r.status) {
      case CheckStatus::pass:
        out += "ok " + number + " - " + description(r.id + ": " + r.summary) + "\n";
        break;
      case CheckStatus::warn:
        out += "ok " + number + " - " + description(r.id + ": " + r.summary) + "\n";
        diagnostic(out, r);
        break;
      case CheckStatus::fail:
      case CheckStatus::error:
        out += "not ok " + number + " - " + description(r.id + ": " + r.summary) + "\n";
        diagnostic(out, r);
        break;
      case CheckStatus::skip:
        out +=
            "ok " + number + " - " + description(r.id) + " # SKIP " + description(r.summary) + "\n";
        break;
    }
  }
  return out;
}

}  // namespace pycheck
