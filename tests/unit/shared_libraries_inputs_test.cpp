// What python.shared-libraries reads: the extension-module table (module
// names, what breaks, Debian packages) and a library whose dynamic section
// lies deep in the file, compiled here (shared_libraries_test_support.h).
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "checks/data/extension_modules.h"
#include "checks/facts/library_resolver.h"
#include "tests/unit/elf_test_support.h"
#include "tests/unit/outcome_text.h"
#include "tests/unit/python_image_fixture.h"
#include "tests/unit/shared_libraries_test_support.h"

using namespace pycheck;
using namespace pycheck::shlib_test;

TEST_CASE("extension module names, what breaks, and Debian packages", "[shlib]") {
  struct Row {
    const char* file;
    const char* module;
    const char* impact;
  };
  for (Row row :
       {Row{"_sqlite3.cpython-311-x86_64-linux-gnu.so", "_sqlite3", "import sqlite3 fails"},
        Row{"readline.cpython-312-aarch64-linux-gnu.so", "readline",
            "import readline fails (the interactive prompt loses editing and history)"},
        Row{"_decimal.abi3.so", "_decimal", "import decimal falls back to the slower _pydecimal"},
        Row{"_gdbm.so", "_gdbm", "import dbm.gnu fails"},
        Row{"pyexpat.cpython-311-x86_64-linux-gnu.so", "pyexpat",
            "import xml.parsers.expat fails (and xml.etree, xml.dom, plistlib)"},
        Row{"_opcode.cpython-311-x86_64-linux-gnu.so", "_opcode", "import opcode fails"},
        Row{"audioop.so", "audioop", "import audioop fails"}}) {
    INFO(row.file);
    CHECK(extension_module_name(row.file) == row.module);
    CHECK(extension_module_impact(row.module) == row.impact);
  }
  CHECK(extension_module_impact("_uuid").starts_with("import uuid falls back"));
  CHECK(extension_module_impact("_hashlib").starts_with("import hashlib works only partly"));
  const std::map<std::string, std::string> packages = {{"libsqlite3.so.0", "libsqlite3-0"},
                                                       {"libssl.so.3", "libssl3"},
                                                       {"libcrypto.so.3", "libssl3"},
                                                       {"libffi.so.8", "libffi8"},
                                                       {"liblzma.so.5", "liblzma5"},
                                                       {"libbz2.so.1.0", "libbz2-1.0"},
                                                       {"libreadline.so.8", "libreadline8"},
                                                       {"libncursesw.so.6", "libncursesw6"},
                                                       {"libtinfo.so.6", "libtinfo6"},
                                                       {"libgdbm.so.6", "libgdbm6"},
                                                       {"libtk8.6.so", "libtk8.6"},
                                                       {"libuuid.so.1", "libuuid1"},
                                                       {"libz.so.1", "zlib1g"},
                                                       {"libexpat.so.1", "libexpat1"},
                                                       {"libmpdec.so.3", "libmpdec3"},
                                                       {"libdb-5.3.so", "libdb5.3"},
                                                       {"libnsl.so.2", "libnsl2"}};
  for (const auto& [soname, package] : packages) {
    INFO(soname);
    CHECK(debian_package_for_soname(soname) == package);
  }
  CHECK_FALSE(debian_package_for_soname("libnothere.so.7").has_value());
  CHECK_FALSE(debian_package_for_soname("libsqlite3.so").has_value());
}

TEST_CASE("library package names after the 64-bit time_t transition", "[shlib]") {
  auto naming = [](const char* os_release) {
    auto os = parse_os_release(os_release);
    REQUIRE(os);
    return library_naming(*os);
  };
  CHECK(naming("ID=debian\nVERSION_ID=\"12\"\n") == LibraryNaming::before_t64);
  CHECK(naming("ID=debian\nVERSION_ID=\"13\"\nVERSION_CODENAME=trixie\n") == LibraryNaming::t64);
  CHECK(naming("ID=debian\nVERSION_CODENAME=forky\n") == LibraryNaming::t64);  // testing
  CHECK(naming("ID=ubuntu\nVERSION_ID=\"22.04\"\n") == LibraryNaming::before_t64);
  CHECK(naming("ID=ubuntu\nVERSION_ID=\"24.04\"\n") == LibraryNaming::t64);
  CHECK(naming("ID=alpine\nVERSION_ID=3.20.0\n") == LibraryNaming::before_t64);
  // As dpkg -S says in the python:3.13-slim-trixie stand-in (tests/integration).
  const LibraryNaming t64 = LibraryNaming::t64;
  CHECK(debian_package_for_soname("libssl.so.3", t64) == "libssl3t64");
  CHECK(debian_package_for_soname("libcrypto.so.3", t64) == "libssl3t64");
  CHECK(debian_package_for_soname("libreadline.so.8", t64) == "libreadline8t64");
  CHECK(debian_package_for_soname("libgdbm.so.6", t64) == "libgdbm6t64");
  CHECK(debian_package_for_soname("libdb-5.3.so", t64) == "libdb5.3t64");
  CHECK(debian_package_for_soname("libsqlite3.so.0", t64) == "libsqlite3-0");
  CHECK(debian_package_for_soname("libssl.so.3") == "libssl3");
}

TEST_CASE("a library whose dynamic section lies deep in the file is read in pieces",
          "[shlib][elf]") {
  FixtureRoot root;
  const std::string bytes = Built::get().file("libbig.so.1");
  REQUIRE(bytes.size() > (1u << 20));
  root.file("/usr/lib/libbig.so.1", bytes);
  auto whole = parse_elf(bytes);
  REQUIRE(whole.ok());
  // The dynamic section sits after the 1 MiB table, past the first read.
  std::uint64_t dynamic_offset = 0;
  for (const ProgramHeader& ph : whole->program_headers) {
    if (ph.type == elfc::kPtDynamic) dynamic_offset = ph.offset;
  }
  CHECK(dynamic_offset > (1u << 20));
  RootFs fs = root.fs();
  auto pieces = read_elf_file(fs, "/usr/lib/libbig.so.1");
  REQUIRE(pieces.ok());
  CHECK(pieces->dynamic.soname == "libbig.so.1");
  CHECK(pieces->dynamic.runpath == whole->dynamic.runpath);
  CHECK(pieces->dynamic.needed == whole->dynamic.needed);
  CHECK(pieces->interpreter == whole->interpreter);
  CHECK(pieces->program_headers.size() == whole->program_headers.size());

  // Cut inside the dynamic section: the same truncation error as reading it whole.
  root.file("/usr/lib/libcut.so.1", bytes.substr(0, dynamic_offset + 8));
  auto cut = read_elf_file(fs, "/usr/lib/libcut.so.1");
  REQUIRE_FALSE(cut.ok());
  CHECK_THAT(cut.error().message, Catch::Contains("/usr/lib/libcut.so.1: dynamic section"));
}
