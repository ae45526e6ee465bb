#include "checks/dpkg_status.h"

#include <array>

namespace pycheck {
namespace {

constexpr std::string_view kBlanks = " \t\r";

std::string_view trim(std::string_view s) {
  const std::size_t first = s.find_first_not_of(kBlanks);
  if (first == std::string_view::npos) return {};
  const std::size_t last = s.find_last_not_of(kBlanks);
  return s.substr(first, last - first + 1);
}

bool ascii_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Splits off the next blank-separated word of `s`.
std::string_view next_word(std::string_view& s) {
  s = trim(s);
  const std::size_t end = s.find_first_of(kBlanks);
  std::string_view word = s.substr(0, end);
  s = end == std::string_view::npos ? std::string_view{} : s.substr(end);
  return word;
}

struct WantName {
  DpkgWant value;
  std::string_view name;
  char abbrev;
};
constexpr std::array<WantName, 5> kWants{{{DpkgWant::unknown, "unknown", 'u'},
                                          {DpkgWant::install, "install", 'i'},
                                          {DpkgWant::hold, "hold", 'h'},
                                          {DpkgWant::deinstall, "deinstall", 'r'},
                                          {DpkgWant::purge, "purge", 'p'}}};

struct StateName {
  DpkgState value;
  std::string_view name;
  char abbrev;
};
constexpr std::array<StateName, 8> kStates{{{DpkgState::not_installed, "not-installed", 'n'},
                                            {DpkgState::config_files, "config-files", 'c'},
                                            {DpkgState::half_installed, "half-installed", 'H'},
                                            {DpkgState::unpacked, "unpacked", 'U'},
                                            {DpkgState::half_configured, "half-configured", 'F'},
                                            {DpkgState::triggers_awaited, "triggers-awaited", 'W'},
                                            {DpkgState::triggers_pending, "triggers-pending", 't'},
                                            {DpkgState::installed, "installed", 'i'}}};

// "name (version)" -> name, version. Returns false when text follows the name
// that is not a parenthesised version.
bool split_source(std::string_view value, std::string& name, std::string& version) {
  std::string_view rest = value;
  name = std::string(next_word(rest));
  rest = trim(rest);
  if (rest.empty()) return true;
  if (rest.size() < 2 || rest.front() != '(' || rest.back() != ')') return false;
  version = std::string(trim(rest.substr(1, rest.size() - 2)));
  return !version.empty();
}

// The fields kept; anything else is skipped without being copied.
enum class Field { other, package, architecture, version, status, source, multi_arch, provides };

Field classify(std::string_view name) {
  switch (name.size()) {
    case 6:
      if (ascii_iequals(name, "Status")) return Field::status;
      if (ascii_iequals(name, "Source")) return Field::source;
      break;
    case 7:
      if (ascii_iequals(name, "Package")) return Field::package;
      if (ascii_iequals(name, "Version")) return Field::version;
      break;
    case 8:
      if (ascii_iequals(name, "Provides")) return Field::provides;
      break;
    case 10:
      if (ascii_iequals(name, "Multi-Arch")) return Field::multi_arch;
      break;
    case 12:
      if (ascii_iequals(name, "Architecture")) return Field::architecture;
      break;
    default:
      break;
  }
  return Field::other;
}

// Accumulates one stanza and hands it to the database when it ends.
class StanzaBuilder {
 public:
  StanzaBuilder(std::string_view origin, DpkgStanzaMode mode, DpkgDatabase& db)
      : origin_(origin), mode_(mode), db_(db) {}

  bool open() const { return open_; }

  void field(std::size_t line, std::string_view name, std::string_view value) {
    if (!open_) start(line);
    const Field kind = classify(name);
    continuation_ = nullptr;
    if (kind == Field::other) return;
    value = trim(value);
    const auto bit = 1u << static_cast<unsigned>(kind);
    if ((seen_ & bit) != 0) {
      problem(line, "duplicate field '" + std::string(name) + "' (first value kept)");
      return;
    }
    seen_ |= bit;
    switch (kind) {
      case Field::package:
        record_.package.assign(value);
        break;
      case Field::architecture:
        record_.architecture.assign(value);
        break;
      case Field::version:
        record_.version.assign(value);
        break;
      case Field::status:
        status_text_ = value;
        status_line_ = line;
        break;
      case Field::source:
        source_text_ = value;
        break;
      case Field::multi_arch:
        record_.multi_arch.assign(value);
        break;
      case Field::provides:
        record_.provides.assign(value);
        continuation_ = &record_.provides;  // Provides may be folded over several lines
        break;
      case Field::other:
        break;
    }
  }

  void continuation(std::size_t line, std::string_view value) {
    if (!open_) {
      problem(line, "continuation line outside a stanza");
      return;
    }
    if (continuation_ == nullptr) return;
    value = trim(value);
    if (value.empty()) return;
    if (!continuation_->empty()) continuation_->push_back(' ');
    continuation_->append(value);
  }

  void bad_line(std::size_t line, std::string_view text) {
    if (!open_) start(line);
    continuation_ = nullptr;
    problem(line, "not a 'Field: value' line: '" + std::string(text.substr(0, 60)) + "'");
  }

  void finish() {
    if (!open_) return;
    open_ = false;
    const bool has_status = (seen_ & (1u << static_cast<unsigned>(Field::status))) != 0;
    if (record_.package.empty()) {
      problem(record_.line, "stanza without a Package field skipped");
      return;
    }
    if (has_status) {
      auto status = parse_dpkg_status_field(status_text_);
      if (!status) {
        problem(status_line_, "package " + record_.package + ": unparseable Status '" +
                                  std::string(status_text_) + "' (stanza skipped)");
        return;
      }
      record_.status = *status;
    } else if (mode_ == DpkgStanzaMode::status_d) {
      record_.status = {DpkgWant::install, DpkgFlag::ok, DpkgState::installed};
      record_.status_implied = true;
    } else {
      problem(record_.line, "package " + record_.package + ": no Status field (stanza skipped)");
      return;
    }
    if (!source_text_.empty() &&
        !split_source(source_text_, record_.source_name, record_.source_version)) {
      problem(record_.line, "package " + record_.package + ": malformed Source '" +
                                std::string(source_text_) + "' (name kept)");
      record_.source_version.clear();
    }
    if (!db_.add(std::move(record_))) {
      problem(
          record_.line,  // add() leaves a refused record untouched
          "duplicate stanza for " + record_.package + ":" + record_.architecture + " (first kept)");
    }
  }

 private:
  void start(std::size_t line) {
    open_ = true;
    seen_ = 0;
    record_ = DpkgRecord{};
    record_.origin = std::string(origin_);
    record_.line = line;
    status_text_ = {};
    source_text_ = {};
    status_line_ = line;
    continuation_ = nullptr;
  }
  void problem(std::size_t line, std::string message) {
    db_.add_problem({std::string(origin_), line, std::move(message)});
  }

  std::string_view origin_;
  DpkgStanzaMode mode_;
  DpkgDatabase& db_;
  bool open_ = false;
  unsigned seen_ = 0;
  DpkgRecord record_;
  std::string_view status_text_;  // views into the text being parsed, which outlives the stanza
  std::string_view source_text_;
  std::size_t status_line_ = 0;
  std::string* continuation_ = nullptr;
};

bool is_field_name_start(char c) { return c != '-' && c != ':'; }
bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

}  // namespace

std::optional<DpkgStatus> parse_dpkg_status_field(std::string_view value) {
  std::string_view rest = value;
  const std::string_view want = next_word(rest);
  const std::string_view flag = next_word(rest);
  const std::string_view state = next_word(rest);
  if (!trim(rest).empty()) return std::nullopt;
  DpkgStatus status;
  bool found = false;
  for (const WantName& w : kWants) {
    if (w.name == want) {
      status.want = w.value;
      found = true;
    }
  }
  if (!found) return std::nullopt;
  if (flag == "ok") {
    status.flag = DpkgFlag::ok;
  } else if (flag == "reinstreq") {
    status.flag = DpkgFlag::reinstreq;
  } else {
    return std::nullopt;
  }
  for (const StateName& s : kStates) {
    if (s.name == state) {
      status.state = s.value;
      return status;
    }
  }
  return std::nullopt;
}

std::string dpkg_status_abbrev(const DpkgStatus& status) {
  std::string out(3, ' ');
  for (const WantName& w : kWants) {
    if (w.value == status.want) out[0] = w.abbrev;
  }
  for (const StateName& s : kStates) {
    if (s.value == status.state) out[1] = s.abbrev;
  }
  if (status.flag == DpkgFlag::reinstreq) out[2] = 'R';
  return out;
}

std::string_view to_string(DpkgWant want) {
  for (const WantName& w : kWants) {
    if (w.value == want) return w.name;
  }
  return "unknown";
}

std::string_view to_string(DpkgState state) {
  for (const StateName& s : kStates) {
    if (s.value == state) return s.name;
  }
  return "not-installed";
}

bool is_installed(const DpkgRecord& record) {
  switch (record.status.state) {
    case DpkgState::installed:
    case DpkgState::triggers_pending:
    case DpkgState::triggers_awaited:
      return true;
    default:
      return false;
  }
}

bool has_files_on_disk(const DpkgRecord& record) {
  return record.status.state != DpkgState::not_installed &&
         record.status.state != DpkgState::config_files;
}

const DpkgRecord* DpkgDatabase::find(std::string_view package,
                                     std::string_view architecture) const {
  auto it = first_by_name_.find(package);
  if (it == first_by_name_.end()) return nullptr;
  for (std::size_t i = it->second; i != kNone; i = next_same_name_[i]) {
    if (records_[i].architecture == architecture) return &records_[i];
  }
  return nullptr;
}

std::vector<const DpkgRecord*> DpkgDatabase::find_all(std::string_view package) const {
  std::vector<const DpkgRecord*> out;
  auto it = first_by_name_.find(package);
  if (it == first_by_name_.end()) return out;
  for (std::size_t i = it->second; i != kNone; i = next_same_name_[i]) out.push_back(&records_[i]);
  return out;
}

const DpkgRecord* DpkgDatabase::find_installed(std::string_view package) const {
  auto it = first_by_name_.find(package);
  if (it == first_by_name_.end()) return nullptr;
  for (std::size_t i = it->second; i != kNone; i = next_same_name_[i]) {
    if (is_installed(records_[i])) return &records_[i];
  }
  return nullptr;
}

bool DpkgDatabase::add(DpkgRecord&& record) {
  const std::size_t index = records_.size();
  auto it = first_by_name_.find(std::string_view(record.package));
  std::size_t last_same_name = kNone;  // the record to chain the new one after
  if (it != first_by_name_.end()) {
    std::size_t i = it->second;
    while (true) {
      if (records_[i].architecture == record.architecture) return false;
      if (next_same_name_[i] == kNone) break;
      i = next_same_name_[i];
    }
    last_same_name = i;
  }
  records_.push_back(std::move(record));
  next_same_name_.push_back(kNone);
  if (last_same_name != kNone) {
    next_same_name_[last_same_name] = index;
  } else {
    // The key views the string inside the deque element, which never moves.
    first_by_name_.emplace(std::string_view(records_.back().package), index);
  }
  return true;
}

void parse_dpkg_stanzas(std::string_view text, std::string_view origin, DpkgStanzaMode mode,
                        DpkgDatabase& db) {
  StanzaBuilder stanza(origin, mode, db);
  std::size_t line_number = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    std::size_t indent = 0;
    while (indent < line.size() && is_blank(line[indent])) ++indent;
    if (indent == line.size()) {  // blank or blanks-only: ends the stanza
      stanza.finish();
      continue;
    }
    if (indent > 0) {  // most lines of a status file: Description and Conffiles bodies
      stanza.continuation(line_number, line.substr(indent));
      continue;
    }
    if (line.front() == '#') continue;  // deb822 comment line
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0 || !is_field_name_start(line.front())) {
      stanza.bad_line(line_number, line);
      continue;
    }
    stanza.field(line_number, line.substr(0, colon), line.substr(colon + 1));
  }
  stanza.finish();
}

DpkgDatabase parse_dpkg_status(std::string_view text, std::string_view origin) {
  DpkgDatabase db;
  db.add_source(std::string(origin));
  parse_dpkg_stanzas(text, origin, DpkgStanzaMode::status_file, db);
  return db;
}

DpkgDatabase parse_dpkg_status_d(const std::vector<std::pair<std::string, std::string>>& files,
                                 std::string_view directory) {
  DpkgDatabase db;
  for (const auto& [name, content] : files) {
    if (name.ends_with(".md5sums")) continue;
    std::string origin(directory);
    if (!origin.empty() && origin.back() != '/') origin.push_back('/');
    origin += name;
    db.add_source(origin);
    parse_dpkg_stanzas(content, origin, DpkgStanzaMode::status_d, db);
  }
  return db;
}

}  // namespace pycheck
