// python.eol and os.eol with an injected clock, on both sides of every
// threshold, and the embedded OS table against this machine's distro-info-data
// (Debian package distro-info-data: CI installs it; the test fails when it is
// missing). The os-release reader's own vectors are in os_release_test.cpp.
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "checks/data/eol_tables.h"
#include "host_tools.h"
#include "tests/unit/python_image_fixture.h"

using namespace pycheck;
using test::FixtureRoot;

namespace {

std::string status_of(const CheckOutcome& o) { return std::string(to_string(o.status)); }

std::chrono::system_clock::time_point noon_of(std::string_view date) {
  int y = 0;
  unsigned m = 0, d = 0;
  REQUIRE(std::sscanf(std::string(date).c_str(), "%d-%u-%u", &y, &m, &d) == 3);
  return std::chrono::sys_days{make_date(y, m, d)} + std::chrono::hours{12};
}

// Runs check `id` as of noon UTC on `date`.
CheckOutcome run_at(std::string_view id, const FixtureRoot& root, const Environment& env,
                    std::string_view date, const json& params = json::object()) {
  const CheckInfo* check = find_check(id);
  REQUIRE(check != nullptr);
  json merged = json::object();
  for (const CheckParam& p : check->params)
    merged[std::string(p.name)] = json::parse(p.default_json);
  for (const auto& [key, value] : params.items()) merged[key] = value;
  RootFs fs = root.fs();
  Context ctx{fs, env, merged, noon_of(date), false};
  return check->run(ctx);
}

// Output only: the tools compared with may exit non-zero by design.
std::string shell(const std::string& command) { return test::host::run_status(command).out; }

constexpr std::string_view kBookworm =
    "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n"
    "VERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n"
    "HOME_URL=\"https://www.debian.org/\"\n";

}  // namespace

// --- tables and dates ----------------------------------------------------------------

TEST_CASE("EOL tables: lookups and date arithmetic", "[eol]") {
  REQUIRE(find_python_lifecycle("3.11") != nullptr);
  CHECK(format_date(find_python_lifecycle("3.11")->end_of_life) == "2027-10-01");
  CHECK(find_python_lifecycle("3.11")->end_of_life_month_only);
  CHECK_FALSE(find_python_lifecycle("3.9")->end_of_life_month_only);
  CHECK(find_python_lifecycle("3.16") == nullptr);
  CHECK(find_os_lifecycle("debian", "12")->codename == "bookworm");
  CHECK(find_os_lifecycle("alpine", "3.21.3")->version == "3.21");
  CHECK(find_os_lifecycle("alpine", "3.21") != nullptr);
  CHECK(find_os_lifecycle("ubuntu", "22.04")->codename == "jammy");
  CHECK(find_os_lifecycle("ubuntu", "12") == nullptr);
  CHECK(find_os_lifecycle("fedora", "40") == nullptr);

  CHECK(format_date(months_before(make_date(2026, 8, 31), 6)) == "2026-02-28");
  CHECK(format_date(months_before(make_date(2028, 8, 31), 6)) == "2028-02-29");
  CHECK(format_date(months_before(make_date(2027, 10, 1), 6)) == "2027-04-01");
  CHECK(days_between(make_date(2026, 11, 28), make_date(2027, 10, 1)) == 307);
  CHECK(days_between(make_date(2027, 10, 1), make_date(2026, 11, 28)) == -307);
  const Date end = make_date(2027, 10, 1);
  CHECK(judge_end(make_date(2027, 3, 31), end, 6) == EndJudgement::before_window);
  CHECK(judge_end(make_date(2027, 4, 1), end, 6) == EndJudgement::in_window);
  CHECK(judge_end(make_date(2027, 9, 30), end, 6) == EndJudgement::in_window);
  CHECK(judge_end(make_date(2027, 10, 1), end, 6) == EndJudgement::ended);
  CHECK(judge_end(make_date(2027, 9, 30), end, 0) == EndJudgement::before_window);
  CHECK(format_date(calendar_day(noon_of("2026-11-28"))) == "2026-11-28");
}

// Every Debian and Ubuntu row matches the machine's distro-info-data; a
// mismatch means Debian or Ubuntu moved a date and the table needs updating.
TEST_CASE("EOL tables: Debian and Ubuntu rows match distro-info-data", "[eol]") {
  for (const char* csv :
       {"/usr/share/distro-info/debian.csv", "/usr/share/distro-info/ubuntu.csv"}) {
    INFO(csv << " (Debian package distro-info-data)");
    REQUIRE(std::filesystem::exists(csv));
  }
  auto rows = [](const char* csv) {
    std::map<std::string, std::vector<std::string>> out;
    std::ifstream in(csv);
    std::string line;
    while (std::getline(in, line)) {
      std::vector<std::string> cells;
      std::stringstream ss(line);
      std::string cell;
      while (std::getline(ss, cell, ',')) cells.push_back(cell);
      if (cells.size() > 2) out[cells[2]] = cells;  // by series: "bookworm"
    }
    return out;
  };
  const auto debian = rows("/usr/share/distro-info/debian.csv");
  const auto ubuntu = rows("/usr/share/distro-info/ubuntu.csv");
  int compared = 0;
  for (const OsLifecycle& os : os_lifecycles()) {
    if (os.id == "alpine") continue;
    const auto& table = os.id == "debian" ? debian : ubuntu;
    auto it = table.find(std::string(os.codename));
    INFO(os.id << " " << os.version);
    REQUIRE(it != table.end());
    const auto& cells = it->second;
    REQUIRE(cells.size() >= 6);
    CHECK(cells[5] == format_date(os.security_end));  // eol
    if (os.lts_end) {
      REQUIRE(cells.size() >= 7);
      CHECK(cells[6] == format_date(*os.lts_end));  // eol-lts
    }
    ++compared;
  }
  CHECK(compared >= 12);
}

// --- python.eol ------------------------------------------------------------------------

TEST_CASE("python.eol: judged against the injected clock on both sides of each threshold",
          "[eol]") {
  FixtureRoot root;
  test::add_image_python(root, "3.11.15");
  const Environment env = test::image_env();
  struct Case {
    const char* date;
    const char* status;
  };
  // 3.11's end of life is 2027-10 (2027-10-01 used); warnings start 6 months before.
  for (const Case& c :
       {Case{"2026-11-28", "pass"}, Case{"2027-03-31", "pass"}, Case{"2027-04-01", "warn"},
        Case{"2027-09-30", "warn"}, Case{"2027-10-01", "fail"}, Case{"2030-01-01", "fail"}}) {
    INFO(c.date);
    auto out = run_at("python.eol", root, env, c.date);
    INFO(out.summary);
    CHECK(status_of(out) == c.status);
    CHECK(out.details["lifecycle"]["end_of_life"] == "2027-10-01");
    CHECK(out.details["table"]["as_of"] == kEolTablesAsOf);
    CHECK(out.details["today"] == c.date);
    CHECK(out.remediation().empty() == (std::string(c.status) == "pass"));
  }
  auto out = run_at("python.eol", root, env, "2026-11-28");
  CHECK(out.summary == "Python 3.11.15: security fixes only, end of life 2027-10-01 (in 307 days)");
  CHECK(out.details["support"] == "security");
  CHECK_THAT(out.details["lifecycle"]["end_of_life_note"].get<std::string>(),
             Catch::Contains("PEP 664 gives the month 2027-10 only; 2027-10-01"));
  CHECK(out.details["supported_minors"] == json::array({"3.11", "3.12", "3.13", "3.14", "3.15"}));
  out = run_at("python.eol", root, env, "2027-10-02");
  CHECK(out.summary ==
        "Python 3.11.15 reached end of life on 2027-10-01 (1 day ago): no more "
        "security fixes");
  CHECK_THAT(out.remediation(), Catch::Contains("3.12, 3.13, 3.14, 3.15"));
  // warn_months moves the window (a bad value is refused by the config: config_params_test.cpp).
  CHECK(status_of(run_at("python.eol", root, env, "2027-09-30", {{"warn_months", 0}})) == "pass");
  CHECK(status_of(run_at("python.eol", root, env, "2026-11-28", {{"warn_months", 12}})) == "warn");
}

TEST_CASE("python.eol: exact dates, bugfix phase, old and unknown minors", "[eol]") {
  const Environment env = test::image_env();
  SECTION("3.9 ended on 2025-10-31, a day-exact date") {
    FixtureRoot root;
    test::add_image_python(root, "3.9.25");
    CHECK(status_of(run_at("python.eol", root, env, "2025-10-30")) == "warn");
    auto out = run_at("python.eol", root, env, "2025-10-31");
    CHECK(status_of(out) == "fail");
    CHECK(out.summary ==
          "Python 3.9.25 reached end of life on 2025-10-31 (today): no more "
          "security fixes");
    CHECK_FALSE(out.details["lifecycle"].contains("end_of_life_note"));
  }
  SECTION("3.13 still gets bugfix releases") {
    FixtureRoot root;
    test::add_image_python(root, "3.13.14");
    auto out = run_at("python.eol", root, env, "2026-01-15");
    CHECK(status_of(out) == "pass");
    CHECK(out.summary ==
          "Python 3.13.14: bugfix releases until 2026-10-07, security fixes until 2029-10-01");
    CHECK(out.details["support"] == "bugfix");
  }
  SECTION("a pre-release is named as such") {
    FixtureRoot root;
    test::add_image_python(root, "3.15.0b3");
    auto out = run_at("python.eol", root, env, "2026-11-28");
    CHECK(status_of(out) == "pass");
    CHECK_THAT(out.summary, Catch::StartsWith("Python 3.15.0b3 (pre-release): bugfix releases"));
  }
  SECTION("older than the table: ended before 2020") {
    FixtureRoot root;
    test::add_image_python(root, "3.4.10");
    auto out = run_at("python.eol", root, env, "2026-11-28");
    CHECK(status_of(out) == "fail");
    CHECK(out.summary == "Python 3.4.10 reached end of life before 2020");
  }
  SECTION("newer than the table: skipped, with the table's date") {
    FixtureRoot root;
    test::add_image_python(root, "3.16.0");
    auto out = run_at("python.eol", root, env, "2026-11-28");
    CHECK(status_of(out) == "skip");
    CHECK(out.summary == "Python 3.16.0 is not in the end-of-life table (as of 2026-11-28)");
  }
  SECTION("no python3 on PATH") {
    FixtureRoot root;
    test::add_image_python(root);
    auto out = run_at("python.eol", root, test::image_env("/usr/bin:/bin"), "2026-11-28");
    CHECK(status_of(out) == "skip");
    CHECK_THAT(out.summary, Catch::Contains("python3 not found on PATH"));
  }
  SECTION("python3 is a wrapper script: the version cannot be told") {
    FixtureRoot root;
    root.file("/usr/local/bin/python3", "#!/bin/sh\nexec /opt/py/bin/python \"$@\"\n", 0755);
    auto out = run_at("python.eol", root, env, "2026-11-28");
    CHECK(status_of(out) == "skip");
    CHECK_THAT(out.summary, Catch::Contains("is a script"));
  }
  SECTION("Debian's python3 without headers: version from dpkg") {
    FixtureRoot root;
    test::add_debian_python(root);
    auto out = run_at("python.eol", root, test::image_env("/usr/bin:/bin"), "2026-11-28");
    CHECK(status_of(out) == "pass");
    CHECK(out.details["python3"]["version"] == "3.11.2");
    CHECK_THAT(out.details["python3"]["version_source"].get<std::string>(),
               Catch::StartsWith("dpkg: python3.11-minimal"));
  }
}

// --- os.eol ----------------------------------------------------------------------------

TEST_CASE("os.eol: Debian 12 through regular support, LTS and the end", "[eol]") {
  FixtureRoot root;
  root.file("/usr/lib/os-release", kBookworm)
      .symlink("/etc/os-release", "../usr/lib/os-release")  // Debian's own layout
      .file("/etc/debian_version", "12.15\n");
  const Environment env = test::image_env();
  struct Case {
    const char* date;
    const char* status;
    const char* phase;
  };
  // Regular support ends 2026-07-11, LTS 2028-06-30; warnings from 2027-12-30.
  for (const Case& c :
       {Case{"2026-01-10", "pass", "regular"}, Case{"2026-07-10", "pass", "regular"},
        Case{"2026-07-11", "pass", "lts"}, Case{"2026-11-28", "pass", "lts"},
        Case{"2027-12-29", "pass", "lts"}, Case{"2027-12-30", "warn", "lts"},
        Case{"2028-06-29", "warn", "lts"}, Case{"2028-06-30", "fail", "end-of-life"}}) {
    INFO(c.date);
    auto out = run_at("os.eol", root, env, c.date);
    INFO(out.summary);
    CHECK(status_of(out) == c.status);
    CHECK(out.details["phase"] == c.phase);
    CHECK(out.details["end_used"] == "2028-06-30");
    CHECK(out.details["os_release"]["path"] == "/etc/os-release");
    CHECK(out.details["debian_version"] == "12.15");
  }
  CHECK(run_at("os.eol", root, env, "2026-01-10").summary ==
        "Debian 12 (bookworm, 12.15): security support until 2026-07-11, then Debian LTS until "
        "2028-06-30");
  CHECK(run_at("os.eol", root, env, "2026-11-28").summary ==
        "Debian 12 (bookworm, 12.15) is in Debian LTS until 2028-06-30 (regular security support "
        "ended 2026-07-11)");
  auto warn = run_at("os.eol", root, env, "2028-01-01");
  CHECK_THAT(warn.summary, Catch::Contains("security updates end on 2028-06-30 (in 181 days)"));
  CHECK_THAT(warn.summary, Catch::Contains("in Debian LTS since 2026-07-11"));
  CHECK_THAT(warn.remediation(), Catch::Contains("trixie"));
  auto fail = run_at("os.eol", root, env, "2028-07-01");
  CHECK(fail.summary ==
        "Debian 12 (bookworm, 12.15) reached end of life on 2028-06-30 (1 day "
        "ago): no more security updates");
}

TEST_CASE("os.eol: Debian LTS only for the architectures it covers", "[eol]") {
  FixtureRoot root;
  root.file("/etc/os-release",
            "PRETTY_NAME=\"Debian GNU/Linux 11 (bullseye)\"\nID=debian\nVERSION_ID=\"11\"\n"
            "VERSION_CODENAME=bullseye\n")
      .file("/etc/debian_version", "11.11\n");
  auto with_arch = [&](const char* arch) {
    root.file("/var/lib/dpkg/status", std::string("Package: dpkg\nStatus: install ok installed\n"
                                                  "Architecture: ") +
                                          arch + "\nVersion: 1.20.13\n\n");
  };
  const Environment env = test::image_env();
  with_arch("amd64");
  auto covered = run_at("os.eol", root, env, "2025-06-01");
  CHECK(status_of(covered) == "pass");
  CHECK(covered.details["architecture"] == "amd64");
  CHECK(covered.details["lifecycle"]["lts_applies"] == true);
  CHECK(status_of(run_at("os.eol", root, env, "2026-03-01")) == "warn");
  CHECK(status_of(run_at("os.eol", root, env, "2026-08-31")) == "fail");
  with_arch("s390x");
  auto uncovered = run_at("os.eol", root, env, "2025-06-01");
  CHECK(status_of(uncovered) == "fail");
  CHECK(uncovered.details["lifecycle"]["lts_applies"] == false);
  CHECK(uncovered.details["end_used"] == "2024-08-14");
  CHECK_THAT(uncovered.summary, Catch::Contains("reached end of life on 2024-08-14"));
  CHECK_THAT(uncovered.summary, Catch::Contains("Debian LTS does not cover s390x"));
}

TEST_CASE("os.eol: Ubuntu and Alpine", "[eol]") {
  const Environment env = test::image_env();
  SECTION("Ubuntu 22.04: standard support until 2027-06-01") {
    FixtureRoot root;
    root.file("/etc/os-release",
              "PRETTY_NAME=\"Ubuntu 22.04.5 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\n"
              "VERSION_CODENAME=jammy\nID=ubuntu\nID_LIKE=debian\n");
    auto out = run_at("os.eol", root, env, "2026-11-30");
    CHECK(status_of(out) == "pass");
    CHECK(out.summary == "Ubuntu 22.04 (jammy): standard support until 2027-06-01 (in 183 days)");
    CHECK(out.details["debian_version"].is_null());
    CHECK(status_of(run_at("os.eol", root, env, "2026-12-01")) == "warn");
    CHECK(status_of(run_at("os.eol", root, env, "2027-06-01")) == "fail");
  }
  SECTION("Alpine 3.21 ended 2026-11-01; 3.23 is fine") {
    FixtureRoot root;
    root.file("/etc/os-release",
              "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.21.3\n"
              "PRETTY_NAME=\"Alpine Linux v3.21\"\n");
    auto out = run_at("os.eol", root, env, "2026-11-28");
    CHECK(status_of(out) == "fail");
    CHECK_THAT(out.remediation(), Catch::Contains("alpine3.24"));
    root.file("/etc/os-release", "ID=alpine\nVERSION_ID=3.23.3\nPRETTY_NAME=\"Alpine v3.23\"\n");
    CHECK(status_of(run_at("os.eol", root, env, "2026-11-28")) == "pass");
  }
}

TEST_CASE("os.eol: skips, fallbacks and bad files", "[eol]") {
  const Environment env = test::image_env();
  FixtureRoot root;
  SECTION("only /usr/lib/os-release") {
    root.file("/usr/lib/os-release", kBookworm);
    auto out = run_at("os.eol", root, env, "2026-11-28");
    CHECK(status_of(out) == "pass");
    CHECK(out.details["os_release"]["path"] == "/usr/lib/os-release");
  }
  SECTION("neither file") {
    auto out = run_at("os.eol", root, env, "2026-11-28");
    CHECK(status_of(out) == "skip");
    CHECK_THAT(out.summary, Catch::Contains("no /etc/os-release"));
  }
  SECTION("Debian testing/unstable has no VERSION_ID") {
    root.file("/etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux forky/sid\"\nID=debian\n")
        .file("/etc/debian_version", "forky/sid\n");
    auto out = run_at("os.eol", root, env, "2026-11-28");
    CHECK(status_of(out) == "skip");
    CHECK(out.summary == "Debian testing/unstable (forky/sid) has no end-of-life date");
  }
  SECTION("a distribution without a table") {
    root.file("/etc/os-release", "ID=fedora\nVERSION_ID=40\nPRETTY_NAME=\"Fedora Linux 40\"\n");
    auto out = run_at("os.eol", root, env, "2026-11-28");
    CHECK(status_of(out) == "skip");
    CHECK_THAT(out.summary, Catch::StartsWith("no end-of-life dates for Fedora Linux 40"));
  }
  SECTION("a FIFO in place of /etc/os-release is refused, not read") {
    root.fifo("/etc/os-release").file("/usr/lib/os-release", kBookworm);
    auto out = run_at("os.eol", root, env, "2026-11-28");
    CHECK(status_of(out) == "error");
    CHECK_THAT(out.summary, Catch::Contains("/etc/os-release"));
  }
  SECTION("garbage") {
    root.file("/etc/os-release", std::string("\x7f"
                                             "ELF\0\0\x01",
                                             7));
    auto out = run_at("os.eol", root, env, "2026-11-28");
    CHECK(status_of(out) == "error");
    CHECK(out.summary == "/etc/os-release: binary data, not an os-release file");
  }
  SECTION("this machine's os-release, as the shell reads it") {
    std::string host =
        std::filesystem::exists("/etc/os-release") ? "/etc/os-release" : "/usr/lib/os-release";
    std::ifstream in(host, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    root.file("/etc/os-release", text.str());
    auto out = run_at("os.eol", root, env, "2026-11-28");
    CHECK(out.details["os_release"]["id"] ==
          shell("sh -c '. " + host + " && printf %s \"${ID:-linux}\"'"));
    CHECK(out.details["os_release"]["version_id"] ==
          shell("sh -c '. " + host + " && printf %s \"$VERSION_ID\"'"));
  }
}
