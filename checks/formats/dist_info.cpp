#include "checks/formats/dist_info.h"
#include "agent/core/text.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <tuple>

namespace pycheck {
namespace {

bool is_header_name(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

// A cursor over a lower-cased version string.
struct Cursor {
  std::string_view s;
  std::size_t i = 0;
  bool done() const { return i >= s.size(); }
  char peek() const { return done() ? '\0' : s[i]; }
  bool digit() const { return !done() && s[i] >= '0' && s[i] <= '9'; }
  bool accept(std::string_view word) {
    if (s.substr(i).starts_with(word)) {
      i += word.size();
      return true;
    }
    return false;
  }
  bool separator() const { return peek() == '-' || peek() == '_' || peek() == '.'; }
  // Reads digits; false when there are none or they overflow.
  bool number(long* out) {
    std::size_t start = i;
    while (digit()) ++i;
    if (i == start) return false;
    auto [ptr, ec] = std::from_chars(s.data() + start, s.data() + i, *out);
    return ec == std::errc() && ptr == s.data() + i;
  }
  // An optional separator then an optional number (0 when absent): "rc1", "rc.1", "rc".
  bool implicit_number(long* out) {
    std::size_t save = i;
    if (separator()) ++i;
    if (digit()) return number(out);
    i = save;
    *out = 0;
    return true;
  }
};

// Tries each spelling in order; the longer spellings come first so "preview"
// is not read as "pre" + "view".
bool accept_any(Cursor& c, std::initializer_list<std::string_view> words, std::string_view* hit) {
  for (std::string_view w : words) {
    if (c.accept(w)) {
      *hit = w;
      return true;
    }
  }
  return false;
}

}  // namespace

Result<DistMetadata> parse_dist_metadata(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) return Error{"binary data, not core metadata"};
  DistMetadata meta;
  std::string* last = nullptr;
  std::string ignored;
  std::size_t pos = 0;
  std::size_t line_no = 0;
  while (pos < text.size()) {  // not split_lines: the header block ends early, the body is long
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (trim(line).empty()) break;  // end of the header block; the description follows
    if (line.front() == ' ' || line.front() == '\t') {
      if (last == nullptr) return Error{"line 1 is not a \"Name: value\" header"};
      *last += " " + std::string(trim(line));
      continue;
    }
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || !is_header_name(line.substr(0, colon))) {
      if (line_no == 1) {
        return Error{"line 1 is not a \"Name: value\" header: \"" +
                     std::string(line.substr(0, 60)) + "\""};
      }
      break;
    }
    const std::string key = lowercase(line.substr(0, colon));
    const std::string value(trim(line.substr(colon + 1)));
    last = &ignored;
    if (key == "metadata-version") last = &meta.metadata_version;
    if (key == "name") last = &meta.name;
    if (key == "version") last = &meta.version;
    if (key == "summary") last = &meta.summary;
    // The first occurrence of a single-valued field counts.
    if (last != &ignored && last->empty()) {
      *last = value;
    } else {
      last = &ignored;
    }
  }
  if (meta.name.empty()) return Error{"no \"Name:\" header"};
  if (meta.version.empty()) return Error{"no \"Version:\" header"};
  return meta;
}

std::optional<DistName> parse_dist_info_dir_name(std::string_view dir_name) {
  constexpr std::string_view kSuffix = ".dist-info";
  if (!dir_name.ends_with(kSuffix)) return std::nullopt;
  dir_name.remove_suffix(kSuffix.size());
  std::size_t dash = dir_name.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == dir_name.size()) {
    return std::nullopt;
  }
  return DistName{std::string(dir_name.substr(0, dash)), std::string(dir_name.substr(dash + 1))};
}

std::optional<DistName> parse_wheel_file_name(std::string_view file_name) {
  if (!file_name.ends_with(".whl")) return std::nullopt;
  file_name.remove_suffix(4);
  const std::vector<std::string_view> parts = split(file_name, '-');
  // name-version[-build]-python-abi-platform
  if (parts.size() != 5 && parts.size() != 6) return std::nullopt;
  if (parts[0].empty() || parts[1].empty()) return std::nullopt;
  return DistName{std::string(parts[0]), std::string(parts[1])};
}

std::optional<Pep440Version> parse_pep440(std::string_view text) {
  const std::string lowered = lowercase(trim(text));
  Cursor c{lowered};
  Pep440Version v;
  c.accept("v");
  long first = 0;
  if (!c.number(&first)) return std::nullopt;
  if (c.accept("!")) {
    v.epoch = first;
    if (!c.number(&first)) return std::nullopt;
  }
  v.release.push_back(first);
  while (c.peek() == '.' && c.i + 1 < c.s.size() && c.s[c.i + 1] >= '0' && c.s[c.i + 1] <= '9') {
    ++c.i;
    long part = 0;
    if (!c.number(&part)) return std::nullopt;
    v.release.push_back(part);
  }
  // Pre-release.
  {
    std::size_t save = c.i;
    if (c.separator()) ++c.i;
    std::string_view word;
    if (accept_any(c, {"alpha", "beta", "preview", "pre", "rc", "a", "b", "c"}, &word)) {
      v.pre_kind = (word == "alpha" || word == "a")  ? 'a'
                   : (word == "beta" || word == "b") ? 'b'
                                                     : 'c';
      if (!c.implicit_number(&v.pre_number)) return std::nullopt;
    } else {
      c.i = save;
    }
  }
  // Post-release: "-1" or [sep](post|rev|r)[sep][N].
  {
    std::size_t save = c.i;
    long n = 0;
    std::string_view word;
    if (c.peek() == '-' && c.i + 1 < c.s.size() && c.s[c.i + 1] >= '0' && c.s[c.i + 1] <= '9') {
      ++c.i;
      if (!c.number(&n)) return std::nullopt;
      v.post = n;
    } else {
      if (c.separator()) ++c.i;
      if (accept_any(c, {"post", "rev", "r"}, &word)) {
        if (!c.implicit_number(&n)) return std::nullopt;
        v.post = n;
      } else {
        c.i = save;
      }
    }
  }
  // Development release.
  {
    std::size_t save = c.i;
    if (c.separator()) ++c.i;
    long n = 0;
    if (c.accept("dev")) {
      if (!c.implicit_number(&n)) return std::nullopt;
      v.dev = n;
    } else {
      c.i = save;
    }
  }
  if (c.accept("+")) {
    std::string_view local = c.s.substr(c.i);
    if (local.empty() || !std::isalnum(static_cast<unsigned char>(local.front())) ||
        !std::isalnum(static_cast<unsigned char>(local.back()))) {
      return std::nullopt;
    }
    for (char ch : local) {
      if (std::isalnum(static_cast<unsigned char>(ch))) {
        v.local += ch;
      } else if ((ch == '.' || ch == '-' || ch == '_') && v.local.back() != '.') {
        v.local += '.';
      } else {
        return std::nullopt;
      }
    }
    c.i = c.s.size();
  }
  if (!c.done()) return std::nullopt;
  return v;
}

std::string Pep440Version::str() const {
  std::string out;
  if (epoch != 0) out += std::to_string(epoch) + "!";
  append_joined(out, release, ".", [](std::string& o, auto n) { o += std::to_string(n); });
  if (pre_kind != 0) {
    out += pre_kind == 'c' ? std::string("rc") : std::string(1, pre_kind);
    out += std::to_string(pre_number);
  }
  if (post) out += ".post" + std::to_string(*post);
  if (dev) out += ".dev" + std::to_string(*dev);
  if (!local.empty()) out += "+" + local;
  return out;
}

int compare_pep440(const Pep440Version& a, const Pep440Version& b) {
  if (a.epoch != b.epoch) return a.epoch < b.epoch ? -1 : 1;
  const std::size_t n = std::max(a.release.size(), b.release.size());
  for (std::size_t i = 0; i < n; ++i) {  // missing parts are 0: 1.0 == 1.0.0
    long x = i < a.release.size() ? a.release[i] : 0;
    long y = i < b.release.size() ? b.release[i] : 0;
    if (x != y) return x < y ? -1 : 1;
  }
  constexpr long kLow = std::numeric_limits<long>::min();
  constexpr long kHigh = std::numeric_limits<long>::max();
  // packaging's sort key: a bare .devN sorts before any pre-release of the same
  // release; no pre-release sorts after all of them; no post before any post;
  // no dev after any dev.
  auto key = [&](const Pep440Version& v) {
    std::tuple<long, long> pre;
    if (v.pre_kind == 0 && !v.post && v.dev) {
      pre = {kLow, 0};
    } else if (v.pre_kind == 0) {
      pre = {kHigh, 0};
    } else {
      pre = {v.pre_kind, v.pre_number};
    }
    long post = v.post ? *v.post : kLow;
    long dev = v.dev ? *v.dev : kHigh;
    return std::tuple(pre, post, dev);
  };
  auto ka = key(a);
  auto kb = key(b);
  if (ka != kb) return ka < kb ? -1 : 1;
  if (a.local == b.local) return 0;
  // A local version sorts after the same public version; segments compare as
  // numbers when both are numeric, a number beats a word, words compare as text.
  if (a.local.empty() || b.local.empty()) return a.local.empty() ? -1 : 1;
  const auto sa = split(a.local, '.');
  const auto sb = split(b.local, '.');
  auto numeric = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  for (std::size_t i = 0; i < std::min(sa.size(), sb.size()); ++i) {
    bool na = numeric(sa[i]);
    bool nb = numeric(sb[i]);
    if (na && nb) {
      std::string_view x = sa[i].substr(std::min(sa[i].find_first_not_of('0'), sa[i].size()));
      std::string_view y = sb[i].substr(std::min(sb[i].find_first_not_of('0'), sb[i].size()));
      if (x.size() != y.size()) return x.size() < y.size() ? -1 : 1;
      if (x != y) return x < y ? -1 : 1;
    } else if (na != nb) {
      return na ? 1 : -1;
    } else if (sa[i] != sb[i]) {
      return sa[i] < sb[i] ? -1 : 1;
    }
  }
  if (sa.size() != sb.size()) return sa.size() < sb.size() ? -1 : 1;
  return 0;
}

std::optional<int> compare_pep440(std::string_view a, std::string_view b) {
  auto va = parse_pep440(a);
  auto vb = parse_pep440(b);
  if (!va || !vb) return std::nullopt;
  return compare_pep440(*va, *vb);
}

}  // namespace pycheck
