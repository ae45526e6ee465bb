#include "checks/formats/deb822.h"

#include <array>

#include "agent/core/text.h"

namespace pycheck {
namespace {

// Blanks in deb822 are space and tab (and a stray CR). Plain loops, not
// find_first_not_of with a set: that costs a memchr per character, and these
// run on every line of multi-megabyte Packages indexes.
bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string_view strip_cr(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

bool is_blank_line(std::string_view line) {
  for (char c : line) {
    if (!is_blank(c)) return false;
  }
  return true;
}

// A field line's name: everything before the first ':' minus trailing blanks;
// no blanks inside, not empty, not starting with '-' (dpkg refuses those).
bool split_field_line(std::string_view line, std::string_view& name, std::string_view& value) {
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return false;
  name = trim_blanks(line.substr(0, colon));
  if (name.empty() || name.front() == '-') return false;
  for (char c : name) {
    if (is_blank(c)) return false;
  }
  value = trim_blanks(line.substr(colon + 1));
  return true;
}

}  // namespace

bool deb822_name_equals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

std::vector<Deb822Line> Deb822Field::continuation_lines() const {
  std::vector<Deb822Line> lines;
  std::size_t number = line;
  std::string_view rest = continuation;
  while (!rest.empty()) {
    const std::size_t end = rest.find('\n');
    const std::string_view text = strip_cr(rest.substr(0, end));
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    ++number;
    if (text.empty() || text.front() == '#') continue;  // comments (only blanks start lines here)
    lines.push_back({text, number});
  }
  return lines;
}

std::string Deb822Field::folded() const {
  std::string out(value);
  for (const Deb822Line& l : continuation_lines()) {
    const std::string_view text = trim_blanks(l.text);
    if (text.empty()) continue;
    if (!out.empty()) out.push_back(' ');
    out.append(text);
  }
  return out;
}

std::string Deb822Field::multiline_text() const {
  std::string out(value);
  bool first = out.empty();  // an empty first line adds no leading newline
  for (const Deb822Line& l : continuation_lines()) {
    std::string_view text = l.text.substr(1);  // the continuation marker
    if (trim_blanks(text) == ".") text = {};
    if (!first) out.push_back('\n');
    first = false;
    out.append(text);
  }
  return out;
}

const Deb822Field* Deb822Stanza::find(std::string_view name) const {
  for (const Deb822Field& field : fields) {
    if (deb822_name_equals(field.name, name)) return &field;
  }
  return nullptr;
}

std::optional<std::string_view> Deb822Stanza::value(std::string_view name) const {
  const Deb822Field* field = find(name);
  if (field == nullptr) return std::nullopt;
  return field->value;
}

bool Deb822Reader::next(Deb822Stanza& stanza) {
  stanza.line = 0;
  stanza.fields.clear();
  stanza.problems.clear();
  bool open = false;            // the stanza has a field or a bad line
  bool field_open = false;      // continuation lines extend stanza.fields.back()
  bool after_bad_line = false;  // continuations of a bad line are not reported again
  std::size_t continuation_begin = 0;

  while (pos_ < text_.size()) {
    const std::size_t begin = pos_;
    std::size_t end = text_.find('\n', begin);
    if (end == std::string_view::npos) end = text_.size();
    pos_ = end == text_.size() ? end : end + 1;
    const std::size_t number = line_++;
    const std::string_view line = text_.substr(begin, end - begin);

    if (is_blank_line(line)) {
      if (open) return true;
      continue;
    }
    if (options_.comments && line.front() == '#') continue;
    if (line.front() == ' ' || line.front() == '\t') {
      if (field_open) {
        Deb822Field& field = stanza.fields.back();
        field.continuation = text_.substr(continuation_begin, end - continuation_begin);
      } else if (!after_bad_line) {
        if (!open) stanza.line = number;
        open = true;
        stanza.problems.push_back({number, "continuation line without a field before it"});
        after_bad_line = true;
      }
      continue;
    }
    if (!open) stanza.line = number;
    open = true;
    std::string_view name;
    std::string_view value;
    if (!split_field_line(line, name, value)) {
      stanza.problems.push_back({number, "not a 'Field: value' line: '" +
                                             std::string(strip_cr(line).substr(0, 60)) + "'"});
      field_open = false;
      after_bad_line = true;
      continue;
    }
    stanza.fields.push_back({name, value, {}, number});
    continuation_begin = pos_;  // comments before the first continuation belong to the block
    field_open = true;
    after_bad_line = false;
  }
  return open;
}

std::vector<Deb822Stanza> parse_deb822(std::string_view text, Deb822Options options) {
  std::vector<Deb822Stanza> stanzas;
  Deb822Reader reader(text, options);
  Deb822Stanza stanza;
  while (reader.next(stanza)) stanzas.push_back(stanza);
  return stanzas;
}

std::optional<bool> parse_apt_bool(std::string_view text) {
  text = trim_blanks(text);
  if (text == "0") return false;
  if (text == "1") return true;
  static constexpr std::array<std::string_view, 5> kFalse{"no", "false", "without", "off",
                                                          "disable"};
  static constexpr std::array<std::string_view, 5> kTrue{"yes", "true", "with", "on", "enable"};
  for (std::string_view word : kFalse) {
    if (deb822_name_equals(text, word)) return false;
  }
  for (std::string_view word : kTrue) {
    if (deb822_name_equals(text, word)) return true;
  }
  return std::nullopt;
}

std::vector<std::string_view> split_words(std::string_view text, bool commas) {
  return split_at_any(text, commas ? std::string_view(" \t\r\n,") : " \t\r\n");
}

}  // namespace pycheck
