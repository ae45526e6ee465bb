// python.shared-libraries on fixture roots shaped like the official image,
// with a real python3.11, libpython and lib-dynload modules compiled here
// and this machine's libc and ld.so; where it matters the verdict is checked
// against the real loader run chrooted into the same root.
// (The module table and reading a big library: shared_libraries_inputs_test.cpp.)
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
using test::FixtureRoot;
using test::host_file;

namespace {

constexpr const char* kMultiarch = "/lib/x86_64-linux-gnu";
constexpr const char* kUsrMultiarch = "/usr/lib/x86_64-linux-gnu";
constexpr const char* kDynload = "/usr/local/lib/python3.11/lib-dynload";
using namespace shlib_test;

// python:3.11-slim as far as this check looks: the image's /usr/local (from
// python_image_fixture.h) with real ELF objects, libc and ld.so, two modules.
struct ImageRoot {
  FixtureRoot root;
  ImageRoot() {
    test::add_image_python(root);
    for (const char* lib : {"libc.so.6", "ld-linux-x86-64.so.2"}) {
      root.file(std::string(kMultiarch) + "/" + lib,
                host_file(std::filesystem::canonical(std::string(kMultiarch) + "/" + lib)), 0755);
    }
    root.symlink("/lib64/ld-linux-x86-64.so.2", std::string(kMultiarch) + "/ld-linux-x86-64.so.2");
    put("python3.11", "/usr/local/bin/python3.11", 0755);
    put("libpython3.11.so.1.0", "/usr/local/lib/libpython3.11.so.1.0");
    put("libsqlite3.so.0", std::string(kUsrMultiarch) + "/libsqlite3.so.0");
    put(kSqliteModule, std::string(kDynload) + "/" + kSqliteModule);
    put(kJsonModule, std::string(kDynload) + "/" + kJsonModule);
  }
  void put(const std::string& built, const std::string& inside, mode_t mode = 0755) {
    root.file(inside, Built::get().file(built), mode);
  }
  void remove(const std::string& inside) { std::filesystem::remove(root.host_path(inside)); }
  CheckOutcome run(const Environment& env = test::image_env(),
                   const json& params = json::object()) {
    return test::run_check("python.shared-libraries", root, env, params);
  }
};

std::string status_of(const CheckOutcome& o) { return std::string(to_string(o.status)); }

const json* module_entry(const CheckOutcome& o, const std::string& module) {
  for (const json& m : o.details["modules"]) {
    if (m["module"] == module) return &m;
  }
  return nullptr;
}

// name => path of a reported library list, without the dynamic loader's own
// entry (ldd prints it without a name), as test::LoaderTrace::found holds it.
std::map<std::string, std::string> as_ldd(const json& libraries) {
  std::map<std::string, std::string> out;
  for (const json& l : libraries) {
    if (l.contains("path") && l["via"] != "interpreter") out[l["name"]] = l["path"];
  }
  return out;
}

std::set<std::string> not_found(const json& libraries) {
  std::set<std::string> out;
  for (const json& l : libraries) {
    if (l.value("status", "") == "not found") out.insert(l["name"].get<std::string>());
  }
  return out;
}

// What the real ld.so lists for `path` in the root, without its own line.
std::map<std::string, std::string> ld_so_found(const ImageRoot& image, const std::string& path,
                                               const std::vector<std::string>& env = {}) {
  test::LoaderTrace trace = test::trace_in_root(image.root.dir(), path, env);
  INFO("ld.so said:\n" << trace.raw);
  auto found = trace.found;
  found.erase("/lib64/ld-linux-x86-64.so.2");
  return found;
}

}  // namespace

TEST_CASE("python.shared-libraries: the image's layout passes, as ld.so resolves it", "[shlib]") {
  ImageRoot image;
  auto out = image.run();
  INFO(out.summary << "\n" << out.details.dump(1));
  REQUIRE(status_of(out) == "pass");
  // libpython, libc, ld.so and libsqlite3.
  CHECK(out.summary == "python3 and 2 extension modules load: 4 libraries resolved");
  CHECK(out.remediation().empty());
  const json& py = out.details["python3"];
  CHECK(py["path"] == "/usr/local/bin/python3");
  CHECK(py["real_path"] == "/usr/local/bin/python3.11");
  CHECK(py["runpath"] == "$ORIGIN/../lib");
  CHECK(py["needed"][0] == "libpython3.11.so.1.0");
  const json& libpython = py["libraries"][0];
  CHECK(libpython["name"] == "libpython3.11.so.1.0");
  CHECK(libpython["path"] == "/usr/local/bin/../lib/libpython3.11.so.1.0");
  CHECK(libpython["via"] == "runpath");
  CHECK(out.details["libpython"]["own"] == true);
  CHECK(as_ldd(py["libraries"]) == ld_so_found(image, "/usr/local/bin/python3"));

  const json* sqlite = module_entry(out, "_sqlite3");
  REQUIRE(sqlite);
  CHECK((*sqlite)["status"] == "loads");
  CHECK((*sqlite)["import"] == "import sqlite3 fails");
  CHECK((*sqlite)["needed"][0] == "libsqlite3.so.0");
  CHECK(as_ldd((*sqlite)["libraries"]) ==
        ld_so_found(image, std::string(kDynload) + "/" + kSqliteModule));
  CHECK(as_ldd((*sqlite)["libraries"]).at("libsqlite3.so.0") ==
        "/usr/lib/x86_64-linux-gnu/libsqlite3.so.0");
}

TEST_CASE("python.shared-libraries: a module's missing library warns, naming the package",
          "[shlib]") {
  ImageRoot image;
  image.remove(std::string(kUsrMultiarch) + "/libsqlite3.so.0");
  const std::string module_path = std::string(kDynload) + "/" + kSqliteModule;
  test::LoaderTrace trace = test::trace_in_root(image.root.dir(), module_path);
  CHECK(trace.not_found == std::set<std::string>{"libsqlite3.so.0"});

  SECTION("purged: dpkg knows nothing, the built-in table names the package") {
    image.root.file("/var/lib/dpkg/status",
                    "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\n"
                    "Version: 2.36-9+deb12u10\n\n");
    image.root.file("/var/lib/dpkg/info/libc6:amd64.list",
                    "/.\n/usr/lib/x86_64-linux-gnu/libc.so.6\n");
    auto out = image.run();
    INFO(out.summary);
    REQUIRE(status_of(out) == "warn");
    CHECK(out.summary == "1 extension module cannot load: _sqlite3");
    REQUIRE(out.findings.size() == 1);
    CHECK(out.findings[0].message == "_sqlite3 cannot load: libsqlite3.so.0 not found");
    CHECK(out.findings[0].cause == "libsqlite3-0 is purged or was never installed");
    CHECK_THAT(out.findings[0].consequence, Catch::Contains("import sqlite3 fails"));
    CHECK(out.details["missing_packages"][0]["source"] == "table");  // pycheck's soname table
    CHECK(out.details["modules_loading"] == 1);
    CHECK(out.details["libraries_resolved"] == 3);
    CHECK_THAT(out.remediation(), Catch::Contains("apt-get install -y --no-install-recommends "
                                                "--reinstall libsqlite3-0"));
    CHECK_THAT(out.remediation(), Catch::Contains("apt-mark manual libsqlite3-0"));
    const json& hint = out.details["missing_packages"][0];
    CHECK(hint["soname"] == "libsqlite3.so.0");
    CHECK(hint["source"] == "table");
    CHECK(hint["dpkg_state"] == "not in dpkg's status");
    const json* sqlite = module_entry(out, "_sqlite3");
    REQUIRE(sqlite);
    CHECK((*sqlite)["status"] == "cannot load");
    CHECK(not_found((*sqlite)["libraries"]) == trace.not_found);
    CHECK(module_entry(out, "_json")->at("status") == "loads");
  }
  SECTION("deleted by hand: dpkg's file list still names it") {
    image.root.file("/var/lib/dpkg/info/libsqlite3-0:amd64.list",
                    "/.\n/usr\n/usr/lib\n/usr/lib/x86_64-linux-gnu\n"
                    "/usr/lib/x86_64-linux-gnu/libsqlite3.so.0.8.6\n"
                    "/usr/lib/x86_64-linux-gnu/libsqlite3.so.0\n");
    auto out = image.run();
    INFO(out.summary);
    REQUIRE(status_of(out) == "warn");
    REQUIRE(out.findings.size() == 1);
    CHECK_THAT(out.findings[0].cause, Catch::StartsWith("libsqlite3-0 "));
    CHECK(out.details["missing_packages"][0]["source"] == "dpkg");
    CHECK(out.details["missing_packages"][0]["listed"][0] ==
          "/usr/lib/x86_64-linux-gnu/libsqlite3.so.0");
    CHECK(out.details["missing_packages"][0]["source"] == "dpkg");
  }
  SECTION("a soname no table knows: no package, still a warning") {
    image.put("_custom.cpython-311-x86_64-linux-gnu.so",
              std::string(kDynload) + "/_custom.cpython-311-x86_64-linux-gnu.so");
    image.put("libsqlite3.so.0", std::string(kUsrMultiarch) + "/libsqlite3.so.0");
    auto out = image.run();
    INFO(out.summary);
    REQUIRE(status_of(out) == "warn");
    CHECK_THAT(said(out), Catch::Contains("_custom cannot load: libnothere.so.7 not found\nimport "
                                          "custom fails"));
    CHECK(out.details["missing_packages"][0]["package"].is_null());
    CHECK_FALSE(out.remediation().empty());
  }
}

TEST_CASE("python.shared-libraries: libraries of another ELF class are skipped, as ld.so does",
          "[shlib]") {
  ImageRoot image;
  test::SynthElf lib32;
  lib32.is64 = false;
  lib32.machine = 3;  // i386
  lib32.soname = "libsqlite3.so.0";
  image.root.file(std::string(kUsrMultiarch) + "/libsqlite3.so.0", lib32.build(), 0755);
  const std::string module_path = std::string(kDynload) + "/" + kSqliteModule;
  CHECK(test::trace_in_root(image.root.dir(), module_path).not_found ==
        std::set<std::string>{"libsqlite3.so.0"});
  SECTION("the library") {
    auto out = image.run();
    INFO(out.summary);
    REQUIRE(status_of(out) == "warn");
    CHECK_THAT(said(out),
               Catch::Contains("libsqlite3.so.0 not found (skipped: "
                               "/usr/lib/x86_64-linux-gnu/libsqlite3.so.0: wrong ELF class: "
                               "ELFCLASS32)"));
  }
  SECTION("the module itself") {
    image.put("libsqlite3.so.0", std::string(kUsrMultiarch) + "/libsqlite3.so.0");
    image.root.file(module_path, lib32.build(), 0755);
    auto out = image.run();
    INFO(out.summary);
    REQUIRE(status_of(out) == "warn");
    CHECK_THAT(said(out), Catch::Contains("_sqlite3 cannot be loaded (skipped: " +
                                          module_path + ": wrong ELF class: ELFCLASS32)"));
  }
}

TEST_CASE("python.shared-libraries: libpython from outside the prefix warns (issue #784)",
          "[shlib]") {
  ImageRoot image;
  // What `apt-get install libpython3.11` adds: Debian's library in the multiarch folder.
  image.put("libpython3.11.so.1.0", std::string(kUsrMultiarch) + "/libpython3.11.so.1.0");
  SECTION("python3.11 without the rpath picks Debian's") {
    image.put("python3.11-norpath", "/usr/local/bin/python3.11");
    auto out = image.run();
    INFO(out.summary);
    REQUIRE(status_of(out) == "warn");
    CHECK_THAT(out.summary,
               Catch::StartsWith("python3 (/usr/local/bin/python3.11) loads libpython3.11.so.1.0 "
                                 "from /usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0 (default "
                                 "path), not from its own prefix /usr/local "
                                 "(/usr/local/lib/libpython3.11.so.1.0 is not used)"));
    CHECK_THAT(out.summary, Catch::Contains("docker-library/python#784"));
    CHECK_THAT(out.remediation(), Catch::Contains("RUNPATH $ORIGIN/../lib"));
    const json& libpython = out.details["libpython"];
    CHECK(libpython["own"] == false);
    CHECK(libpython["via"] == "default path");
    CHECK(ld_so_found(image, "/usr/local/bin/python3").at("libpython3.11.so.1.0") ==
          "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0");
  }
  SECTION("the image's python3.11 with RUNPATH keeps its own") {
    auto out = image.run();
    INFO(out.summary);
    CHECK(status_of(out) == "pass");
    CHECK(out.details["libpython"]["own"] == true);
    CHECK(ld_so_found(image, "/usr/local/bin/python3").at("libpython3.11.so.1.0") ==
          "/usr/local/bin/../lib/libpython3.11.so.1.0");
  }
}

TEST_CASE("python.shared-libraries: python3 that cannot load fails, naming what is missing",
          "[shlib]") {
  ImageRoot image;
  SECTION("libpython gone") {
    image.remove("/usr/local/lib/libpython3.11.so.1.0");
    auto out = image.run();
    INFO(out.summary);
    REQUIRE(status_of(out) == "fail");
    CHECK(out.summary == "python3 (/usr/local/bin/python3.11) cannot start");
    REQUIRE_FALSE(out.findings.empty());
    CHECK(out.findings[0].message ==
          "python3 (/usr/local/bin/python3.11) cannot start: libpython3.11.so.1.0 not found "
          "(needed by /usr/local/bin/python3)");
    CHECK_FALSE(out.remediation().empty());
    CHECK(test::trace_in_root(image.root.dir(), "/usr/local/bin/python3").not_found ==
          std::set<std::string>{"libpython3.11.so.1.0"});
  }
  SECTION("the dynamic loader gone") {
    image.remove("/lib64/ld-linux-x86-64.so.2");
    auto out = image.run();
    INFO(out.summary);
    REQUIRE(status_of(out) == "fail");
    CHECK_THAT(said(out), Catch::Contains("its dynamic loader /lib64/ld-linux-x86-64.so.2 "
                                            "cannot be loaded"));
  }
  SECTION("not an ELF program (a four-byte stub), named") {
    image.root.executable("/usr/local/bin/python3.11",
                          "\x7f"
                          "ELF");
    auto out = image.run();
    INFO(out.summary);
    REQUIRE(status_of(out) == "fail");
    CHECK_THAT(said(out),
               Catch::Contains("python3 (/usr/local/bin/python3.11) is not a loadable ELF "
                               "program: /usr/local/bin/python3"));
  }
  SECTION("garbage") {
    image.root.executable("/usr/local/bin/python3.11", std::string(4096, 'x'));
    auto out = image.run();
    INFO(out.summary);
    REQUIRE(status_of(out) == "fail");
    CHECK_THAT(said(out), Catch::Contains("/usr/local/bin/python3.11"));
  }
}

TEST_CASE("python.shared-libraries: LD_LIBRARY_PATH of the judged environment is searched",
          "[shlib]") {
  ImageRoot image;
  image.remove(std::string(kUsrMultiarch) + "/libsqlite3.so.0");
  image.put("libsqlite3.so.0", "/opt/sqlite/lib/libsqlite3.so.0");
  CHECK(status_of(image.run()) == "warn");
  Environment env = test::image_env();
  env.set("LD_LIBRARY_PATH", "/nowhere:/opt/sqlite/lib");
  auto out = image.run(env);
  INFO(out.summary);
  REQUIRE(status_of(out) == "pass");
  CHECK(out.details["ld_library_path"] == "/nowhere:/opt/sqlite/lib");
  const json* sqlite = module_entry(out, "_sqlite3");
  REQUIRE(sqlite);
  const json& lib = (*sqlite)["libraries"][0];
  CHECK(lib["path"] == "/opt/sqlite/lib/libsqlite3.so.0");
  CHECK(lib["via"] == "LD_LIBRARY_PATH");
  CHECK(as_ldd((*sqlite)["libraries"]) ==
        ld_so_found(image, std::string(kDynload) + "/" + kSqliteModule,
                    {"LD_LIBRARY_PATH=/nowhere:/opt/sqlite/lib"}));
}

TEST_CASE("python.shared-libraries: _tkinter without Tk is expected in the slim image", "[shlib]") {
  ImageRoot image;
  image.put(kTkModule, std::string(kDynload) + "/" + kTkModule);
  auto out = image.run();
  INFO(out.summary);
  REQUIRE(status_of(out) == "pass");
  CHECK_THAT(out.summary, Catch::EndsWith("; _tkinter not loadable, as expected"));
  CHECK(out.details["expected_unloadable"][0] == "_tkinter: libtk8.6.so not found");
  CHECK(module_entry(out, "_tkinter")->at("status") == "cannot load (expected)");
  auto strict = image.run(test::image_env(), json{{"expected_unloadable", json::array()}});
  REQUIRE(status_of(strict) == "warn");
  CHECK_THAT(said(strict), Catch::Contains("_tkinter cannot load: libtk8.6.so not found"));
  CHECK_THAT(said(strict), Catch::Contains("libtk8.6, which ships libtk8.6.so, is missing"));
  CHECK_THAT(said(strict), Catch::Contains("import tkinter fails"));
}

TEST_CASE("python.shared-libraries: broken module files are named", "[shlib]") {
  ImageRoot image;
  const std::string json_module = std::string(kDynload) + "/" + kJsonModule;
  SECTION("garbage") {
    image.root.file(json_module, "not an ELF file at all, just text\n" + std::string(100, 'x'));
    auto out = image.run();
    INFO(out.summary);
    REQUIRE(status_of(out) == "warn");
    CHECK_THAT(said(out), Catch::Contains("_json cannot be loaded: invalid ELF header\n"
                                          "import json falls back"));
  }
  SECTION("a FIFO") {
    image.remove(json_module);
    image.root.fifo(json_module);
    auto out = image.run();
    INFO(out.summary);
    REQUIRE(status_of(out) == "warn");
    CHECK_THAT(said(out), Catch::Contains("_json cannot be loaded: is a FIFO, not a library"));
  }
}

TEST_CASE("python.shared-libraries: skips where there is nothing for glibc's loader", "[shlib]") {
  SECTION("no python3") {
    ImageRoot image;
    auto out = image.run(test::image_env("/usr/sbin:/usr/bin"));
    CHECK(status_of(out) == "skip");
    CHECK(out.summary == "python3 not found (see python.path)");
  }
  SECTION("python3 is a script") {
    ImageRoot image;
    image.root.executable("/usr/local/bin/python3.11",
                          "#!/bin/sh\nexec /opt/py/bin/python3 \"$@\"\n");
    auto out = image.run();
    CHECK(status_of(out) == "skip");
    CHECK_THAT(out.summary, Catch::Contains("is a script"));
  }
  SECTION("a musl program") {
    ImageRoot image;
    test::SynthElf musl;
    musl.type = 2;
    musl.interp = "/lib/ld-musl-x86_64.so.1";
    musl.needed = {"libpython3.11.so.1.0"};
    image.root.executable("/usr/local/bin/python3.11", musl.build());
    auto out = image.run();
    CHECK(status_of(out) == "skip");
    CHECK_THAT(out.summary, Catch::Contains("musl"));
  }
}
