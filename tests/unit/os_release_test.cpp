// The os-release and debian_version readers, with /bin/sh as the reference:
// os-release files are shell variable assignments (os-release(5)).
#include "checks/formats/os_release.h"
#include "host_tools.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

using namespace pycheck;

namespace {

// Output only: the tools compared with may exit non-zero by design.
std::string shell(const std::string& command) { return test::host::run_status(command).out; }

void write_file(const std::string& path, std::string_view text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(text.data(), text.size());
}

}  // namespace

TEST_CASE("os-release: values as /bin/sh assigns them", "[eol]") {
  struct Vector {
    std::string line;
    std::string expected;  // the value of X
  };
  const Vector vectors[] = {
      {"X=debian", "debian"},
      {"X=\"Debian GNU/Linux 12 (bookworm)\"", "Debian GNU/Linux 12 (bookworm)"},
      {"X='My OS; with $dollar'", "My OS; with $dollar"},
      {"X=\"a \\\"quoted\\\" \\$HOME \\\\ \\`cmd\\`\"", "a \"quoted\" $HOME \\ `cmd`"},
      {"X=\"kept\\n backslash\"", "kept\\n backslash"},
      {"X=a\\ b", "a b"},
      {"X=\"a\"'b'c", "abc"},
      {"X=\"two\nlines\"", "two\nlines"},
      {"X=\"joined \\\nline\"", "joined line"},
      {"X=''", ""},
      {"X=", ""},
      {"X=3.21.3", "3.21.3"},
  };
  const std::filesystem::path file =
      std::filesystem::temp_directory_path() / "pycheck-os-release-vector";
  for (const Vector& v : vectors) {
    INFO(v.line);
    auto parsed = parse_os_release("# comment\n\nID=x\n" + v.line + "\n");
    REQUIRE(parsed.ok());
    CHECK(parsed->problems.empty());
    CHECK(parsed->get("X") == v.expected);
    write_file(file.string(), v.line + "\n");
    CHECK(shell(". " + file.string() + " && printf %s \"$X\"") == v.expected);
  }
  std::filesystem::remove(file);
}

TEST_CASE("os-release: systemd's leniencies, problems and defaults", "[eol]") {
  auto os = parse_os_release(
      "NAME=Debian GNU/Linux   \n"  // unquoted blanks: systemd keeps inner, drops trailing
      "ID = debian\r\n"             // blanks around '=' and a CRLF line end
      "ID_LIKE=\"ubuntu  debian\"\n"
      "VERSION_ID=11\nVERSION_ID=12\n"  // later wins
      "this line has no equals\n"
      "1BAD=x\n"
      "; also a comment\n"
      "BROKEN=\"never closed\n");
  REQUIRE(os.ok());
  CHECK(os->name() == "Debian GNU/Linux");
  CHECK(os->id() == "debian");
  CHECK(os->id_like() == std::vector<std::string>{"ubuntu", "debian"});
  CHECK(os->version_id() == "12");
  CHECK_FALSE(os->get("BROKEN").has_value());
  REQUIRE(os->problems.size() == 3);
  CHECK_THAT(os->problems[0], Catch::Contains("line 6: no '='"));
  CHECK_THAT(os->problems[1], Catch::Contains("\"1BAD\" is not a variable name"));
  CHECK_THAT(os->problems[2], Catch::Contains("line 9: unterminated double quote"));

  auto minimal = parse_os_release("VERSION_ID=1\n");
  REQUIRE(minimal.ok());
  CHECK(minimal->id() == "linux");
  CHECK(minimal->pretty_name() == "Linux");
  CHECK(minimal->version_codename().empty());

  CHECK_FALSE(parse_os_release("").ok());
  CHECK_FALSE(parse_os_release("# only a comment\n\n").ok());
  CHECK_THAT(parse_os_release("no assignment here\n").error().message,
             Catch::Contains("no KEY=value"));
  CHECK_THAT(parse_os_release(std::string("ID=debian\n\0\x01\x02", 13)).error().message,
             Catch::Contains("binary"));
}

TEST_CASE("os-release: this machine's file reads as /bin/sh reads it", "[eol]") {
  std::string path = "/etc/os-release";
  if (!std::filesystem::exists(path)) path = "/usr/lib/os-release";
  REQUIRE(std::filesystem::exists(path));
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  auto os = parse_os_release(text.str());
  REQUIRE(os.ok());
  CHECK(os->problems.empty());
  for (const auto& [key, value] : os->fields) {
    INFO(key);
    CHECK(shell("sh -c '. " + path + " && printf %s \"$" + key + "\"'") == value);
  }
}

TEST_CASE("debian_version: first line, trimmed", "[eol]") {
  CHECK(parse_debian_version("12.15\n").value_or("") == "12.15");
  CHECK(parse_debian_version("  trixie/sid  \nmore\n").value_or("") == "trixie/sid");
  CHECK_FALSE(parse_debian_version("\n").ok());
  CHECK_FALSE(parse_debian_version(std::string("1\0", 2)).ok());
}
