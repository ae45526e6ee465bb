// Small string helpers the readers, checks and renderers share.
#pragma once

#include <cctype>
#include <string>
#include <string_view>
#include <vector>

namespace pycheck {

// "a", "b" -> "a, b" (with separator ", "). An empty leading part adds no
// separator.
inline std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (const std::string& p : parts) {
    if (!out.empty()) out += separator;
    out += p;
  }
  return out;
}

// Appends each item of `items` through `append(out, item)`, with `separator`
// between two items (also around empty ones).
template <class Range, class Append>
void append_joined(std::string& out, const Range& items, std::string_view separator,
                   Append append) {
  bool first = true;
  for (const auto& item : items) {
    if (!first) out += separator;
    first = false;
    append(out, item);
  }
}

// "a.b..c" at '.' -> "a", "b", "", "c": every part, empty ones too ("" -> "").
inline std::vector<std::string_view> split(std::string_view s, char separator) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const std::size_t at = s.find(separator, start);
    parts.push_back(s.substr(start, at - start));
    if (at == std::string_view::npos) return parts;
    start = at + 1;
  }
}

// The lines of `text` without their '\n': "a\n\nb\n" -> "a", "", "b" (no
// line after a final newline; "" has none).
inline std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    lines.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return lines;
}

// The runs of characters not in `separators`: " a,,b " at " ," -> "a", "b".
inline std::vector<std::string_view> split_at_any(std::string_view text,
                                                  std::string_view separators) {
  std::vector<std::string_view> words;
  for (std::size_t pos = 0; (pos = text.find_first_not_of(separators, pos)) != text.npos;) {
    std::size_t end = text.find_first_of(separators, pos);
    if (end == std::string_view::npos) end = text.size();
    words.push_back(text.substr(pos, end - pos));
    pos = end;
  }
  return words;
}

// Without leading and trailing white space (C locale isspace).
inline std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Without leading and trailing blanks: space, tab and CR (a CRLF line's CR),
// not LF; what deb822, dpkg and KEY=VALUE files allow around a value.
inline std::string_view trim_blanks(std::string_view s) {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

// 'A'-'Z' to 'a'-'z', every other byte unchanged (no locale).
constexpr char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// ASCII letters lowercased (C locale tolower); other bytes unchanged.
inline std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace pycheck
