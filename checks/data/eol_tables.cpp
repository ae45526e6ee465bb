#include "checks/data/eol_tables.h"

#include <array>
#include <cstdio>

namespace pycheck {
namespace {

// CPython: python/peps release_management/python-releases.toml (metadata
// tables), checked against the shared notes' snapshot of 2026-08-22. 3.9's end
// is its actual final release (3.9.25, 2025-10-31; older TOMLs said 2025-10-01).
// From 3.10 on the PEPs schedule only a month; the TOML stores the 1st.
constexpr std::array kPython = {
    PythonLifecycle{"2.7", 373, make_date(2010, 7, 3), make_date(2020, 1, 1), make_date(2020, 1, 1),
                    false},
    PythonLifecycle{"3.5", 478, make_date(2015, 9, 13), make_date(2017, 8, 8),
                    make_date(2020, 9, 30), false},
    PythonLifecycle{"3.6", 494, make_date(2016, 12, 23), make_date(2018, 12, 24),
                    make_date(2021, 12, 23), false},
    PythonLifecycle{"3.7", 537, make_date(2018, 6, 27), make_date(2020, 6, 27),
                    make_date(2023, 6, 27), false},
    PythonLifecycle{"3.8", 569, make_date(2019, 10, 14), make_date(2021, 5, 3),
                    make_date(2024, 10, 7), false},
    PythonLifecycle{"3.9", 596, make_date(2020, 10, 5), make_date(2022, 5, 17),
                    make_date(2025, 10, 31), false},
    PythonLifecycle{"3.10", 619, make_date(2021, 10, 4), make_date(2023, 4, 5),
                    make_date(2026, 10, 1), true},
    PythonLifecycle{"3.11", 664, make_date(2022, 10, 24), make_date(2024, 4, 24),
                    make_date(2027, 10, 1), true},
    PythonLifecycle{"3.12", 693, make_date(2023, 10, 2), make_date(2025, 4, 8),
                    make_date(2028, 10, 1), true},
    PythonLifecycle{"3.13", 719, make_date(2024, 10, 7), make_date(2026, 10, 7),
                    make_date(2029, 10, 1), true},
    PythonLifecycle{"3.14", 745, make_date(2025, 10, 7), make_date(2027, 10, 7),
                    make_date(2030, 10, 1), true},
    // Scheduled: first release 2026-10-01, bugfix until 2028-10.
    PythonLifecycle{"3.15", 790, make_date(2026, 10, 1), make_date(2028, 10, 1),
                    make_date(2031, 10, 1), true},
};

// Debian LTS architectures as announced for buster and bullseye ("amd64,
// i386, arm64 and armhf"); not recorded for later releases.
constexpr std::array<std::string_view, 4> kDebianLtsArchitectures = {"amd64", "arm64", "armhf",
                                                                     "i386"};
constexpr std::string_view kDistroInfo = "distro-info-data 0.58+deb12u6";
constexpr std::string_view kAlpine = "alpinelinux.org/releases (main repository end of support)";

// Debian and Ubuntu: distro-info-data's debian.csv (eol, eol-lts) and
// ubuntu.csv (eol = end of standard support; ESM needs Ubuntu Pro and is not
// counted). Bookworm's regular end is 2026-07-11 there; Debian's 2024
// announcement had said 2026-06-10. Trixie's dates are scheduled. Alpine: about
// two years of main-repository support; 3.24's date follows that rule.
constexpr std::array kOs = {
    OsLifecycle{"debian", "10", "buster", make_date(2022, 9, 10), make_date(2024, 6, 30),
                kDebianLtsArchitectures, kDistroInfo},
    OsLifecycle{"debian", "11", "bullseye", make_date(2024, 8, 14), make_date(2026, 8, 31),
                kDebianLtsArchitectures, kDistroInfo},
    OsLifecycle{"debian",
                "12",
                "bookworm",
                make_date(2026, 7, 11),
                make_date(2028, 6, 30),
                {},
                kDistroInfo},
    OsLifecycle{
        "debian", "13", "trixie", make_date(2028, 8, 9), make_date(2030, 6, 30), {}, kDistroInfo},
    OsLifecycle{"ubuntu", "18.04", "bionic", make_date(2023, 5, 31), std::nullopt, {}, kDistroInfo},
    OsLifecycle{"ubuntu", "20.04", "focal", make_date(2025, 5, 29), std::nullopt, {}, kDistroInfo},
    OsLifecycle{"ubuntu", "22.04", "jammy", make_date(2027, 6, 1), std::nullopt, {}, kDistroInfo},
    OsLifecycle{"ubuntu", "24.04", "noble", make_date(2029, 5, 31), std::nullopt, {}, kDistroInfo},
    OsLifecycle{
        "ubuntu", "24.10", "oracular", make_date(2025, 7, 10), std::nullopt, {}, kDistroInfo},
    OsLifecycle{"ubuntu", "25.04", "plucky", make_date(2026, 1, 15), std::nullopt, {}, kDistroInfo},
    OsLifecycle{
        "ubuntu", "25.10", "questing", make_date(2026, 7, 9), std::nullopt, {}, kDistroInfo},
    OsLifecycle{
        "ubuntu", "26.04", "resolute", make_date(2031, 5, 29), std::nullopt, {}, kDistroInfo},
    OsLifecycle{"alpine", "3.19", "", make_date(2025, 11, 1), std::nullopt, {}, kAlpine},
    OsLifecycle{"alpine", "3.20", "", make_date(2026, 4, 1), std::nullopt, {}, kAlpine},
    OsLifecycle{"alpine", "3.21", "", make_date(2026, 11, 1), std::nullopt, {}, kAlpine},
    OsLifecycle{"alpine", "3.22", "", make_date(2027, 5, 1), std::nullopt, {}, kAlpine},
    OsLifecycle{"alpine", "3.23", "", make_date(2027, 11, 1), std::nullopt, {}, kAlpine},
    OsLifecycle{"alpine", "3.24", "", make_date(2028, 5, 1), std::nullopt, {}, kAlpine},
};

}  // namespace

std::span<const PythonLifecycle> python_lifecycles() { return kPython; }

const PythonLifecycle* find_python_lifecycle(std::string_view minor) {
  for (const PythonLifecycle& p : kPython) {
    if (p.minor == minor) return &p;
  }
  return nullptr;
}

std::span<const OsLifecycle> os_lifecycles() { return kOs; }

const OsLifecycle* find_os_lifecycle(std::string_view id, std::string_view version_id) {
  std::string_view version = version_id;
  if (id == "alpine") {
    // "3.21.3" -> "3.21"
    std::size_t first = version.find('.');
    std::size_t second = first == std::string_view::npos ? first : version.find('.', first + 1);
    if (second != std::string_view::npos) version = version.substr(0, second);
  }
  for (const OsLifecycle& os : kOs) {
    if (os.id == id && os.version == version) return &os;
  }
  return nullptr;
}

std::string format_date(const Date& date) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return buffer;
}

Date calendar_day(std::chrono::system_clock::time_point when) {
  return Date{std::chrono::floor<std::chrono::days>(when)};
}

Date months_before(const Date& date, int months) {
  Date shifted = date - std::chrono::months{months};
  if (!shifted.ok()) {
    shifted = Date{shifted.year() / shifted.month() / std::chrono::last};
  }
  return shifted;
}

long days_between(const Date& from, const Date& to) {
  return static_cast<long>((std::chrono::sys_days{to} - std::chrono::sys_days{from}).count());
}

EndJudgement judge_end(const Date& today, const Date& end, int warn_months) {
  if (today >= end) return EndJudgement::ended;
  if (today >= months_before(end, warn_months)) return EndJudgement::in_window;
  return EndJudgement::before_window;
}

}  // namespace pycheck
