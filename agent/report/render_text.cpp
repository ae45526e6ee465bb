// Text output for people: the verdict first, then a line per check that ran
// (status, id, summary, wrapped at the width); under a check its findings, one
// bullet each, a shared cause said once with its findings under it, and one
// fix block (advice, then the distinct commands one a line, never wrapped);
// the skipped checks on one closing line, and where to read more. --verbose
// gives skipped checks their own line and adds each check's flat facts.
#include <algorithm>
#include <limits>

#include "agent/core/findings.h"
#include "agent/core/text.h"
#include "agent/report/report.h"

namespace pycheck {
namespace {

constexpr std::size_t kMaxListItems = 12;
constexpr std::size_t kFindingIndent = 8;  // under the status column

std::string_view color_of(CheckStatus s) {
  switch (s) {
    case CheckStatus::pass:
      return "\033[32m";
    case CheckStatus::warn:
      return "\033[33m";
    case CheckStatus::fail:
      return "\033[31m";
    case CheckStatus::error:
      return "\033[35m";
    case CheckStatus::skip:
      return "\033[2m";
  }
  return "";
}

std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  return out;
}

// Columns on a terminal: UTF-8 continuation bytes take none.
std::size_t columns(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// `text` on a line already `first_cols` wide, words wrapped
// at `width` with `indent` spaces before each further line. A word longer than
// a line stays whole: paths and URLs must not be cut.
std::string wrap(std::string_view text, std::size_t first_cols, std::size_t indent,
                 std::size_t width) {
  std::string out;
  std::size_t col = first_cols;
  bool line_empty = true;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view word = text.substr(pos, end - pos);
    pos = end + 1;
    if (word.empty()) continue;
    const std::size_t w = columns(word);
    if (!line_empty && col + 1 + w > width) {
      out += "\n" + std::string(indent, ' ');
      col = indent;
      line_empty = true;
    }
    if (!line_empty) {
      out += ' ';
      ++col;
    }
    out += word;
    col += w;
    line_empty = false;
  }
  return out + "\n";
}

// One line of text, whatever the input held: a newline must not forge a line.
std::string flat(std::string_view text) {
  std::string out(text);
  std::replace_if(
      out.begin(), out.end(), [](char c) { return c == '\n' || c == '\r' || c == '\t'; }, ' ');
  return out;
}

// A bullet (or a plain line) at `indent`, wrapped with a hanging indent.
void put_item(std::string& out, std::size_t indent, std::string_view bullet, std::string_view text,
              std::size_t width) {
  const std::string head = std::string(indent, ' ') + std::string(bullet);
  out += head + wrap(flat(text), columns(head), columns(head), width);
}

// A finding as a line under its check: the headline is not said twice, so a
// finding that is the headline adds only what breaks.
std::string line_under(const CheckResult& r, const Finding& f) {
  return f.message == r.summary ? f.consequence : finding_line(f);
}

void put_findings(std::string& out, const CheckResult& r, std::size_t indent, std::size_t width) {
  for (const CauseGroup& group : group_by_cause(r.findings)) {
    if (group.cause.empty()) {
      const std::string line = line_under(r, *group.findings.front());
      if (!line.empty()) put_item(out, indent, "- ", line, width);
      continue;
    }
    put_item(out, indent, "- ", group.cause + ":", width);
    for (const Finding* f : group.findings) {
      const std::string line = line_under(r, *f);
      if (!line.empty()) put_item(out, indent + 2, "- ", line, width);
    }
  }
  const FixBlock fix = fix_block(r.findings);
  if (fix.empty()) return;
  const std::string advice = join(fix.advice, " ");
  if (advice.empty()) {
    out += std::string(indent, ' ') + "fix:\n";
  } else {
    put_item(out, indent, "fix: ", advice, width);
  }
  // Commands on their own lines, never wrapped: ready to paste.
  for (const std::string& c : fix.commands) out += std::string(indent + 4, ' ') + flat(c) + "\n";
}

std::string scalar(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

// --verbose: the flat facts of a check's details, those that say something
// (no null, no empty list); nested structures are for --format json.
void put_facts(std::string& out, const json& details, std::size_t width) {
  for (const auto& [key, item] : details.items()) {
    std::string text;
    if (item.is_null() || (item.is_string() && item.get_ref<const std::string&>().empty()))
      continue;
    if (item.is_primitive()) {
      text = scalar(item);
    } else if (item.is_array() && !item.empty() && item.size() <= kMaxListItems &&
               std::all_of(item.begin(), item.end(),
                           [](const json& e) { return e.is_primitive(); })) {
      std::vector<std::string> values;
      for (const json& e : item) values.push_back(scalar(e));
      text = join(values, ", ");
    } else {
      continue;
    }
    put_item(out, kFindingIndent, key + ": ", text, width);
  }
}

}  // namespace

std::string verdict_line(const Report& report) {
  StatusCounts c = report.counts();
  std::vector<std::string> parts;
  auto add = [&](int n, std::string_view one, std::string_view many) {
    if (n > 0) parts.push_back(std::to_string(n) + " " + std::string(n == 1 ? one : many));
  };
  add(c.fail, "failed", "failed");
  add(c.error, "error", "errors");
  add(c.warn, "warning", "warnings");
  add(c.pass, "passed", "passed");
  add(c.skip, "skipped", "skipped");
  if (parts.empty()) parts.push_back("no checks ran");
  const CheckStatus overall = report.overall();
  std::vector<std::string> ids;
  for (const CheckResult& r : report.checks) {
    bool named = overall == CheckStatus::warn
                     ? r.status == CheckStatus::warn
                     : (r.status == CheckStatus::fail || r.status == CheckStatus::error);
    if (named) ids.push_back(r.id);
  }
  std::string line = "pycheck: " + upper(to_string(overall)) + " — " + join(parts, ", ");
  if (!ids.empty()) line += " (" + join(ids, ", ") + ")";
  return line;
}

std::string render_text(const Report& report, const TextOptions& options) {
  const std::size_t width = std::max<std::size_t>(options.width, 40);
  const std::string reset = options.color ? "\033[0m" : "";
  std::string out = verdict_line(report) + "\n";
  std::size_t id_width = 0;
  for (const CheckResult& r : report.checks) id_width = std::max(id_width, r.id.size());
  std::vector<std::string> skips;
  for (const CheckResult& r : report.checks) {
    if (r.status == CheckStatus::skip && !options.verbose) {
      skips.push_back(r.id + " (" + flat(r.summary) + ")");
      continue;
    }
    std::string status = upper(to_string(r.status));
    status.resize(5, ' ');
    const std::string head =
        "  " + status + " " + r.id + std::string(id_width - r.id.size() + 2, ' ');
    out += "  " + (options.color ? std::string(color_of(r.status)) : "") + status + reset + " " +
           r.id + std::string(id_width - r.id.size() + 2, ' ');
    out += wrap(flat(r.summary), columns(head), columns(head), width);
    put_findings(out, r, kFindingIndent, width);
    if (options.verbose) put_facts(out, r.details, width);
  }
  if (!skips.empty()) put_item(out, 2, "skipped: ", join(skips, "; "), width);
  put_item(out, 2, "",
           "More: pycheck explain ID · --verbose for the facts behind each line · --format json "
           "for everything",
           width);
  return out;
}

std::string render_findings_text(const CheckResult& result) {
  std::string out;
  put_findings(out, result, 0, std::numeric_limits<std::size_t>::max() / 2);  // no wrapping
  return out;
}

}  // namespace pycheck
