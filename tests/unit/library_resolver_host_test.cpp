// The library resolver on this machine itself (RootFs "/"): Python, its
// extension modules and a sample of programs, each compared with `ldd`.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>

#include "checks/facts/library_resolver.h"
#include "tests/unit/elf_test_support.h"
#include "tests/unit/fixture_root.h"

using namespace pycheck;
using pycheck::test::LoaderTrace;
using pycheck::test::run_command;
using pycheck::test::shell_quote;

namespace {

LoaderTrace host_ldd(const std::string& path) {
  LoaderTrace trace;
  trace.raw = run_command("env -u LD_LIBRARY_PATH -u LD_PRELOAD ldd " + shell_quote(path),
                          &trace.exit_status);
  test::parse_trace_output(&trace);
  return trace;
}

void check_closure_matches_ldd(const LibraryClosure& c, const std::string& path) {
  LoaderTrace ldd = host_ldd(path);
  INFO(path << "\nldd said:\n" << ldd.raw);
  REQUIRE(ldd.exit_status == 0);
  std::map<std::string, std::string> ours;
  for (std::size_t i = 1; i < c.objects.size(); ++i)
    ours[c.objects[i].name] = c.objects[i].object->path;
  std::set<std::string> missing;
  for (const MissingLibrary& m : c.missing) missing.insert(m.name);
  CHECK(c.broken.empty());
  if (ldd.statically_linked) {
    // Nothing needed: ld.so lists nothing, we list only the interpreter.
    CHECK(c.objects.size() == 2);
    CHECK(c.missing.empty());
    return;
  }
  CHECK(ours == ldd.found);
  CHECK(missing == ldd.not_found);
}

std::string python_binary() { return std::filesystem::canonical("/usr/bin/python3").string(); }

}  // namespace

TEST_CASE("host: python3 and a sample of programs resolve as ldd lists them", "[elf][resolver]") {
  auto fs = RootFs::open("/");
  REQUIRE(fs.ok());
  LibraryResolver resolver(*fs);
  std::vector<std::string> programs = {python_binary()};
  for (const auto& entry : std::filesystem::directory_iterator("/usr/bin")) {
    if (programs.size() >= 40) break;
    if (!entry.is_regular_file() || entry.is_symlink()) continue;
    auto elf = read_elf_file(*fs, entry.path().string());
    if (!elf || !elf->interpreter) continue;  // scripts and static programs
    programs.push_back(entry.path().string());
  }
  REQUIRE(programs.size() >= 20);
  for (const std::string& p : programs) {
    auto c = resolver.closure(p);
    INFO(p);
    REQUIRE(c.ok());
    CHECK(c->complete());
    CHECK_FALSE(c->cache_error);
    check_closure_matches_ldd(*c, p);
  }
}

TEST_CASE("host: every lib-dynload module of python3 resolves as ldd lists it", "[elf][resolver]") {
  auto fs = RootFs::open("/");
  REQUIRE(fs.ok());
  LibraryResolver resolver(*fs);
  const std::string python = python_binary();
  auto process = resolver.closure(python);
  REQUIRE(process.ok());
  REQUIRE(process->complete());
  REQUIRE(process->objects.size() >= 3);

  int modules = 0;
  for (const auto& dir : std::filesystem::directory_iterator("/usr/lib")) {
    const std::string name = dir.path().filename().string();
    if (!name.starts_with("python3") ||
        !std::filesystem::is_directory(dir.path() / "lib-dynload")) {
      continue;
    }
    for (const auto& entry : std::filesystem::directory_iterator(dir.path() / "lib-dynload")) {
      const std::string module = entry.path().string();
      if (!module.ends_with(".so")) continue;
      ++modules;
      INFO(module);
      // As ldd lists it: the module as the main object.
      auto alone = resolver.closure(module, std::string("/lib64/ld-linux-x86-64.so.2"));
      REQUIRE(alone.ok());
      check_closure_matches_ldd(*alone, module);
      // As python's dlopen loads it: only what python has not loaded already.
      auto added = resolver.dlopen_closure(module, *process);
      REQUIRE(added.ok());
      CHECK(added->complete());
      REQUIRE_FALSE(added->objects.empty());
      CHECK(added->objects[0].object->real_path == std::filesystem::canonical(module).string());
      CHECK(added->objects[0].via == FoundVia::path);
      std::set<std::string> loaded;
      for (const auto& o : process->objects) loaded.insert(o.object->real_path);
      for (const auto& o : added->objects) {
        CHECK(loaded.count(o.object->real_path) == 0);
        loaded.insert(o.object->real_path);
      }
      // Everything ldd lists for the module is loaded by one or the other.
      for (const auto& [n, path] : host_ldd(module).found) {
        INFO(n);
        CHECK(loaded.count(std::filesystem::canonical(path).string()) == 1);
      }
    }
  }
  CHECK(modules >= 5);
}

// Speed is measured by tests/bench/run.sh; this checks the shared cache's results.
TEST_CASE("host: one resolver gives python3 and every module a complete dlopen closure",
          "[elf][resolver]") {
  auto fs = RootFs::open("/");
  REQUIRE(fs.ok());
  LibraryResolver resolver(*fs);
  auto process = resolver.closure(python_binary());
  REQUIRE(process.ok());
  int modules = 0;
  for (const auto& dir : std::filesystem::directory_iterator("/usr/lib")) {
    if (!dir.path().filename().string().starts_with("python3")) continue;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path() / "lib-dynload", ec)) {
      if (!entry.path().string().ends_with(".so")) continue;
      auto added = resolver.dlopen_closure(entry.path().string(), *process);
      REQUIRE(added.ok());
      CHECK(added->complete());
      ++modules;
    }
  }
  CHECK(modules >= 5);
}
