// Reader of the dpkg status database format (pure: bytes in, records out).
//
// /var/lib/dpkg/status is a list of RFC822-like stanzas separated by blank
// lines; "Field: value" lines, continuation lines starting with a space or a
// tab, field names compared case-insensitively (as dpkg does). Distroless
// images have no status file but /var/lib/dpkg/status.d/<name> files holding
// the same stanzas without a Status line (taken as installed) next to
// <name>.md5sums files (skipped).
//
// The parser keeps only the fields pycheck uses (Package, Architecture,
// Version, Status, Source, Multi-Arch, Provides), never throws, and reports
// malformed lines or stanzas as problems without stopping. It is linear in
// the input size and uses no regex: a 10,000-package status file parses in a
// few milliseconds.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace pycheck {

enum class DpkgWant { unknown, install, hold, deinstall, purge };
enum class DpkgFlag { ok, reinstreq };
enum class DpkgState {
  not_installed,
  config_files,
  half_installed,
  unpacked,
  half_configured,
  triggers_awaited,
  triggers_pending,
  installed,
};

// The three words of a Status field ("install ok installed").
struct DpkgStatus {
  DpkgWant want = DpkgWant::unknown;
  DpkgFlag flag = DpkgFlag::ok;
  DpkgState state = DpkgState::not_installed;
  bool operator==(const DpkgStatus&) const = default;
};

// Parses a Status value: exactly three known words separated by blanks, as
// dpkg writes them; nullopt for anything else.
std::optional<DpkgStatus> parse_dpkg_status_field(std::string_view value);
// dpkg-query's ${db:Status-Abbrev}: want, state and flag letters ("ii ", "rc ", "iHR").
std::string dpkg_status_abbrev(const DpkgStatus& status);
std::string_view to_string(DpkgWant want);
std::string_view to_string(DpkgState state);

struct DpkgRecord {
  std::string package;
  std::string architecture;  // "amd64", "all"; empty when the stanza has none
  std::string version;       // empty when the stanza has none (e.g. purged packages)
  DpkgStatus status;
  bool status_implied = false;  // no Status field (status.d): taken as "install ok installed"
  std::string source_name;      // the name in Source:, empty when there is no Source field
  std::string source_version;   // the "(version)" in Source:, empty when not given
  std::string multi_arch;       // "same", "foreign", "allowed" or empty
  std::string provides;         // raw value, continuation lines joined with a space
  std::string origin;           // the file the stanza came from
  std::size_t line = 0;         // 1-based line of the stanza's first field in `origin`

  // dpkg's defaults: a package without Source is its own source, at its own version.
  const std::string& effective_source_name() const {
    return source_name.empty() ? package : source_name;
  }
  const std::string& effective_source_version() const {
    return source_version.empty() ? version : source_version;
  }
};

// True when the package is unpacked and configured: state installed, or
// triggers-pending/triggers-awaited (configured, only its triggers wait; dpkg
// treats both as satisfying dependencies). The want is ignored, so "hi"
// (held) and "ri" (removal requested, not done) count, "rc" and "iU" do not.
// A status.d record (no Status) counts as installed.
bool is_installed(const DpkgRecord& record);
// True when the package's files are (at least partly) on disk: any state from
// half-installed up. Security scanners care about these too.
bool has_files_on_disk(const DpkgRecord& record);

struct DpkgProblem {
  std::string origin;    // file
  std::size_t line = 0;  // 1-based
  std::string message;
};

// Records keyed by package + architecture, in the order they were read.
// Movable, not copyable: its index holds views into its own records.
class DpkgDatabase {
 public:
  DpkgDatabase() = default;
  DpkgDatabase(DpkgDatabase&&) = default;
  DpkgDatabase& operator=(DpkgDatabase&&) = default;
  DpkgDatabase(const DpkgDatabase&) = delete;
  DpkgDatabase& operator=(const DpkgDatabase&) = delete;

  // A deque: records never move, so pointers from find() stay valid as records are added.
  const std::deque<DpkgRecord>& records() const { return records_; }
  const std::vector<DpkgProblem>& problems() const { return problems_; }
  const std::vector<std::string>& sources() const { return sources_; }

  // The record for package:architecture, or nullptr.
  const DpkgRecord* find(std::string_view package, std::string_view architecture) const;
  // Every record of `package`, whatever its architecture.
  std::vector<const DpkgRecord*> find_all(std::string_view package) const;
  // The first record of `package` (any architecture) that is_installed, or nullptr.
  const DpkgRecord* find_installed(std::string_view package) const;

  // Adds a record; false when package:architecture is already there, and then
  // `record` is left as it was.
  bool add(DpkgRecord&& record);
  bool add(const DpkgRecord& record) { return add(DpkgRecord(record)); }
  void add_problem(DpkgProblem problem) { problems_.push_back(std::move(problem)); }
  void add_source(std::string path) { sources_.push_back(std::move(path)); }

 private:
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  std::deque<DpkgRecord> records_;
  std::vector<DpkgProblem> problems_;
  std::vector<std::string> sources_;
  // package name (a view of records_[i].package) -> its first record; the
  // others of the same name (other architectures) chain through next_same_name_.
  std::unordered_map<std::string_view, std::size_t> first_by_name_;
  std::vector<std::size_t> next_same_name_;  // parallel to records_
};

// How a stanza without a Status field is treated.
enum class DpkgStanzaMode {
  status_file,  // /var/lib/dpkg/status: Status is required; a stanza without it is a problem
  status_d,     // status.d/<name>: no Status means installed
};

// Parses stanzas from `text` into `db`; `origin` names the file in records and problems.
void parse_dpkg_stanzas(std::string_view text, std::string_view origin, DpkgStanzaMode mode,
                        DpkgDatabase& db);
// A whole status file.
DpkgDatabase parse_dpkg_status(std::string_view text,
                               std::string_view origin = "/var/lib/dpkg/status");
// The files of a status.d directory as (file name, content) pairs; "*.md5sums" are skipped.
DpkgDatabase parse_dpkg_status_d(const std::vector<std::pair<std::string, std::string>>& files,
                                 std::string_view directory = "/var/lib/dpkg/status.d");

}  // namespace pycheck
