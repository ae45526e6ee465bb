#include "checks/formats/cpython_layout.h"

#include <string.h>

#include <cctype>
#include <charconv>

#include "agent/core/text.h"

namespace pycheck {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The text after `#define NAME` on a line of its own, or nullopt.
std::optional<std::string_view> define_value(std::string_view text, std::string_view name) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = trim(text.substr(pos, end - pos));
    pos = end + 1;
    if (!line.starts_with('#')) continue;
    line = trim(line.substr(1));
    if (!line.starts_with("define")) continue;
    line = line.substr(6);
    if (line.empty() || (line.front() != ' ' && line.front() != '\t')) continue;
    line = trim(line);
    if (!line.starts_with(name)) continue;
    std::string_view rest = line.substr(name.size());
    if (!rest.empty() && rest.front() != ' ' && rest.front() != '\t') continue;  // PY_VERSION_HEX
    return trim(rest);
  }
  return std::nullopt;
}

std::optional<int> to_int(std::string_view s) {
  int value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return value;
}

// text.find(needle, from), with memmem: string_view::find scans for the
// needle's first character, a quote that starts every key of a sysconfigdata dict.
std::size_t find_bytes(std::string_view text, std::string_view needle, std::size_t from) {
  if (from > text.size()) return std::string_view::npos;
  const void* found =
      ::memmem(text.data() + from, text.size() - from, needle.data(), needle.size());
  return found == nullptr ? std::string_view::npos
                          : static_cast<std::size_t>(static_cast<const char*>(found) - text.data());
}

}  // namespace

std::optional<std::string> minor_of(std::string_view version) {
  std::size_t i = 0;
  while (i < version.size() && is_digit(version[i])) ++i;
  if (i == 0 || i >= version.size() || version[i] != '.') return std::nullopt;
  std::size_t j = i + 1;
  while (j < version.size() && is_digit(version[j])) ++j;
  if (j == i + 1) return std::nullopt;
  return std::string(version.substr(0, j));
}

Result<PatchLevel> parse_patchlevel_h(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) return Error{"binary data, not a C header"};
  auto raw = define_value(text, "PY_VERSION");
  if (!raw) return Error{"no #define PY_VERSION"};
  std::string_view quoted = *raw;
  if (quoted.size() < 2 || quoted.front() != '"' || quoted.find('"', 1) == std::string_view::npos) {
    return Error{"PY_VERSION is not a string literal"};
  }
  std::string_view version = quoted.substr(1, quoted.find('"', 1) - 1);
  auto minor = minor_of(version);
  if (!minor) return Error{"PY_VERSION \"" + std::string(version) + "\" is not a Python version"};
  for (char c : version) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '+') {
      return Error{"PY_VERSION \"" + std::string(version) + "\" is not a Python version"};
    }
  }
  PatchLevel level;
  level.version = std::string(version);
  std::size_t dot = minor->find('.');
  level.major = to_int(std::string_view(*minor).substr(0, dot)).value_or(0);
  level.minor = to_int(std::string_view(*minor).substr(dot + 1)).value_or(0);
  // Cross-check the numeric defines when they are there: a mismatch means an edited header.
  auto major_define = define_value(text, "PY_MAJOR_VERSION");
  auto minor_define = define_value(text, "PY_MINOR_VERSION");
  if (major_define && minor_define) {
    auto major_value = to_int(*major_define);
    auto minor_value = to_int(*minor_define);
    if (major_value != level.major || minor_value != level.minor) {
      return Error{"PY_VERSION \"" + level.version + "\" disagrees with PY_MAJOR_VERSION " +
                   std::string(*major_define) + " / PY_MINOR_VERSION " +
                   std::string(*minor_define)};
    }
  }
  return level;
}

std::optional<std::string> sysconfigdata_string(std::string_view text, std::string_view key) {
  for (char quote : {'\'', '"'}) {
    std::string needle;
    needle += quote;
    needle += key;
    needle += quote;
    std::size_t pos = 0;
    while ((pos = find_bytes(text, needle, pos)) != std::string_view::npos) {
      std::size_t i = pos + needle.size();
      pos = i;
      while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
      if (i >= text.size() || text[i] != ':') continue;
      ++i;
      while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
      if (i >= text.size() || (text[i] != '\'' && text[i] != '"')) continue;
      char open = text[i];
      std::size_t close = text.find(open, i + 1);
      if (close == std::string_view::npos) return std::nullopt;
      std::string_view value = text.substr(i + 1, close - i - 1);
      if (value.find('\n') != std::string_view::npos ||
          value.find('\\') != std::string_view::npos) {
        continue;  // not a plain one-line literal; not worth unescaping for our keys
      }
      return std::string(value);
    }
  }
  return std::nullopt;
}

std::optional<std::string> python_minor_from_name(std::string_view name) {
  if (!name.starts_with("python")) return std::nullopt;
  std::string_view rest = name.substr(6);
  auto minor = minor_of(rest);
  if (!minor) return std::nullopt;
  std::string_view suffix = rest.substr(minor->size());
  // ABI flags of the executable name: "m" (3.7 and older), "d" (debug), "t" (free-threaded).
  if (suffix.size() > 1) return std::nullopt;
  if (suffix.size() == 1 && suffix != "m" && suffix != "d" && suffix != "t") return std::nullopt;
  return minor;
}

std::string debian_upstream_version(std::string_view v) {
  std::size_t colon = v.find(':');
  if (colon != std::string_view::npos) v = v.substr(colon + 1);
  std::size_t dash = v.rfind('-');
  if (dash != std::string_view::npos) v = v.substr(0, dash);
  std::size_t plus = v.find('+');  // "+dfsg", "+ds1": repackaging marks, not part of the release
  if (plus != std::string_view::npos) v = v.substr(0, plus);
  std::string out;
  for (char c : v) {
    if (c != '~') out += c;
  }
  return out;
}

}  // namespace pycheck
