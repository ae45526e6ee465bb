// Pure readers behind the Python checks: patchlevel.h, _sysconfigdata, names,
// Debian versions, pyvenv.cfg and dpkg .list files.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "checks/facts/dpkg_owner.h"
#include "checks/formats/cpython_layout.h"
#include "checks/formats/pyvenv_cfg.h"
#include "tests/unit/python_image_fixture.h"

using namespace pycheck;

TEST_CASE("patchlevel.h: PY_VERSION, checked against the numeric defines", "[python]") {
  auto level = parse_patchlevel_h(test::patchlevel_h("3.11.15", 3, 11));
  REQUIRE(level.ok());
  CHECK(level->version == "3.11.15");
  CHECK(level->major == 3);
  CHECK(level->minor == 11);

  auto beta = parse_patchlevel_h("#define PY_VERSION \"3.15.0b3\"\n");
  REQUIRE(beta.ok());
  CHECK(beta->version == "3.15.0b3");
  // Spacing and "# define" as C allows.
  auto spaced = parse_patchlevel_h("  #  define PY_VERSION\t\"3.7.13\"  \n");
  REQUIRE(spaced.ok());
  CHECK(spaced->version == "3.7.13");

  struct Bad {
    std::string text;
    std::string says;
  };
  for (const Bad& bad : std::vector<Bad>{
           {"", "no #define PY_VERSION"},
           {"#define PY_VERSION_HEX 0x030b0ff0\n", "no #define PY_VERSION"},
           {"#define PY_VERSION 3.11.2\n", "not a string literal"},
           {"#define PY_VERSION \"banana\"\n", "not a Python version"},
           {"#define PY_VERSION \"3.11.2; rm -rf\"\n", "not a Python version"},
           {"#define PY_MAJOR_VERSION 3\n#define PY_MINOR_VERSION 12\n#define PY_VERSION "
            "\"3.11.2\"\n",
            "disagrees"},
           {std::string("\x7f"
                        "ELF") +
                std::string(2, '\0') + "#define PY_VERSION \"3.11.2\"\n",
            "binary"},
       }) {
    INFO(bad.text);
    auto parsed = parse_patchlevel_h(bad.text);
    REQUIRE_FALSE(parsed.ok());
    CHECK_THAT(parsed.error().message, Catch::Contains(bad.says));
  }
}

TEST_CASE("_sysconfigdata: plain string values of build_time_vars", "[python]") {
  const std::string text =
      "build_time_vars = {'ABIFLAGS': '',\n 'CONFIG_ARGS': \"'--enable-shared' '--with-lto'\",\n"
      " 'MULTIARCH': 'x86_64-linux-gnu',\n 'VERSION': '3.11',\n 'py_version_nodot': '311'}\n";
  CHECK(sysconfigdata_string(text, "VERSION") == "3.11");
  CHECK(sysconfigdata_string(text, "MULTIARCH") == "x86_64-linux-gnu");
  CHECK(sysconfigdata_string(text, "CONFIG_ARGS") == "'--enable-shared' '--with-lto'");
  CHECK(sysconfigdata_string(text, "ABIFLAGS") == "");
  CHECK_FALSE(sysconfigdata_string(text, "LDVERSION").has_value());
  CHECK_FALSE(sysconfigdata_string("{'VERSION': 311}", "VERSION").has_value());
  CHECK_FALSE(sysconfigdata_string("{'VERSION': '3.11", "VERSION").has_value());
}

TEST_CASE("executable names and versions", "[python]") {
  CHECK(python_minor_from_name("python3.11") == "3.11");
  CHECK(python_minor_from_name("python3.7m") == "3.7");
  CHECK(python_minor_from_name("python3.13t") == "3.13");
  CHECK(python_minor_from_name("python2.7") == "2.7");
  for (std::string_view name : {"python3", "python", "python3.11-config", "python3.X", "python3.",
                                "pip3.11", "python3.11mx", "python3.11-gdb.py"}) {
    INFO(name);
    CHECK_FALSE(python_minor_from_name(name).has_value());
  }
  CHECK(minor_of("3.11.15") == "3.11");
  CHECK(minor_of("3.15.0b3") == "3.15");
  CHECK(minor_of("3.11") == "3.11");
  CHECK_FALSE(minor_of("3").has_value());
  CHECK_FALSE(minor_of("x.y").has_value());

  CHECK(debian_upstream_version("3.11.2-6+deb12u6") == "3.11.2");
  CHECK(debian_upstream_version("3.13.5-2") == "3.13.5");
  CHECK(debian_upstream_version("1:3.9.2-3") == "3.9.2");
  CHECK(debian_upstream_version("3.12.0~rc1-1") == "3.12.0rc1");
  CHECK(debian_upstream_version("23.0.1+dfsg-1") == "23.0.1");
  CHECK(debian_upstream_version("3.11.2") == "3.11.2");
}

TEST_CASE("pyvenv.cfg as venv and virtualenv write it", "[python]") {
  // CPython 3.11 venv (written on this kind of machine by `python3 -m venv`).
  auto venv = parse_pyvenv_cfg(
      "home = /usr/local/bin\ninclude-system-site-packages = false\nversion = 3.11.15\n"
      "executable = /usr/local/bin/python3.11\n"
      "command = /usr/local/bin/python3 -m venv /opt/venv\n");
  REQUIRE(venv.ok());
  CHECK(venv->home == "/usr/local/bin");
  CHECK(venv->version == "3.11.15");
  CHECK_FALSE(venv->include_system_site_packages);
  CHECK(venv->executable == "/usr/local/bin/python3.11");
  CHECK(venv->command == "/usr/local/bin/python3 -m venv /opt/venv");
  CHECK_FALSE(venv->virtualenv_version.has_value());

  auto virtualenv = parse_pyvenv_cfg(
      "home = /usr/local/bin\nimplementation = CPython\nversion_info = 3.12.1.final.0\n"
      "virtualenv = 20.25.0\ninclude-system-site-packages = True\nbase-prefix = /usr/local\n");
  REQUIRE(virtualenv.ok());
  CHECK(virtualenv->version == "3.12.1");
  CHECK(virtualenv->include_system_site_packages);
  CHECK(virtualenv->implementation == "CPython");
  CHECK(virtualenv->virtualenv_version == "20.25.0");
  CHECK(virtualenv->values.at("base-prefix") == "/usr/local");

  auto rc = parse_pyvenv_cfg("home=/opt/py/bin\nversion_info = 3.13.0.candidate.1\n");
  REQUIRE(rc.ok());
  CHECK(rc->version == "3.13.0rc1");
  // site.py's default: without the key, system site-packages ARE included.
  CHECK(rc->include_system_site_packages);

  // Keys are case-insensitive, lines without '=' ignored, CRLF tolerated, later keys win.
  auto odd = parse_pyvenv_cfg("# made by hand\r\nHOME = /a/bin\r\nhome = /b/bin\r\nprompt = 'x'\n");
  REQUIRE(odd.ok());
  CHECK(odd->home == "/b/bin");
  CHECK(odd->prompt == "'x'");

  CHECK_THAT(parse_pyvenv_cfg("version = 3.11.2\n").error().message, Catch::Contains("home"));
  CHECK_THAT(parse_pyvenv_cfg("home = \n").error().message, Catch::Contains("home"));
  CHECK_THAT(parse_pyvenv_cfg(std::string("home = /x\0\x01\x02", 12)).error().message,
             Catch::Contains("binary"));
}

TEST_CASE("dpkg .list files: names, usrmerge spellings, matches", "[python]") {
  auto name = parse_dpkg_list_file_name("libpython3.11-minimal:amd64.list");
  REQUIRE(name.has_value());
  CHECK(name->package == "libpython3.11-minimal");
  CHECK(name->arch == "amd64");
  auto plain = parse_dpkg_list_file_name("python3.11-minimal.list");
  REQUIRE(plain.has_value());
  CHECK(plain->package == "python3.11-minimal");
  CHECK(plain->arch.empty());
  CHECK_FALSE(parse_dpkg_list_file_name("python3.11-minimal.md5sums").has_value());
  CHECK_FALSE(parse_dpkg_list_file_name(".list").has_value());

  CHECK(dpkg_path_spellings("/usr/bin/python3.11") ==
        std::vector<std::string>{"/usr/bin/python3.11", "/bin/python3.11"});
  CHECK(dpkg_path_spellings("/bin/dash") == std::vector<std::string>{"/bin/dash", "/usr/bin/dash"});
  CHECK(dpkg_path_spellings("/lib64/ld-linux-x86-64.so.2") ==
        std::vector<std::string>{"/lib64/ld-linux-x86-64.so.2", "/usr/lib64/ld-linux-x86-64.so.2"});
  CHECK(dpkg_path_spellings("/usr/local/bin/python3") ==
        std::vector<std::string>{"/usr/local/bin/python3"});
  CHECK(dpkg_path_spellings("/usr/binary") == std::vector<std::string>{"/usr/binary"});

  const std::vector<std::string> wanted{"/usr/bin/python3.11", "/usr/bin/python3"};
  CHECK(dpkg_list_matches("/.\n/usr\n/usr/bin\n/usr/bin/python3.11\n/usr/bin/python3.11-x\n",
                          wanted) == std::vector<std::string>{"/usr/bin/python3.11"});
  CHECK(dpkg_list_matches("/usr/bin/python3\r\n", wanted) ==
        std::vector<std::string>{"/usr/bin/python3"});
  CHECK(dpkg_list_matches("", wanted).empty());
}
