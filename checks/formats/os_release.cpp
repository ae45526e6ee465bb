#include "checks/formats/os_release.h"

namespace pycheck {
namespace {

bool blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

bool valid_key(std::string_view key) {
  if (key.empty()) return false;
  const auto letter = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
  };
  if (!letter(key.front())) return false;
  for (char c : key) {
    if (!letter(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

// Reads files one character at a time, as systemd's parse_env_file does, so a
// quoted value may span lines.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  Result<OsRelease> run() {
    OsRelease out;
    while (pos_ < text_.size()) {
      while (pos_ < text_.size() && blank(text_[pos_])) ++pos_;
      if (pos_ >= text_.size()) break;
      if (text_[pos_] == '\n') {
        next_line();
        continue;
      }
      const std::size_t start_line = line_;
      if (text_[pos_] == '#' || text_[pos_] == ';') {
        skip_line();
        continue;
      }
      std::size_t eq = pos_;
      while (eq < text_.size() && text_[eq] != '=' && text_[eq] != '\n') ++eq;
      std::string_view key = text_.substr(pos_, eq - pos_);
      while (!key.empty() && blank(key.back())) key.remove_suffix(1);
      if (eq >= text_.size() || text_[eq] != '=') {
        out.problems.push_back("line " + std::to_string(start_line) + ": no '=' in \"" +
                               std::string(key.substr(0, 60)) + "\"");
        skip_line();
        continue;
      }
      pos_ = eq + 1;
      std::string error;
      std::string value = read_value(error);
      if (!error.empty()) {
        out.problems.push_back("line " + std::to_string(start_line) + ": " + error);
        continue;
      }
      if (!valid_key(key)) {
        out.problems.push_back("line " + std::to_string(start_line) + ": \"" +
                               std::string(key.substr(0, 60)) + "\" is not a variable name");
        continue;
      }
      out.fields[std::string(key)] = std::move(value);
    }
    if (out.fields.empty()) {
      std::string why = out.problems.empty() ? "empty" : out.problems.front();
      return Error{"no KEY=value assignment (" + why + ")"};
    }
    return out;
  }

 private:
  void next_line() {
    ++pos_;
    ++line_;
  }
  void skip_line() {
    while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
    if (pos_ < text_.size()) next_line();
  }

  // From just after '=' to the end of the value (its newline is consumed).
  std::string read_value(std::string& error) {
    std::string value;
    std::size_t trailing_blanks = 0;  // unquoted trailing blanks are dropped
    while (pos_ < text_.size() && blank(text_[pos_])) ++pos_;  // and leading ones
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '\n') {
        next_line();
        break;
      }
      if (c == '\\') {
        trailing_blanks = 0;
        if (pos_ + 1 >= text_.size()) {
          ++pos_;
          break;
        }
        if (text_[pos_ + 1] == '\n') {  // line continuation
          pos_ += 2;
          ++line_;
          continue;
        }
        value += text_[pos_ + 1];
        pos_ += 2;
        continue;
      }
      if (c == '"' || c == '\'') {
        trailing_blanks = 0;
        if (!read_quoted(c, value)) {
          error = std::string("unterminated ") + (c == '"' ? "double" : "single") + " quote";
          return value;
        }
        continue;
      }
      value += c;
      trailing_blanks = blank(c) ? trailing_blanks + 1 : 0;
      ++pos_;
    }
    value.resize(value.size() - trailing_blanks);
    return value;
  }

  // Appends the quoted text at pos_ (an opening quote) to `value`; false when
  // the closing quote is missing.
  bool read_quoted(char quote, std::string& value) {
    ++pos_;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      const char c = text_[pos_];
      if (quote == '"' && c == '\\' && pos_ + 1 < text_.size()) {
        const char next = text_[pos_ + 1];
        if (next == '\n') {
          pos_ += 2;
          ++line_;
          continue;
        }
        if (next == '"' || next == '\\' || next == '`' || next == '$') {
          value += next;
          pos_ += 2;
          continue;
        }
      }
      if (c == '\n') ++line_;
      value += c;
      ++pos_;
    }
    if (pos_ >= text_.size()) return false;
    ++pos_;  // the closing quote
    return true;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
};

}  // namespace

std::optional<std::string> OsRelease::get(std::string_view key) const {
  auto it = fields.find(std::string(key));
  if (it == fields.end()) return std::nullopt;
  return it->second;
}

std::string OsRelease::id() const {
  auto v = get("ID");
  return v && !v->empty() ? *v : "linux";
}

std::string OsRelease::name() const {
  auto v = get("NAME");
  return v && !v->empty() ? *v : "Linux";
}

std::string OsRelease::pretty_name() const {
  auto v = get("PRETTY_NAME");
  return v && !v->empty() ? *v : "Linux";
}

std::vector<std::string> OsRelease::id_like() const {
  std::vector<std::string> out;
  const std::string value = get("ID_LIKE").value_or("");
  std::size_t pos = 0;
  while (pos < value.size()) {
    while (pos < value.size() && blank(value[pos])) ++pos;
    std::size_t end = pos;
    while (end < value.size() && !blank(value[end])) ++end;
    if (end > pos) out.push_back(value.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

std::string OsRelease::version_id() const { return get("VERSION_ID").value_or(""); }

std::string OsRelease::version_codename() const { return get("VERSION_CODENAME").value_or(""); }

Result<OsRelease> parse_os_release(std::string_view text) {
  if (text.find('\0') != std::string_view::npos)
    return Error{"binary data, not an os-release file"};
  return Scanner(text).run();
}

Result<std::string> parse_debian_version(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) {
    return Error{"binary data, not a debian_version file"};
  }
  std::string_view line = text.substr(0, text.find('\n'));
  while (!line.empty() && (blank(line.front()))) line.remove_prefix(1);
  while (!line.empty() && (blank(line.back()))) line.remove_suffix(1);
  if (line.empty()) return Error{"empty"};
  return std::string(line);
}

}  // namespace pycheck
