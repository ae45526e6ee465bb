#include "checks/formats/debian_version.h"

#include <climits>

namespace pycheck {
namespace {

// dpkg uses its own ASCII-only c_isdigit/c_isalpha/c_isblank, never the locale's.
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_blank(char c) { return c == ' ' || c == '\t'; }

// verrevcmp's weight of a non-digit character; 0 for digits and the end.
int order(char c) {
  if (is_digit(c)) return 0;
  if (is_alpha(c)) return c;
  if (c == '~') return -1;
  if (c != '\0') return c + 256;
  return 0;
}

struct VersionParts {
  unsigned epoch = 0;
  std::string_view upstream;
  std::string_view revision;
};

// dpkg's parseversion on views. Returns nullptr on success, else dpkg's message.
const char* split_version(std::string_view text, VersionSyntax syntax, VersionParts& out) {
  std::size_t begin = 0;
  while (begin < text.size() && is_blank(text[begin])) ++begin;
  if (begin == text.size()) return "version string is empty";
  std::size_t end = begin;
  while (end < text.size() && !is_blank(text[end])) ++end;
  for (std::size_t i = end; i < text.size(); ++i) {
    if (!is_blank(text[i])) return "version string has embedded spaces";
  }
  std::string_view version = text.substr(begin, end - begin);
  // dpkg's versions are C strings: a NUL would end it there. Garbage, not a version.
  if (version.find('\0') != std::string_view::npos) return "version string has embedded NUL byte";

  out.epoch = 0;
  const std::size_t colon = version.find(':');
  if (colon != std::string_view::npos) {
    // Mirrors strtol(): an optional sign, then decimal digits ending at the colon.
    std::size_t i = 0;
    bool negative = false;
    if (version[i] == '+' || version[i] == '-') negative = version[i++] == '-';
    const std::size_t digits_begin = i;
    unsigned long long epoch = 0;
    bool too_big = false;
    while (i < version.size() && is_digit(version[i])) {
      if (!too_big) epoch = epoch * 10 + static_cast<unsigned>(version[i] - '0');
      if (epoch > static_cast<unsigned long long>(INT_MAX)) too_big = true;  // stop growing
      ++i;
    }
    if (i == digits_begin) return "epoch in version is empty";
    if (i != colon) return "epoch in version is not number";
    if (negative && epoch != 0) return "epoch in version is negative";
    if (too_big) return "epoch in version is too big";
    if (colon + 1 == version.size()) return "nothing after colon in version number";
    out.epoch = static_cast<unsigned>(epoch);
    version.remove_prefix(colon + 1);
  }

  const std::size_t hyphen = version.rfind('-');
  if (hyphen != std::string_view::npos) {
    out.upstream = version.substr(0, hyphen);
    out.revision = version.substr(hyphen + 1);
    if (out.revision.empty()) return "revision number is empty";
  } else {
    out.upstream = version;
    out.revision = {};
  }
  if (out.upstream.empty()) return "upstream version is empty";
  if (syntax == VersionSyntax::lenient) return nullptr;

  // dpkg's warnings.
  if (!is_digit(out.upstream.front())) return "version number does not start with digit";
  for (char c : out.upstream) {
    if (!is_digit(c) && !is_alpha(c) &&
        std::string_view(".-+~:").find(c) == std::string_view::npos) {
      return "invalid character in version number";
    }
  }
  for (char c : out.revision) {
    if (!is_digit(c) && !is_alpha(c) && std::string_view(".+~").find(c) == std::string_view::npos) {
      return "invalid character in revision number";
    }
  }
  return nullptr;
}

Error version_error(std::string_view text, const char* reason) {
  std::string shown(text.substr(0, 80));
  if (text.size() > 80) shown += "...";
  return Error{"invalid version '" + shown + "': " + reason};
}

int compare_parts(const VersionParts& a, const VersionParts& b) {
  if (a.epoch != b.epoch) return a.epoch > b.epoch ? 1 : -1;
  const int upstream = compare_version_part(a.upstream, b.upstream);
  if (upstream != 0) return upstream;
  return compare_version_part(a.revision, b.revision);
}

}  // namespace

std::string DebianVersion::to_string() const {
  std::string out;
  // A ':' anywhere needs the epoch written even when 0: "1:2" alone would
  // read as epoch 1, "1-2:" as the bad epoch "1-2".
  const bool has_colon =
      upstream.find(':') != std::string::npos || revision.find(':') != std::string::npos;
  if (epoch != 0 || has_colon) out = std::to_string(epoch) + ":";
  out += upstream;
  if (!revision.empty()) out += "-" + revision;
  return out;
}

Result<DebianVersion> parse_debian_version(std::string_view text, VersionSyntax syntax) {
  VersionParts parts;
  if (const char* reason = split_version(text, syntax, parts)) return version_error(text, reason);
  return DebianVersion{parts.epoch, std::string(parts.upstream), std::string(parts.revision)};
}

int compare_version_part(std::string_view a, std::string_view b) {
  // dpkg walks NUL-terminated strings: a part ends at its first NUL. (Reading
  // past it, a NUL weighed like the end and stepped over a digit on the other
  // side, which made the order intransitive.)
  a = a.substr(0, a.find('\0'));
  b = b.substr(0, b.find('\0'));
  // The character at i, or '\0' past the end.
  auto at = [](std::string_view s, std::size_t i) { return i < s.size() ? s[i] : '\0'; };
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < a.size() || j < b.size()) {
    int first_diff = 0;
    while ((i < a.size() && !is_digit(a[i])) || (j < b.size() && !is_digit(b[j]))) {
      const int ac = order(at(a, i));
      const int bc = order(at(b, j));
      if (ac != bc) return ac - bc;
      ++i;
      ++j;
    }
    while (at(a, i) == '0') ++i;
    while (at(b, j) == '0') ++j;
    while (is_digit(at(a, i)) && is_digit(at(b, j))) {
      if (first_diff == 0) first_diff = at(a, i) - at(b, j);
      ++i;
      ++j;
    }
    if (is_digit(at(a, i))) return 1;
    if (is_digit(at(b, j))) return -1;
    if (first_diff != 0) return first_diff;
  }
  return 0;
}

int compare_debian_versions(const DebianVersion& a, const DebianVersion& b) {
  return compare_parts({a.epoch, a.upstream, a.revision}, {b.epoch, b.upstream, b.revision});
}

Result<int> compare_debian_versions(std::string_view a, std::string_view b) {
  VersionParts pa;
  VersionParts pb;
  if (const char* reason = split_version(a, VersionSyntax::lenient, pa)) {
    return version_error(a, reason);
  }
  if (const char* reason = split_version(b, VersionSyntax::lenient, pb)) {
    return version_error(b, reason);
  }
  return compare_parts(pa, pb);
}

}  // namespace pycheck
