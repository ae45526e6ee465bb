// The library resolver's options and edges, on synthetic x86-64 objects
// (no compiler needed): setuid, working directory, dlopen callers, missing
// interpreter, static programs, deadlines, and the per-ABI facts.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cerrno>

#include "checks/facts/library_resolver.h"
#include "tests/unit/elf_test_support.h"
#include "tests/unit/fixture_root.h"

using namespace pycheck;
using pycheck::test::FixtureRoot;
using pycheck::test::SynthElf;

namespace {

std::string object(std::vector<std::string> needed, std::optional<std::string> rpath = {},
                   std::optional<std::string> runpath = {}, std::optional<std::string> interp = {},
                   std::optional<std::string> soname = {}) {
  SynthElf s;
  s.needed = std::move(needed);
  s.rpath = std::move(rpath);
  s.runpath = std::move(runpath);
  s.interp = std::move(interp);
  s.soname = std::move(soname);
  return s.build();
}

const std::string kInterp = "/lib64/ld-linux-x86-64.so.2";

// A root with a synthetic dynamic loader (so closures have an interpreter).
FixtureRoot& with_loader(FixtureRoot& root) {
  root.file("/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
            object({}, {}, {}, {}, std::string("ld-linux-x86-64.so.2")), 0755);
  root.symlink(kInterp, "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
  return root;
}

const ClosureObject* find(const LibraryClosure& c, const std::string& name) {
  for (const ClosureObject& o : c.objects) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("resolver: a setuid program ignores LD_LIBRARY_PATH and $ORIGIN", "[elf][resolver]") {
  FixtureRoot root;
  with_loader(root);
  root.file("/app/bin/app",
            object({"libx.so"}, {}, std::string("$ORIGIN/../lib:/fallback"), kInterp), 0755);
  for (const char* dir : {"/llp", "/app/lib", "/fallback"}) {
    root.file(std::string(dir) + "/libx.so", object({}));
  }
  RootFs fs = root.fs();
  ResolverOptions options;
  options.ld_library_path = "/llp";
  {
    LibraryResolver resolver(fs, options);
    auto c = resolver.closure("/app/bin/app");
    REQUIRE(c.ok());
    CHECK(find(*c, "libx.so")->object->path == "/llp/libx.so");
  }
  ::chmod(root.host_path("/app/bin/app").c_str(), 04755);
  {
    LibraryResolver resolver(fs, options);
    auto c = resolver.closure("/app/bin/app");
    REQUIRE(c.ok());
    CHECK(find(*c, "libx.so")->object->path == "/fallback/libx.so");
    CHECK(find(*c, "libx.so")->via == FoundVia::runpath);
  }
  ::chmod(root.host_path("/app/bin/app").c_str(), 0755);
  options.secure = true;
  LibraryResolver resolver(fs, options);
  auto c = resolver.closure("/app/bin/app");
  REQUIRE(c.ok());
  CHECK(find(*c, "libx.so")->object->path == "/fallback/libx.so");
}

TEST_CASE("resolver: relative and empty path entries need a working directory", "[elf][resolver]") {
  FixtureRoot root;
  with_loader(root);
  root.file("/bin/app", object({"libx.so"}, {}, {}, kInterp), 0755);
  root.file("/work/rel/libx.so", object({}));
  root.file("/work/liby.so", object({}));
  RootFs fs = root.fs();
  ResolverOptions options;
  options.ld_library_path = "rel";
  {
    LibraryResolver resolver(fs, options);
    auto c = resolver.closure("/bin/app");
    REQUIRE(c.ok());
    REQUIRE(c->missing.size() == 1);  // relative to a directory we do not know
  }
  options.working_directory = "/work";
  LibraryResolver resolver(fs, options);
  auto c = resolver.closure("/bin/app");
  REQUIRE(c.ok());
  CHECK(find(*c, "libx.so")->object->path == "/work/rel/libx.so");
  CHECK(find(*c, "libx.so")->via == FoundVia::ld_library_path);
  // An empty element is the working directory itself.
  options.ld_library_path = ":/nowhere";
  root.file("/bin/app2", object({"liby.so"}, {}, {}, kInterp), 0755);
  LibraryResolver resolver2(fs, options);
  auto c2 = resolver2.closure("/bin/app2");
  REQUIRE(c2.ok());
  CHECK(find(*c2, "liby.so")->object->path == "/work/liby.so");
}

TEST_CASE("resolver: dlopen searches the caller's and the program's RPATH", "[elf][resolver]") {
  FixtureRoot root;
  with_loader(root);
  root.file("/usr/bin/python", object({"libpy.so"}, std::string("/exe-rpath"), {}, kInterp), 0755);
  root.file("/exe-rpath/libpy.so",
            object({}, std::string("/py-rpath"), {}, {}, std::string("libpy.so")));
  root.file("/py-rpath/libm1.so", object({}));
  root.file("/exe-rpath/libm2.so", object({}));
  root.file("/mods/m.so", object({"libm1.so", "libm2.so", "libpy.so", "libm3.so"}));
  RootFs fs = root.fs();
  LibraryResolver resolver(fs);
  auto process = resolver.closure("/usr/bin/python");
  REQUIRE(process.ok());
  REQUIRE(process->complete());
  REQUIRE(process->objects.size() == 3);

  auto from_exe = resolver.dlopen_closure("/mods/m.so", *process);
  REQUIRE(from_exe.ok());
  CHECK(from_exe->objects.size() == 2);  // the module and libm2
  CHECK(find(*from_exe, "libm2.so")->via == FoundVia::rpath);
  CHECK(find(*from_exe, "libm2.so")->needed_by == "/mods/m.so");
  REQUIRE(from_exe->missing.size() == 2);
  CHECK(from_exe->missing[0].name == "libm1.so");
  CHECK(from_exe->missing[1].name == "libm3.so");
  CHECK(from_exe->missing[1].needed_by == std::vector<std::string>{"/mods/m.so"});

  auto from_lib =
      resolver.dlopen_closure("/mods/m.so", *process, std::string("/exe-rpath/libpy.so"));
  REQUIRE(from_lib.ok());
  CHECK(from_lib->objects.size() == 3);
  CHECK(find(*from_lib, "libm1.so")->object->path == "/py-rpath/libm1.so");
  CHECK(from_lib->objects[0].needed_by == "/exe-rpath/libpy.so");

  // A module of another class is refused as dlopen refuses it; a missing one is missing.
  SynthElf s32;
  s32.is64 = false;
  root.file("/mods/m32.so", s32.build());
  auto wrong = resolver.dlopen_closure("/mods/m32.so", *process);
  REQUIRE(wrong.ok());
  REQUIRE(wrong->missing.size() == 1);
  CHECK(wrong->missing[0].skipped ==
        std::vector<std::string>{"/mods/m32.so: wrong ELF class: ELFCLASS32"});
  auto none = resolver.dlopen_closure("/mods/none.so", *process);
  REQUIRE(none.ok());
  CHECK(none->missing.size() == 1);
}

TEST_CASE("resolver: interpreter, static programs, bad roots, deadlines", "[elf][resolver]") {
  FixtureRoot root;
  root.file("/bin/app", object({"libx.so"}, {}, {}, kInterp), 0755);
  root.file("/lib/x86_64-linux-gnu/libx.so", object({}));
  SynthElf st;
  root.file("/bin/static", st.build(), 0755);
  root.file("/bin/script", "#!/bin/sh\necho hi\n", 0755);
  root.fifo("/bin/fifo");
  // A PT_DYNAMIC turned into PT_NULL: a static program.
  std::string bytes = st.build();
  st.put(bytes, st.phoff + 56, 0, 4);
  root.file("/bin/static", bytes, 0755);
  RootFs fs = root.fs();
  LibraryResolver resolver(fs);

  auto c = resolver.closure("/bin/app");
  REQUIRE(c.ok());
  REQUIRE(c->interpreter_error);
  CHECK_THAT(*c->interpreter_error, Catch::Contains("ld-linux-x86-64.so.2"));
  CHECK_FALSE(c->complete());
  CHECK(find(*c, "libx.so")->via == FoundVia::default_dirs);

  auto s = resolver.closure("/bin/static");
  REQUIRE(s.ok());
  CHECK(s->static_executable);
  CHECK(s->objects.size() == 1);
  CHECK(s->complete());

  CHECK_THAT(resolver.closure("/bin/script").error().message, Catch::Contains("not an ELF file"));
  CHECK(resolver.closure("/bin/missing").missing());
  CHECK_THAT(resolver.closure("/bin/fifo").error().message, Catch::Contains("FIFO"));

  // The same path is parsed once and shared.
  auto a = resolver.load("/bin/app");
  auto b = resolver.load("/bin/app");
  REQUIRE(a.ok());
  CHECK(a->get() == b->get());

  fs.set_deadline(std::chrono::steady_clock::now() - std::chrono::seconds(1));
  LibraryResolver late(fs);
  auto timed_out = late.closure("/bin/app");
  REQUIRE_FALSE(timed_out.ok());
  CHECK(timed_out.error().errno_value == ETIMEDOUT);
}

TEST_CASE("resolver: ABI facts and system directories", "[elf][resolver]") {
  ElfHeader x64;
  x64.elf_class = elfc::kClass64;
  x64.data = elfc::kDataLittle;
  x64.machine = elfc::kMachineX86_64;
  ElfHeader i386 = x64;
  i386.elf_class = elfc::kClass32;
  i386.machine = elfc::kMachine386;
  ElfHeader arm = i386;
  arm.machine = elfc::kMachineArm;
  arm.flags = elfc::kEfArmAbiFloatHard;
  ElfHeader a64 = x64;
  a64.machine = elfc::kMachineAarch64;

  CHECK(abi_facts(x64).triplet == "x86_64-linux-gnu");
  CHECK(abi_facts(x64).platform == "x86_64");
  CHECK(abi_facts(x64).cache_flags == std::vector<std::int32_t>{0x0303});
  CHECK(abi_facts(i386).triplet == "i386-linux-gnu");
  CHECK(abi_facts(i386).platform == "i686");
  CHECK(abi_facts(i386).cache_flags == std::vector<std::int32_t>{0x0001, 0x0003});
  CHECK(abi_facts(arm).triplet == "arm-linux-gnueabihf");
  CHECK(abi_facts(a64).cache_flags == std::vector<std::int32_t>{0x0a03});

  FixtureRoot debian;
  debian.mkdir("/usr/lib/x86_64-linux-gnu");
  FixtureRoot other;
  CHECK(default_library_dirs(debian.fs(), x64) ==
        std::vector<std::string>{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib",
                                 "/usr/lib"});
  CHECK(default_library_dirs(other.fs(), x64) == std::vector<std::string>{"/lib64", "/usr/lib64"});
  CHECK(default_library_dirs(other.fs(), i386) == std::vector<std::string>{"/lib", "/usr/lib"});

  CHECK(to_string(FoundVia::rpath) == "rpath");
  CHECK(to_string(FoundVia::ld_library_path) == "LD_LIBRARY_PATH");
  CHECK(to_string(FoundVia::cache) == "ld.so.cache");
  CHECK(to_string(FoundVia::default_dirs) == "default path");
}

TEST_CASE("resolver: dlopens into one process share its objects; another process is its own",
          "[elf][resolver]") {
  FixtureRoot root;
  with_loader(root);
  root.file("/usr/bin/python", object({"libpy.so"}, {}, {}, kInterp), 0755);
  root.file("/usr/bin/other", object({}, {}, {}, kInterp), 0755);
  root.file("/usr/lib/libpy.so", object({}, {}, {}, {}, std::string("libpy.so")));
  root.symlink("/usr/lib/libalias.so", "/usr/lib/libpy.so");  // the same file, another name
  root.file("/usr/lib/libdep.so", object({"libalias.so"}));
  root.file("/mods/m.so", object({"libalias.so", "libdep.so"}));
  RootFs fs = root.fs();
  auto describe = [](const LibraryClosure& c) {
    std::string out;
    for (const ClosureObject& o : c.objects) {
      out += o.name + " <" + o.needed_by + "> " + o.object->path + "; ";
    }
    for (const MissingLibrary& m : c.missing) out += "missing " + m.name + "; ";
    return out;
  };
  LibraryResolver resolver(fs);
  auto python = resolver.closure("/usr/bin/python");
  auto other = resolver.closure("/usr/bin/other");
  REQUIRE(python.ok());
  REQUIRE(other.ok());
  REQUIRE(python->objects.size() == 3);

  // libalias.so is libpy.so, loaded already: only the module and libdep are added.
  auto into_python = resolver.dlopen_closure("/mods/m.so", *python);
  REQUIRE(into_python.ok());
  const std::string expected_python =
      "/mods/m.so </usr/bin/python> /mods/m.so; libdep.so </mods/m.so> /usr/lib/libdep.so; ";
  CHECK(describe(*into_python) == expected_python);
  // Another process has no libpy: libalias.so is loaded, once.
  auto into_other = resolver.dlopen_closure("/mods/m.so", *other);
  REQUIRE(into_other.ok());
  CHECK(describe(*into_other) ==
        "/mods/m.so </usr/bin/other> /mods/m.so; libalias.so </mods/m.so> /usr/lib/libalias.so; "
        "libdep.so </mods/m.so> /usr/lib/libdep.so; ");
  // Back to the first process: the same answer, as a fresh resolver gives it.
  auto again = resolver.dlopen_closure("/mods/m.so", *python);
  REQUIRE(again.ok());
  CHECK(describe(*again) == expected_python);
  LibraryResolver fresh(fs);
  auto fresh_python = fresh.closure("/usr/bin/python");
  REQUIRE(fresh_python.ok());
  auto fresh_into = fresh.dlopen_closure("/mods/m.so", *fresh_python);
  REQUIRE(fresh_into.ok());
  CHECK(describe(*fresh_into) == expected_python);
}
