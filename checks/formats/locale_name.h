// glibc's handling of locale names, as pure functions: how a name such as
// "en_US.UTF-8@euro" is split, how its codeset is normalised, which names the
// locale archive and the locale directories are searched under, and what
// locale.alias maps it to. Mirrors glibc 2.36: intl/explodename.c,
// intl/l10nflist.c, intl/localealias.c, locale/findlocale.c,
// locale/loadarchive.c and the builtin aliases of iconv/gconv_builtin.h.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pycheck {

// Where glibc reads aliases (LOCALE_ALIAS_PATH "/usr/share/locale" + "/locale.alias";
// checked with strace on Debian 12, where it is a symlink to /etc/locale.alias from
// the `locales` package).
inline constexpr std::string_view kLocaleAliasPath = "/usr/share/locale/locale.alias";
// glibc's compiled-in locale directory (COMPLOCALEDIR), searched after LOCPATH.
inline constexpr std::string_view kLocaleDir = "/usr/lib/locale";

// language[_territory][.codeset][@modifier], split as _nl_explode_name does.
// A part is present only when glibc would use it in a directory name: an
// empty territory, codeset or modifier counts as absent. A name that starts
// with '_', '.' or '@' is not split at all (all of it is the language).
struct LocaleNameParts {
  std::string language;
  std::optional<std::string> territory;
  std::optional<std::string> codeset;
  // Set when glibc adds a normalised-codeset variant (it differs from `codeset`).
  std::optional<std::string> normalized_codeset;
  std::optional<std::string> modifier;
};
LocaleNameParts split_locale_name(std::string_view name);

// _nl_normalize_codeset: ASCII letters lower-cased, digits kept, everything
// else dropped; an all-digit result gets an "iso" prefix ("8859-1" -> "iso88591").
std::string normalize_codeset(std::string_view codeset);

// The name glibc looks up in the locale archive: the codeset (the text after the
// first '.', up to '@') replaced by its normalised form ("en_US.UTF-8" -> "en_US.utf8").
std::string archive_lookup_name(std::string_view name);

// The directory names glibc tries, in order, under each locale directory
// (_nl_make_l10nflist): codeset, then normalised codeset, then territory, then
// modifier are dropped. "xx_YY.UTF-8" -> xx_YY.UTF-8, xx_YY.utf8, xx_YY,
// xx.UTF-8, xx.utf8, xx. Duplicates are removed.
std::vector<std::string> locale_directory_variants(std::string_view name);

// "C" and "POSIX" are built into glibc; nothing is loaded for them.
bool is_builtin_locale(std::string_view name);

// glibc's valid_locale_name: at most 255 bytes, no "../"-style traversal, and a
// '/' only when the name starts with one. setlocale fails (EINVAL) otherwise.
bool is_valid_locale_name(std::string_view name);

// Whether a codeset named in a locale name matches the codeset recorded in the
// locale data, as glibc's check after a directory lookup does (findlocale.c:
// strip, upper-case, then compare via iconv aliases). The UTF-8 and ASCII alias
// families are glibc builtins and compared exactly; other charsets (whose aliases
// live in gconv-modules, which is not read) are compared by normalised codeset.
bool codesets_match(std::string_view requested, std::string_view actual);

// True for any spelling of UTF-8 that normalises to "utf8".
bool is_utf8_codeset(std::string_view codeset);

// The alias table of locale.alias. Lookups are case-insensitive, as glibc's
// (strcasecmp) are; expansion is a single step.
class LocaleAliases {
 public:
  LocaleAliases() = default;
  explicit LocaleAliases(std::vector<std::pair<std::string, std::string>> entries)
      : entries_(std::move(entries)) {}

  // The value for `name`, or nullopt. For duplicated aliases the first one wins
  // (glibc's bsearch may return any of them).
  std::optional<std::string> expand(std::string_view name) const;
  std::size_t size() const { return entries_.size(); }
  const std::vector<std::pair<std::string, std::string>>& entries() const { return entries_; }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
};

// Parses locale.alias text as glibc's read_alias_file does: per line, leading
// white space skipped, '#' starts a comment, then an alias and a value separated
// by white space; a line without a value is ignored; only the first 399 bytes of
// a line count. Any text parses (there is no "invalid" alias file).
LocaleAliases parse_locale_alias(std::string_view text);

}  // namespace pycheck
