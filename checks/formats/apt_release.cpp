#include "checks/formats/apt_release.h"

#include <mbedtls/sha256.h>

#include <array>
#include <cerrno>
#include <utility>

#include "agent/core/text.h"
#include "checks/formats/clearsigned.h"
#include "checks/formats/deb822.h"

namespace pycheck {
namespace {

Error clearsign_error(std::string_view what) {
  return Error{"clearsigned message: " + std::string(what)};
}

bool parse_number(std::string_view text, std::size_t min_digits, std::size_t max_digits, int& out) {
  if (text.size() < min_digits || text.size() > max_digits) return false;
  out = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  return true;
}

int month_number(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kMonths{
      "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
  if (name.size() != 3) return 0;
  const std::string lowered{ascii_lower(name[0]), ascii_lower(name[1]), ascii_lower(name[2])};
  for (std::size_t i = 0; i < kMonths.size(); ++i) {
    if (kMonths[i] == lowered) return static_cast<int>(i) + 1;
  }
  return 0;
}

bool is_weekday(std::string_view token) {
  static constexpr std::array<std::string_view, 7> kDays{"sun", "mon", "tue", "wed",
                                                         "thu", "fri", "sat"};
  if (token.size() != 4 || token[3] != ',') return false;
  const std::string lowered{ascii_lower(token[0]), ascii_lower(token[1]), ascii_lower(token[2])};
  for (std::string_view day : kDays) {
    if (day == lowered) return true;
  }
  return false;
}

bool is_utc_zone(std::string_view zone) {
  if (zone == "UTC" || zone == "GMT" || zone == "Z") return true;
  if (!zone.empty() && (zone.front() == '+' || zone.front() == '-')) zone.remove_prefix(1);
  return !zone.empty() && zone.size() <= 4 && zone.find_first_not_of('0') == std::string_view::npos;
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool parse_size(std::string_view text, std::uint64_t& out) {
  if (text.empty() || text.size() > 19) return false;  // 19 digits always fit in 64 bits
  out = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return true;
}

void read_sha256(const Deb822Field& field, std::size_t line_offset, AptRelease& release) {
  if (!field.value.empty()) {
    release.problems.push_back(
        {field.line + line_offset, "SHA256 field has text on its first line"});
  }
  for (const Deb822Line& line : field.continuation_lines()) {
    const std::vector<std::string_view> words = split_words(line.text);
    ReleaseFile file;
    bool ok = words.size() == 3 && words[0].size() == 64 && parse_size(words[1], file.size);
    for (char c : ok ? words[0] : std::string_view{}) ok = ok && is_hex(c);
    if (!ok) {
      release.problems.push_back(
          {line.line + line_offset,
           "malformed SHA256 line '" + std::string(line.text.substr(0, 120)) + "'"});
      continue;
    }
    for (char c : words[0]) file.sha256.push_back(ascii_lower(c));
    file.path = std::string(words[2]);
    release.sha256.push_back(std::move(file));
  }
}

void read_date(const Deb822Stanza& stanza, std::string_view name, std::size_t line_offset,
               std::string& text, std::optional<std::chrono::sys_seconds>& out,
               AptRelease& release) {
  const Deb822Field* field = stanza.find(name);
  if (field == nullptr) return;
  text = std::string(field->value);
  auto parsed = parse_release_date(text);
  if (parsed) {
    out = *parsed;
  } else {
    release.problems.push_back(
        {field->line + line_offset, std::string(name) + ": " + parsed.error().message});
  }
}

bool has_line(std::string_view text, std::string_view wanted) {
  for (std::string_view line : split_lines(text)) {
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line == wanted) return true;
  }
  return false;
}

}  // namespace

bool is_clearsigned(std::string_view text) { return starts_clearsigned(text); }

Result<std::string> clearsigned_body(std::string_view text) {
  auto parts = split_clearsigned(text);
  if (!parts) return parts.error();
  return std::move(parts->message);
}

Result<std::chrono::sys_seconds> parse_release_date(std::string_view text) {
  const std::vector<std::string_view> tokens = split_words(text);
  auto bad = [&](std::string_view why) {
    std::string message(1, '\'');
    message.append(text.substr(0, 60)).append("' is not an RFC 1123 date in UTC (");
    return Error{message.append(why).append(")")};
  };
  if (tokens.size() != 6) return bad("expected 'Www, DD Mon YYYY HH:MM:SS UTC'");
  if (!is_weekday(tokens[0])) return bad("weekday");
  int day = 0, year = 0, hour = 0, minute = 0, second = 0;
  if (!parse_number(tokens[1], 1, 2, day)) return bad("day");
  const int month = month_number(tokens[2]);
  if (month == 0) return bad("month");
  if (!parse_number(tokens[3], 4, 4, year)) return bad("year");
  const std::string_view time = tokens[4];
  if (time.size() != 8 || time[2] != ':' || time[5] != ':' ||
      !parse_number(time.substr(0, 2), 2, 2, hour) ||
      !parse_number(time.substr(3, 2), 2, 2, minute) ||
      !parse_number(time.substr(6, 2), 2, 2, second) || hour > 23 || minute > 59 || second > 60) {
    return bad("time");
  }
  if (!is_utc_zone(tokens[5])) return bad("time zone must be UTC, as apt requires");
  const std::chrono::year_month_day date{std::chrono::year{year},
                                         std::chrono::month{static_cast<unsigned>(month)},
                                         std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok()) return bad("no such day");
  return std::chrono::sys_days{date} + std::chrono::hours{hour} + std::chrono::minutes{minute} +
         std::chrono::seconds{second};
}

const ReleaseFile* AptRelease::find_file(std::string_view path) const {
  for (const ReleaseFile& file : sha256) {
    if (file.path == path) return &file;
  }
  return nullptr;
}

Result<AptRelease> parse_apt_release(std::string_view text) {
  AptRelease release;
  std::string storage;
  std::string_view body = text;
  std::size_t line_offset = 0;
  if (is_clearsigned(text)) {
    auto split = split_clearsigned(text);
    if (!split) return split.error();
    line_offset = split->lines_before_body;
    storage = std::move(split->message);
    body = storage;
    release.signed_message = true;
  } else if (has_line(text, kPgpBeginSignedMessage) || has_line(text, kPgpBeginSignature)) {
    // apt refuses these: an armored block not at the start smells of a trick.
    return clearsign_error("does not start with '" + std::string(kPgpBeginSignedMessage) + "'");
  }

  Deb822Reader reader(body, Deb822Options{.comments = false});
  Deb822Stanza stanza;
  if (!reader.next(stanza) || stanza.fields.empty()) {
    return Error{"not a Release file: no 'Field: value' lines"};
  }
  for (const Deb822Problem& p : stanza.problems) {
    release.problems.push_back({p.line + line_offset, p.message});
  }

  auto text_of = [&](std::string_view name) {
    return std::string(stanza.value(name).value_or(""));
  };
  release.origin = text_of("Origin");
  release.label = text_of("Label");
  release.suite = text_of("Suite");
  release.codename = text_of("Codename");
  release.version = text_of("Version");
  release.no_support_for_architecture_all = text_of("No-Support-for-Architecture-all");
  read_date(stanza, "Date", line_offset, release.date_text, release.date, release);
  read_date(stanza, "Valid-Until", line_offset, release.valid_until_text, release.valid_until,
            release);
  if (const Deb822Field* field = stanza.find("Acquire-By-Hash")) {
    const std::optional<bool> flag = parse_apt_bool(field->value);
    if (!flag) {
      release.problems.push_back(
          {field->line + line_offset,
           "unrecognised Acquire-By-Hash value '" + std::string(field->value) + "'"});
    }
    release.acquire_by_hash = flag.value_or(false);
  }
  if (const Deb822Field* field = stanza.find("Architectures")) {
    const std::string folded = field->folded();  // split_words returns views into it
    for (std::string_view word : split_words(folded)) release.architectures.emplace_back(word);
  }
  if (const Deb822Field* field = stanza.find("Components")) {
    const std::string folded = field->folded();
    for (std::string_view word : split_words(folded)) {
      const std::size_t slash = word.rfind('/');
      if (slash != std::string_view::npos) word.remove_prefix(slash + 1);
      if (!word.empty()) release.components.emplace_back(word);
    }
  }
  if (const Deb822Field* field = stanza.find("SHA256")) read_sha256(*field, line_offset, release);
  Deb822Stanza extra;
  if (reader.next(extra)) {
    release.problems.push_back({extra.line + line_offset, "text after the Release stanza ignored"});
  }
  return release;
}

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, 32> digest{};
  mbedtls_sha256_ret(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
                     digest.data(), 0);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * digest.size());
  for (unsigned char b : digest) {
    hex.push_back(kHex[b >> 4]);
    hex.push_back(kHex[b & 0xf]);
  }
  return hex;
}

bool is_security_suite(const AptRelease& release) {
  return release.suite.ends_with("-security") || release.codename.ends_with("-security") ||
         release.label == "Debian-Security";
}

Result<PackagesIndexChoice> pick_packages_index(const AptRelease& release,
                                                std::string_view component,
                                                std::string_view architecture) {
  const std::string directory =
      std::string(component) + "/binary-" + std::string(architecture) + "/";
  for (Compression format : {Compression::xz, Compression::gzip, Compression::none}) {
    const std::string path = directory + "Packages" + std::string(file_suffix(format));
    const ReleaseFile* file = release.find_file(path);
    if (file == nullptr) continue;
    PackagesIndexChoice choice{path, path, file->sha256, file->size, format};
    if (release.acquire_by_hash) choice.fetch_path = directory + "by-hash/SHA256/" + file->sha256;
    return choice;
  }
  return Error{"the Release file lists no " + directory + "Packages index (.xz, .gz or plain)",
               ENOENT};
}

}  // namespace pycheck
