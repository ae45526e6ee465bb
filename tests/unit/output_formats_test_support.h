// Shared by the output format tests (output_formats_test.cpp,
// prometheus_format_test.cpp): hostile bytes from the inspected system, a
// report with one check per status, and running a real parser on a rendering.
#pragma once

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "agent/report/report.h"

namespace pycheck::formats_test {

// Bytes the inspected system may hand us: markup, quotes, escapes, a CDATA
// terminator, line ends, control characters (NUL included), invalid UTF-8
// (stray byte, overlong, surrogate, truncated) and real non-ASCII.
inline constexpr char kHostileBytes[] =
    "q\"a'&<>]]>\\#\n\r\t|"
    "\x01\x1b\x7f\x00|"
    "\xff|\xc0\x80|\xed\xa0\x80|\xe2\x82x|"
    "\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x90\x8d \xef\xbf\xbe|end";
inline const std::string kHostile(kHostileBytes, sizeof kHostileBytes - 1);

// kHostile after sanitize_utf8 with no filter: each bad byte -> U+FFFD.
inline std::string hostile_as_utf8() {
  std::string r = "\xef\xbf\xbd";
  return std::string("q\"a'&<>]]>\\#\n\r\t|") + std::string("\x01\x1b\x7f\x00|", 5) + r + "|" + r +
         r + "|" + r + r + r + "|" + r + r + "x|" +
         "\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x90\x8d \xef\xbf\xbe|end";
}

inline CheckResult result(std::string id, CheckStatus status, std::string summary) {
  CheckResult r;
  r.id = std::move(id);
  r.title = "title";
  r.status = status;
  r.summary = std::move(summary);
  r.duration_ms = 12.5;
  if (status == CheckStatus::warn || status == CheckStatus::fail || status == CheckStatus::error) {
    r.findings = {Finding{status, "wrong: " + r.summary, "", "", "fix it", {}}};
  }
  return r;
}

// One check per status; the failing one carries the hostile bytes everywhere.
inline Report every_status_report() {
  Report report;
  report.pycheck_version = "0.1.0";
  report.root = "/";
  report.started_at = "2026-11-28T12:00:00.250Z";
  report.duration_ms = 1500;
  report.checks.push_back(result("a.pass", CheckStatus::pass, "all good"));
  CheckResult warn = result("b.warn", CheckStatus::warn, "a little off");
  warn.details = {{"path", "/etc/x"},
                  {"list", {1, "two", nullptr, true, "/etc/x: bad data", "a : b", "http://x"}},
                  {"nested", {{"k", {{"x", 1}}}, {".dot", {{"-dash", 2}}}}}};
  report.checks.push_back(warn);
  CheckResult fail = result("c.fail", CheckStatus::fail, kHostile);
  fail.findings = {Finding{CheckStatus::fail, kHostile, kHostile, kHostile, kHostile, {kHostile}}};
  fail.details = {{"value", kHostile},
                  {kHostile, "hostile key"},
                  {"empty", json::object()},
                  {"none", json::array()}};
  report.checks.push_back(fail);
  report.checks.push_back(result("d.skip", CheckStatus::skip, "nothing to judge # here"));
  report.checks.push_back(result("e.error", CheckStatus::error, "could not read /etc/y"));
  return report;
}

class TempFile {
 public:
  explicit TempFile(std::string_view content) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "pycheck-fmt-XXXXXX").string();
    int fd = ::mkstemp(tmpl.data());
    REQUIRE(fd >= 0);
    ::close(fd);
    path_ = tmpl;
    std::ofstream(path_, std::ios::binary | std::ios::trunc).write(content.data(), content.size());
  }
  ~TempFile() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Runs `command` (a shell command line) with `input` as a file argument and
// returns its stdout parsed as JSON; the command must exit 0.
inline json run_parser(const std::string& command, std::string_view input) {
  TempFile in(input);
  TempFile script_out("");
  const std::string line = command + " '" + in.path() + "' > '" + script_out.path() + "'";
  INFO(line);
  REQUIRE(std::system(line.c_str()) == 0);
  std::ifstream f(script_out.path(), std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  INFO(text);
  return json::parse(text);
}

inline json parse_with_python(const std::string& script, std::string_view input) {
  TempFile py(script);
  return run_parser("/usr/bin/python3 '" + py.path() + "'", input);
}

}  // namespace pycheck::formats_test
