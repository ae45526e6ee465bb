#include "checks/formats/apt_sources.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <utility>

#include "agent/core/text.h"
#include "checks/formats/deb822.h"

namespace pycheck {
namespace {

// C isspace() in the "C" locale, which apt's ParseQuoteWord uses.
bool is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

bool is_xdigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

// apt's ParseQuoteWord: skips leading spaces, takes a word up to whitespace
// (a "..." or [...] group counts as part of the word even with spaces inside),
// removes the double quotes, decodes %xx, and skips the whitespace after it.
// `raw_end` receives the position just past the word in `text`.
bool parse_quote_word(std::string_view text, std::size_t& pos, std::string& word,
                      std::size_t& raw_end) {
  while (pos < text.size() && text[pos] == ' ') ++pos;
  if (pos >= text.size()) return false;
  std::size_t end = pos;
  for (; end < text.size() && !is_space(text[end]); ++end) {
    if (text[end] == '"' || text[end] == '[') {
      const std::size_t close = text.find(text[end] == '"' ? '"' : ']', end + 1);
      if (close == std::string_view::npos) return false;
      end = close;
    }
  }
  word.clear();
  for (std::size_t i = pos; i < end; ++i) {
    if (text[i] == '%' && i + 2 < end && is_xdigit(text[i + 1]) && is_xdigit(text[i + 2])) {
      word.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
      i += 2;
    } else if (text[i] != '"') {
      word.push_back(text[i]);
    }
  }
  raw_end = end;
  while (end < text.size() && is_space(text[end])) ++end;
  pos = end;
  return true;
}

bool parse_type(std::string_view word, AptSourceType& type) {
  if (word == "deb") {
    type = AptSourceType::deb;
  } else if (word == "deb-src") {
    type = AptSourceType::deb_src;
  } else {
    return false;
  }
  return true;
}

// apt's FixupURI, minus its re-rendering through the URI class: a URI needs a
// scheme (a ':') and always ends with '/'.
bool fixup_uri(std::string& uri) {
  if (uri.empty() || uri.find(':') == std::string::npos) return false;
  if (uri.back() != '/') uri.push_back('/');
  return true;
}

std::vector<std::string> to_strings(const std::vector<std::string_view>& words) {
  return {words.begin(), words.end()};
}

// Fills the typed members from the option map; bad values become problems.
void apply_options(AptSourceEntry& entry, std::vector<AptSourcesProblem>& problems) {
  if (auto it = entry.options.find("arch"); it != entry.options.end()) {
    entry.architectures = to_strings(split_words(it->second, true));
  }
  if (auto it = entry.options.find("signed-by"); it != entry.options.end()) {
    if (it->second.find("-----BEGIN PGP PUBLIC KEY BLOCK-----") != std::string::npos) {
      entry.signed_by_key = it->second;
    } else {
      entry.signed_by = to_strings(split_words(it->second, true));
    }
  }
  if (auto it = entry.options.find("trusted"); it != entry.options.end()) {
    entry.trusted = parse_apt_bool(it->second);
    if (!entry.trusted) {
      problems.push_back(
          {entry.origin, entry.line, "unrecognised trusted value '" + it->second + "' (ignored)"});
    }
  }
}

// apt's comment rule for one-line files: '#' starts a comment unless more
// '[' than ']' precede it (a '#' inside an option value).
std::string_view strip_comment(std::string_view line) {
  int depth = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '[') ++depth;
    if (line[i] == ']') --depth;
    if (line[i] == '#' && depth <= 0) return line.substr(0, i);
  }
  return line;
}

// Parses one non-empty, comment-free line; returns an error message or "".
std::string parse_one_line(std::string_view line, AptSourceEntry& proto,
                           std::vector<AptSourceEntry>& out) {
  const std::size_t type_end = line.find_first_of(" \t\v");
  if (type_end == std::string_view::npos) return "malformed line (type)";
  const std::string_view type_word = line.substr(0, type_end);
  if (!parse_type(type_word, proto.type)) {
    return "type '" + std::string(type_word) + "' is not known";
  }
  std::size_t pos = type_end;
  while (pos < line.size() && is_space(line[pos])) ++pos;
  std::string word;
  std::size_t raw_end = 0;
  if (pos < line.size() && line[pos] == '[') {
    ++pos;
    while (pos < line.size() && is_space(line[pos])) ++pos;
    while (pos >= line.size() || line[pos] != ']') {
      if (!parse_quote_word(line, pos, word, raw_end)) return "[option] unparsable";
      if (word.size() < 3) return "[option] too short";
      if (word.back() == ']') {  // "arch=amd64]": the option list ends right after it
        pos = line.rfind(']', raw_end - 1);
        word.pop_back();
      }
      const std::size_t equals = word.find('=');
      if (equals == std::string::npos) return "[option] not assignment";
      if (equals == 0) return "[option] no key";
      if (equals + 1 == word.size()) return "[option] no value";
      proto.options[word.substr(0, equals)] = word.substr(equals + 1);
    }
    ++pos;
    while (pos < line.size() && is_space(line[pos])) ++pos;
  }
  std::string uri;
  if (!parse_quote_word(line, pos, uri, raw_end)) return "malformed entry (URI)";
  if (!parse_quote_word(line, pos, proto.suite, raw_end)) return "malformed entry (Suite)";
  if (!fixup_uri(uri)) return "malformed entry (URI parse): '" + uri + "'";
  proto.uri = uri;
  if (proto.flat()) {
    if (parse_quote_word(line, pos, word, raw_end)) {
      return "malformed entry (absolute Suite Component): flat suite '" + proto.suite +
             "' takes no components";
    }
  } else {
    while (parse_quote_word(line, pos, word, raw_end)) proto.components.push_back(word);
    if (proto.components.empty()) return "malformed entry (Component)";
  }
  out.push_back(std::move(proto));
  return {};
}

// deb822 field -> one-line option name; multi-valued fields are joined with ','.
struct FieldOption {
  std::string_view field;
  std::string_view option;
  bool multi;
};
constexpr std::array<FieldOption, 18> kFieldOptions{{
    {"Architectures", "arch", true},
    {"Architectures-Add", "arch+", true},
    {"Architectures-Remove", "arch-", true},
    {"Languages", "lang", true},
    {"Languages-Add", "lang+", true},
    {"Languages-Remove", "lang-", true},
    {"Targets", "target", true},
    {"Targets-Add", "target+", true},
    {"Targets-Remove", "target-", true},
    {"Trusted", "trusted", false},
    {"Check-Valid-Until", "check-valid-until", false},
    {"Valid-Until-Min", "valid-until-min", false},
    {"Valid-Until-Max", "valid-until-max", false},
    {"Check-Date", "check-date", false},
    {"Date-Max-Future", "date-max-future", false},
    {"Signed-By", "signed-by", false},
    {"PDiffs", "pdiffs", false},
    {"By-Hash", "by-hash", false},
}};

std::vector<std::string_view> field_words(const Deb822Stanza& stanza, std::string_view name,
                                          std::string& storage) {
  const Deb822Field* field = stanza.find(name);
  if (field == nullptr) return {};
  storage = field->folded();
  return split_words(storage);
}

void parse_sources_stanza(const Deb822Stanza& stanza, std::string_view origin, AptSources& out) {
  auto problem = [&](std::string message) {
    out.problems.push_back({std::string(origin), stanza.line,
                            "stanza at line " + std::to_string(stanza.line) + ": " + message});
  };
  for (const Deb822Problem& p : stanza.problems) {
    out.problems.push_back({std::string(origin), p.line, p.message});
  }
  AptSourceEntry proto;
  proto.origin = std::string(origin);
  proto.line = stanza.line;
  if (auto enabled = stanza.value("Enabled")) {
    const std::optional<bool> flag = parse_apt_bool(*enabled);
    if (!flag) problem("unrecognised Enabled value '" + std::string(*enabled) + "' (taken as yes)");
    proto.enabled = flag.value_or(true);
  }
  for (const FieldOption& mapping : kFieldOptions) {
    const Deb822Field* field = stanza.find(mapping.field);
    if (field == nullptr) continue;
    std::string value;
    if (mapping.multi) {
      const std::string folded = field->folded();
      for (std::string_view word : split_words(folded)) {
        if (!value.empty()) value.push_back(',');
        value.append(word);
      }
    } else {
      value = field->multiline_text();
    }
    proto.options[std::string(mapping.option)] = value;
  }
  apply_options(proto, out.problems);

  std::string types_text, uris_text, suites_text, components_text;
  if (stanza.find("Types") == nullptr) return problem("no Types field (apt: malformed stanza)");
  const auto types = field_words(stanza, "Types", types_text);
  const auto uris = field_words(stanza, "URIs", uris_text);
  const auto suites = field_words(stanza, "Suites", suites_text);
  const auto components = field_words(stanza, "Components", components_text);
  std::vector<AptSourceType> parsed_types;
  for (std::string_view word : types) {
    AptSourceType type;
    if (!parse_type(word, type)) return problem("type '" + std::string(word) + "' is not known");
    parsed_types.push_back(type);
  }
  if (parsed_types.empty()) return problem("empty Types field");
  if (uris.empty()) return problem("malformed entry (URI): no URIs");
  if (suites.empty()) return problem("malformed entry (Suite): no Suites");
  for (AptSourceType type : parsed_types) {
    for (std::string_view raw_uri : uris) {
      std::string uri(raw_uri);
      if (!fixup_uri(uri)) return problem("malformed entry (URI parse): '" + uri + "'");
      for (std::string_view suite : suites) {
        AptSourceEntry entry = proto;
        entry.type = type;
        entry.uri = uri;
        entry.suite = std::string(suite);
        if (entry.flat()) {
          if (!components.empty()) {
            return problem("malformed entry (absolute Suite Component): flat suite '" +
                           entry.suite + "' takes no Components");
          }
        } else {
          if (components.empty()) return problem("malformed entry (Component): no Components");
          entry.components = to_strings(components);
        }
        out.entries.push_back(std::move(entry));
      }
    }
  }
}

bool is_hex_digit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

}  // namespace

Result<SignedBy> parse_signed_by(std::string_view value) {
  SignedBy out;
  if (value.find("-----BEGIN PGP PUBLIC KEY BLOCK-----") != std::string_view::npos) {
    out.inline_key = std::string(value);
    return out;
  }
  for (std::string_view item : split_words(value, true)) {
    if (item.starts_with('/')) {
      out.keyrings.emplace_back(item);
      continue;
    }
    const bool exact = item.ends_with('!');
    const std::string_view hex = exact ? item.substr(0, item.size() - 1) : item;
    if (hex.size() != 40 || !std::all_of(hex.begin(), hex.end(), is_hex_digit)) {
      return Error{"'" + std::string(item.substr(0, 80)) +
                       "' is neither an absolute keyring path nor a 40-digit fingerprint",
                   EINVAL};
    }
    std::string fingerprint;
    for (char c : hex) fingerprint.push_back(c >= 'a' && c <= 'f' ? static_cast<char>(c - 32) : c);
    if (exact) fingerprint.push_back('!');
    out.fingerprints.push_back(std::move(fingerprint));
  }
  if (out.keyrings.empty() && out.fingerprints.empty()) return Error{"empty Signed-By", EINVAL};
  return out;
}

std::string_view to_string(AptSourceType type) {
  return type == AptSourceType::deb ? "deb" : "deb-src";
}

AptSources parse_sources_list(std::string_view text, std::string_view origin) {
  AptSources out;
  std::size_t number = 0;
  for (std::string_view raw : split_lines(text)) {
    ++number;
    const std::string_view line = trim_blanks(strip_comment(raw));
    if (line.empty()) continue;
    AptSourceEntry proto;
    proto.origin = std::string(origin);
    proto.line = number;
    const std::size_t before = out.entries.size();
    std::string error = parse_one_line(line, proto, out.entries);
    if (!error.empty()) {
      out.problems.push_back(
          {std::string(origin), number, "line " + std::to_string(number) + ": " + error});
      continue;
    }
    for (std::size_t i = before; i < out.entries.size(); ++i) {
      apply_options(out.entries[i], out.problems);
    }
  }
  return out;
}

AptSources parse_deb822_sources(std::string_view text, std::string_view origin) {
  AptSources out;
  Deb822Reader reader(text);
  Deb822Stanza stanza;
  while (reader.next(stanza)) parse_sources_stanza(stanza, origin, out);
  return out;
}

AptSources parse_apt_sources_file(std::string_view text, std::string_view origin) {
  if (origin.ends_with(".sources")) return parse_deb822_sources(text, origin);
  return parse_sources_list(text, origin);
}

}  // namespace pycheck
