#include "checks/formats/locale_name.h"

#include <algorithm>
#include <array>

#include "agent/core/text.h"

namespace pycheck {
namespace {

// The C locale's classification, which glibc uses for all of this.
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}
char to_upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

// XPG mask bits of intl/loadinfo.h.
constexpr int kXpgNormCodeset = 1;
constexpr int kXpgCodeset = 2;
constexpr int kXpgTerritory = 4;
constexpr int kXpgModifier = 8;

// findlocale.c's strip(): keep [A-Za-z0-9_.,:-] upper-cased, keep up to two '/',
// then pad to two '/' ("UTF-8" -> "UTF-8//"), the form iconv aliases use.
std::string strip_charset(std::string_view s) {
  std::string out;
  int slashes = 0;
  for (char c : s) {
    if (is_alpha(c) || is_digit(c) || c == '_' || c == '-' || c == '.' || c == ',' || c == ':') {
      out += to_upper(c);
    } else if (c == '/') {
      if (++slashes == 3) break;
      out += '/';
    }
  }
  while (slashes++ < 2) out += '/';
  return out;
}

// The builtin aliases of iconv/gconv_builtin.h for the two charsets locales use
// most, mapped to their canonical module names.
struct BuiltinAlias {
  std::string_view alias;
  std::string_view canonical;
};
constexpr std::array<BuiltinAlias, 19> kBuiltinAliases{{
    {"UTF8//", "ISO-10646/UTF8/"},
    {"UTF-8//", "ISO-10646/UTF8/"},
    {"ISO-IR-193//", "ISO-10646/UTF8/"},
    {"OSF05010001//", "ISO-10646/UTF8/"},
    {"ISO-10646/UTF-8/", "ISO-10646/UTF8/"},
    {"ISO-10646/UTF8/", "ISO-10646/UTF8/"},
    {"ANSI_X3.4//", "ANSI_X3.4-1968//"},
    {"ISO-IR-6//", "ANSI_X3.4-1968//"},
    {"ANSI_X3.4-1986//", "ANSI_X3.4-1968//"},
    {"ISO_646.IRV:1991//", "ANSI_X3.4-1968//"},
    {"ASCII//", "ANSI_X3.4-1968//"},
    {"ISO646-US//", "ANSI_X3.4-1968//"},
    {"US-ASCII//", "ANSI_X3.4-1968//"},
    {"US//", "ANSI_X3.4-1968//"},
    {"IBM367//", "ANSI_X3.4-1968//"},
    {"CP367//", "ANSI_X3.4-1968//"},
    {"CSASCII//", "ANSI_X3.4-1968//"},
    {"OSF00010020//", "ANSI_X3.4-1968//"},
    {"ANSI_X3.4-1968//", "ANSI_X3.4-1968//"},
}};

std::optional<std::string_view> builtin_canonical(std::string_view stripped) {
  for (const BuiltinAlias& a : kBuiltinAliases) {
    if (a.alias == stripped) return a.canonical;
  }
  return std::nullopt;
}

}  // namespace

LocaleNameParts split_locale_name(std::string_view name) {
  LocaleNameParts parts;
  std::size_t lang_end = name.find_first_of("_.@");
  if (lang_end == 0 || name.empty()) {
    // No language: glibc uses the name as it is, unexploded (maybe an alias).
    parts.language = std::string(name);
    return parts;
  }
  if (lang_end == std::string_view::npos) lang_end = name.size();
  parts.language = std::string(name.substr(0, lang_end));
  std::size_t pos = lang_end;
  if (pos < name.size() && name[pos] == '_') {
    std::size_t end = name.find_first_of(".@", pos + 1);
    if (end == std::string_view::npos) end = name.size();
    if (end > pos + 1) parts.territory = std::string(name.substr(pos + 1, end - pos - 1));
    pos = end;
  }
  if (pos < name.size() && name[pos] == '.') {
    std::size_t end = name.find('@', pos + 1);
    if (end == std::string_view::npos) end = name.size();
    std::string_view codeset = name.substr(pos + 1, end - pos - 1);
    if (!codeset.empty()) {
      parts.codeset = std::string(codeset);
      std::string normalized = normalize_codeset(codeset);
      // glibc compares the normalised codeset with the codeset *and the rest of the
      // name* ("utf8@euro"), so a modifier always yields the (duplicate) variant.
      if (normalized != name.substr(pos + 1)) parts.normalized_codeset = std::move(normalized);
    }
    pos = end;
  }
  if (pos < name.size() && name[pos] == '@' && pos + 1 < name.size()) {
    parts.modifier = std::string(name.substr(pos + 1));
  }
  return parts;
}

std::string normalize_codeset(std::string_view codeset) {
  std::string out;
  bool only_digits = true;
  for (char c : codeset) {
    if (is_alpha(c)) {
      out += ascii_lower(c);
      only_digits = false;
    } else if (is_digit(c)) {
      out += c;
    }
  }
  return only_digits ? "iso" + out : out;
}

std::string archive_lookup_name(std::string_view name) {
  std::size_t dot = name.find('.');
  if (dot == std::string_view::npos || dot + 1 >= name.size() || name[dot + 1] == '@') {
    return std::string(name);
  }
  std::size_t rest = name.find('@', dot + 1);
  if (rest == std::string_view::npos) rest = name.size();
  return std::string(name.substr(0, dot + 1)) +
         normalize_codeset(name.substr(dot + 1, rest - dot - 1)) + std::string(name.substr(rest));
}

std::vector<std::string> locale_directory_variants(std::string_view name) {
  const LocaleNameParts p = split_locale_name(name);
  int mask = 0;
  if (p.territory) mask |= kXpgTerritory;
  if (p.codeset) mask |= kXpgCodeset;
  if (p.normalized_codeset) mask |= kXpgNormCodeset;
  if (p.modifier) mask |= kXpgModifier;
  std::vector<std::string> out;
  for (int cnt = mask; cnt >= 0; --cnt) {
    if ((cnt & ~mask) != 0) continue;
    // An entry naming both the codeset and the normalised codeset is never loaded.
    if ((cnt & kXpgCodeset) != 0 && (cnt & kXpgNormCodeset) != 0) continue;
    std::string v = p.language;
    if ((cnt & kXpgTerritory) != 0) v += "_" + *p.territory;
    if ((cnt & kXpgCodeset) != 0) v += "." + *p.codeset;
    if ((cnt & kXpgNormCodeset) != 0) v += "." + *p.normalized_codeset;
    if ((cnt & kXpgModifier) != 0) v += "@" + *p.modifier;
    if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(std::move(v));
  }
  return out;
}

bool is_builtin_locale(std::string_view name) { return name == "C" || name == "POSIX"; }

bool is_valid_locale_name(std::string_view name) {
  if (name.size() > 255) return false;
  if (name.find("/../") != std::string_view::npos) return false;
  if (name == "..") return false;
  if (name.size() >= 3 && (name.starts_with("../") || name.ends_with("/.."))) return false;
  if (name.find('/') != std::string_view::npos && name.front() != '/') return false;
  return true;
}

bool codesets_match(std::string_view requested, std::string_view actual) {
  const std::string a = strip_charset(requested);
  const std::string b = strip_charset(actual);
  if (a == b) return true;
  const auto ca = builtin_canonical(a);
  const auto cb = builtin_canonical(b);
  if (ca || cb) return ca && cb && *ca == *cb;
  return normalize_codeset(requested) == normalize_codeset(actual);
}

bool is_utf8_codeset(std::string_view codeset) { return normalize_codeset(codeset) == "utf8"; }

std::optional<std::string> LocaleAliases::expand(std::string_view name) const {
  for (const auto& [alias, value] : entries_) {
    if (iequals(alias, name)) return value;
  }
  return std::nullopt;
}

LocaleAliases parse_locale_alias(std::string_view text) {
  // glibc reads with fgets into a 400-byte buffer and drops the rest of a longer line.
  constexpr std::size_t kLineBuffer = 399;
  std::vector<std::pair<std::string, std::string>> entries;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    std::string_view line =
        text.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    pos = (eol == std::string_view::npos) ? text.size() : eol + 1;
    line = line.substr(0, std::min(line.size(), kLineBuffer));
    line = line.substr(0, line.find('\0'));  // a C string ends at the first NUL

    std::size_t i = 0;
    while (i < line.size() && is_space(line[i])) ++i;
    if (i >= line.size() || line[i] == '#') continue;
    std::size_t alias_start = i;
    while (i < line.size() && !is_space(line[i])) ++i;
    std::string_view alias = line.substr(alias_start, i - alias_start);
    while (i < line.size() && is_space(line[i])) ++i;
    if (i >= line.size()) continue;
    std::size_t value_start = i;
    while (i < line.size() && !is_space(line[i])) ++i;
    entries.emplace_back(std::string(alias),
                         std::string(line.substr(value_start, i - value_start)));
  }
  return LocaleAliases(std::move(entries));
}

}  // namespace pycheck
