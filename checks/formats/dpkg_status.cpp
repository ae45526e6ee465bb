#include "checks/formats/dpkg_status.h"

#include <array>

#include "agent/core/text.h"
#include "checks/formats/deb822.h"

namespace pycheck {
namespace {

constexpr std::string_view kBlanks = " \t\r";  // as trim_blanks

// Splits off the next blank-separated word of `s`.
std::string_view next_word(std::string_view& s) {
  s = trim_blanks(s);
  const std::size_t end = s.find_first_of(kBlanks);
  std::string_view word = s.substr(0, end);
  s = end == std::string_view::npos ? std::string_view{} : s.substr(end);
  return word;
}

// A value of the Status field: its word and its letter in dpkg -l.
template <class Value>
struct Named {
  Value value;
  std::string_view name;
  char abbrev;
};

template <class Value, std::size_t N>
const Named<Value>* by_name(const std::array<Named<Value>, N>& table, std::string_view name) {
  for (const Named<Value>& n : table) {
    if (n.name == name) return &n;
  }
  return nullptr;
}

template <class Value, std::size_t N>
const Named<Value>* by_value(const std::array<Named<Value>, N>& table, Value value) {
  for (const Named<Value>& n : table) {
    if (n.value == value) return &n;
  }
  return nullptr;
}

constexpr std::array<Named<DpkgWant>, 5> kWants{{{DpkgWant::unknown, "unknown", 'u'},
                                                 {DpkgWant::install, "install", 'i'},
                                                 {DpkgWant::hold, "hold", 'h'},
                                                 {DpkgWant::deinstall, "deinstall", 'r'},
                                                 {DpkgWant::purge, "purge", 'p'}}};

constexpr std::array<Named<DpkgState>, 8> kStates{
    {{DpkgState::not_installed, "not-installed", 'n'},
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
  rest = trim_blanks(rest);
  if (rest.empty()) return true;
  if (rest.size() < 2 || rest.front() != '(' || rest.back() != ')') return false;
  version = std::string(trim_blanks(rest.substr(1, rest.size() - 2)));
  return !version.empty();
}

// The fields kept; anything else is skipped without being copied.
enum class Field { other, package, architecture, version, status, source, multi_arch, provides };

Field classify(std::string_view name) {
  switch (name.size()) {
    case 6:
      if (deb822_name_equals(name, "Status")) return Field::status;
      if (deb822_name_equals(name, "Source")) return Field::source;
      break;
    case 7:
      if (deb822_name_equals(name, "Package")) return Field::package;
      if (deb822_name_equals(name, "Version")) return Field::version;
      break;
    case 8:
      if (deb822_name_equals(name, "Provides")) return Field::provides;
      break;
    case 10:
      if (deb822_name_equals(name, "Multi-Arch")) return Field::multi_arch;
      break;
    case 12:
      if (deb822_name_equals(name, "Architecture")) return Field::architecture;
      break;
    default:
      break;
  }
  return Field::other;
}

// Turns one stanza into a record of `db`, or into problems.
void read_stanza(const Deb822Stanza& stanza, std::string_view origin, DpkgStanzaMode mode,
                 DpkgDatabase& db) {
  const auto problem = [&](std::size_t line, std::string message) {
    db.add_problem({std::string(origin), line, std::move(message)});
  };
  for (const Deb822Problem& p : stanza.problems) problem(p.line, p.message);
  DpkgRecord record;
  record.origin = std::string(origin);
  record.line = stanza.line;
  const Deb822Field* status = nullptr;
  std::string_view source;
  unsigned seen = 0;
  for (const Deb822Field& field : stanza.fields) {
    const Field kind = classify(field.name);
    if (kind == Field::other) continue;
    const auto bit = 1u << static_cast<unsigned>(kind);
    if ((seen & bit) != 0) {
      problem(field.line, "duplicate field '" + std::string(field.name) + "' (first value kept)");
      continue;
    }
    seen |= bit;
    switch (kind) {
      case Field::package:
        record.package.assign(field.value);
        break;
      case Field::architecture:
        record.architecture.assign(field.value);
        break;
      case Field::version:
        record.version.assign(field.value);
        break;
      case Field::status:
        status = &field;
        break;
      case Field::source:
        source = field.value;
        break;
      case Field::multi_arch:
        record.multi_arch.assign(field.value);
        break;
      case Field::provides:
        record.provides = field.folded();  // Provides may be folded over several lines
        break;
      case Field::other:
        break;
    }
  }
  if (record.package.empty()) {
    if (!stanza.fields.empty()) problem(stanza.line, "stanza without a Package field skipped");
    return;
  }
  if (status != nullptr) {
    auto parsed = parse_dpkg_status_field(status->value);
    if (!parsed) {
      problem(status->line, "package " + record.package + ": unparseable Status '" +
                                std::string(status->value) + "' (stanza skipped)");
      return;
    }
    record.status = *parsed;
  } else if (mode == DpkgStanzaMode::status_d) {
    record.status = {DpkgWant::install, DpkgFlag::ok, DpkgState::installed};
    record.status_implied = true;
  } else {
    problem(record.line, "package " + record.package + ": no Status field (stanza skipped)");
    return;
  }
  if (!source.empty() && !split_source(source, record.source_name, record.source_version)) {
    problem(record.line, "package " + record.package + ": malformed Source '" +
                             std::string(source) + "' (name kept)");
    record.source_version.clear();
  }
  if (!db.add(std::move(record))) {
    problem(record.line,  // add() leaves a refused record untouched
            "duplicate stanza for " + record.package + ":" + record.architecture + " (first kept)");
  }
}

}  // namespace

std::optional<DpkgStatus> parse_dpkg_status_field(std::string_view value) {
  std::string_view rest = value;
  const std::string_view want = next_word(rest);
  const std::string_view flag = next_word(rest);
  const std::string_view state = next_word(rest);
  if (!trim_blanks(rest).empty()) return std::nullopt;
  DpkgStatus status;
  const auto* w = by_name(kWants, want);
  const auto* s = by_name(kStates, state);
  if (w == nullptr || s == nullptr) return std::nullopt;
  status.want = w->value;
  status.state = s->value;
  if (flag == "ok") {
    status.flag = DpkgFlag::ok;
  } else if (flag == "reinstreq") {
    status.flag = DpkgFlag::reinstreq;
  } else {
    return std::nullopt;
  }
  return status;
}

std::string dpkg_status_abbrev(const DpkgStatus& status) {
  std::string out(3, ' ');
  if (const auto* w = by_value(kWants, status.want)) out[0] = w->abbrev;
  if (const auto* s = by_value(kStates, status.state)) out[1] = s->abbrev;
  if (status.flag == DpkgFlag::reinstreq) out[2] = 'R';
  return out;
}

std::string_view to_string(DpkgWant want) {
  const auto* w = by_value(kWants, want);
  return w != nullptr ? w->name : "unknown";
}

std::string_view to_string(DpkgState state) {
  const auto* s = by_value(kStates, state);
  return s != nullptr ? s->name : "not-installed";
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
  Deb822Reader reader(text);
  Deb822Stanza stanza;
  while (reader.next(stanza)) read_stanza(stanza, origin, mode, db);
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
