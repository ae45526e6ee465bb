// End-of-life dates pycheck carries inside the binary (it runs offline), and
// how a date is judged against the run's clock. Used by python.eol and os.eol.
//
// The tables are a snapshot: kEolTablesAsOf says when they were last checked,
// and the checks put that date in their details so a stale binary is visible.
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace pycheck {

inline constexpr std::string_view kEolTablesAsOf = "2026-11-28";

using Date = std::chrono::year_month_day;

constexpr Date make_date(int y, unsigned m, unsigned d) {
  return Date{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
}

// One CPython feature release (python/peps release_management/python-releases.toml).
struct PythonLifecycle {
  std::string_view minor;  // "3.11"
  int pep = 0;             // its release schedule PEP
  Date first_release;
  Date end_of_bugfix;  // from here on: security fixes only, source-only releases
  Date end_of_life;
  // The PEP gives only a month for the end of life (scheduled dates); the
  // TOML's first-of-the-month day is used, the earliest reading.
  bool end_of_life_month_only = false;
};

std::span<const PythonLifecycle> python_lifecycles();
// nullopt-like: nullptr when `minor` ("3.11") is not in the table.
const PythonLifecycle* find_python_lifecycle(std::string_view minor);

// One OS release, as distro-info-data (debian.csv, ubuntu.csv) and Alpine's
// release page list it.
struct OsLifecycle {
  std::string_view id;          // os-release ID: "debian", "ubuntu", "alpine"
  std::string_view version;     // "12", "24.04", "3.21"
  std::string_view codename;    // "bookworm", "noble", ""
  Date security_end;            // Debian: regular security support; Ubuntu: standard support
  std::optional<Date> lts_end;  // Debian LTS (same security archive, fewer packages)
  // Architectures Debian LTS announced for the release; empty when the table
  // does not record them (then LTS is assumed to cover the image's).
  std::span<const std::string_view> lts_architectures;
  std::string_view source;  // where the dates come from
};

std::span<const OsLifecycle> os_lifecycles();
// Matches os-release's ID and VERSION_ID: "12" for Debian, "22.04" for Ubuntu,
// and the first two components for Alpine ("3.21.3" -> "3.21").
const OsLifecycle* find_os_lifecycle(std::string_view id, std::string_view version_id);

// "2027-10-01".
std::string format_date(const Date& date);
// The UTC calendar day of a moment.
Date calendar_day(std::chrono::system_clock::time_point when);
// `date` minus whole calendar months, clamped to the last day of a shorter month.
Date months_before(const Date& date, int months);
// Whole days from `from` to `to` (negative when `to` is earlier).
long days_between(const Date& from, const Date& to);

enum class EndJudgement { before_window, in_window, ended };

// Where `today` stands with respect to an end date: ended on and after `end`
// (the date is the first day without support), in_window from `warn_months`
// calendar months before it.
EndJudgement judge_end(const Date& today, const Date& end, int warn_months);

}  // namespace pycheck
