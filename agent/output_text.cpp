// Text output for people: the verdict first, one line per check, and for
// checks that need attention their details and the fix, indented.
#include <algorithm>

#include "agent/report.h"

namespace pycheck {
namespace {

constexpr std::size_t kMaxListItems = 12;
// People get the flat facts; nested structures are for machines (--format json).
constexpr int kMaxDepth = 0;

std::string_view color_of(CheckStatus s) {
  switch (s) {
    case CheckStatus::pass: return "\033[32m";
    case CheckStatus::warn: return "\033[33m";
    case CheckStatus::fail: return "\033[31m";
    case CheckStatus::error: return "\033[35m";
    case CheckStatus::skip: return "\033[2m";
  }
  return "";
}

std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::toupper(c); });
  return out;
}

std::string scalar(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool is_scalar_list(const json& v) {
  return v.is_array() && std::all_of(v.begin(), v.end(), [](const json& e) { return e.is_primitive(); });
}

// YAML-like, bounded: long lists are cut with a count of what was left out.
void render_value(std::string& out, const json& v, int indent, int depth) {
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  if (v.is_object()) {
    for (const auto& [key, item] : v.items()) {
      if (item.is_primitive() || (is_scalar_list(item) && item.size() <= kMaxListItems)) {
        std::string text;
        if (item.is_array()) {
          for (const json& e : item) text += (text.empty() ? "" : ", ") + scalar(e);
          text = "[" + text + "]";
        } else {
          text = scalar(item);
        }
        out += pad + key + ": " + text + "\n";
      } else if (depth >= kMaxDepth) {
        continue;  // nested facts: --format json
      } else {
        out += pad + key + ":\n";
        render_value(out, item, indent + 2, depth + 1);
      }
    }
  } else if (v.is_array()) {
    std::size_t shown = 0;
    for (const json& item : v) {
      if (shown == kMaxListItems) {
        out += pad + "… " + std::to_string(v.size() - shown) + " more\n";
        break;
      }
      ++shown;
      if (item.is_primitive()) {
        out += pad + "- " + scalar(item) + "\n";
      } else {
        std::string nested;
        render_value(nested, item, indent + 2, depth + 1);
        // Put the first line after the dash.
        if (nested.size() > static_cast<std::size_t>(indent + 2)) {
          out += pad + "- " + nested.substr(static_cast<std::size_t>(indent + 2));
        }
      }
    }
  } else {
    out += pad + scalar(v) + "\n";
  }
}

}  // namespace

std::string verdict_line(const Report& report) {
  StatusCounts c = report.counts();
  std::string parts;
  auto add = [&](int n, std::string_view one, std::string_view many) {
    if (n == 0) return;
    parts += (parts.empty() ? "" : ", ") + std::to_string(n) + " " + std::string(n == 1 ? one : many);
  };
  add(c.fail, "failed", "failed");
  add(c.error, "error", "errors");
  add(c.warn, "warning", "warnings");
  add(c.pass, "passed", "passed");
  add(c.skip, "skipped", "skipped");
  if (parts.empty()) parts = "no checks ran";
  const CheckStatus overall = report.overall();
  std::string ids;
  for (const CheckResult& r : report.checks) {
    bool named = overall == CheckStatus::warn ? r.status == CheckStatus::warn
                                              : (r.status == CheckStatus::fail || r.status == CheckStatus::error);
    if (named) ids += (ids.empty() ? "" : ", ") + r.id;
  }
  std::string line = "pycheck: " + upper(to_string(overall)) + " — " + parts;
  if (!ids.empty()) line += " (" + ids + ")";
  return line;
}

std::string render_text(const Report& report, bool color) {
  const std::string reset = color ? "\033[0m" : "";
  std::string out = verdict_line(report) + "\n";
  std::size_t width = 0;
  for (const CheckResult& r : report.checks) width = std::max(width, r.id.size());
  for (const CheckResult& r : report.checks) {
    std::string status = upper(to_string(r.status));
    status.resize(5, ' ');
    out += "  " + (color ? std::string(color_of(r.status)) : "") + status + reset + " " + r.id +
           std::string(width - r.id.size() + 2, ' ') + r.summary + "\n";
    bool attention = r.status == CheckStatus::warn || r.status == CheckStatus::fail ||
                     r.status == CheckStatus::error;
    if (!attention) continue;
    if (!r.details.empty()) render_value(out, r.details, 10, 0);
    if (!r.remediation.empty()) out += std::string(10, ' ') + "fix: " + r.remediation + "\n";
  }
  return out;
}

}  // namespace pycheck
