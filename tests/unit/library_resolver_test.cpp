// The library resolver against the real dynamic loader: each scenario builds
// a root with this machine's libc and ld.so plus libraries compiled here, asks
// the resolver, and asks glibc's ld.so itself (chrooted, LD_TRACE_LOADED_OBJECTS
// as ldd sets it); the two must agree on every library, path and miss.
#include "checks/facts/library_resolver.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/unit/elf_test_support.h"
#include "tests/unit/fixture_root.h"

using namespace pycheck;
using pycheck::test::FixtureRoot;
using pycheck::test::host_file;
using pycheck::test::LoaderTrace;
using pycheck::test::run_command;
using pycheck::test::shell_quote;

namespace {

constexpr const char* kMultiarch = "/lib/x86_64-linux-gnu";
constexpr const char* kInterp = "/lib64/ld-linux-x86-64.so.2";

// A root that can run programs: this machine's libc and dynamic loader in the
// Debian multiarch layout, plus a scratch folder of sources.
struct LoaderRoot {
  FixtureRoot root;
  LoaderRoot() {
    for (const char* lib : {"libc.so.6", "ld-linux-x86-64.so.2"}) {
      root.file(std::string(kMultiarch) + "/" + lib,
                host_file(std::filesystem::canonical(std::string(kMultiarch) + "/" + lib)));
    }
    ::chmod(root.host_path(std::string(kMultiarch) + "/ld-linux-x86-64.so.2").c_str(), 0755);
    root.symlink(kInterp, std::string(kMultiarch) + "/ld-linux-x86-64.so.2");
    root.mkdir("/usr/lib/x86_64-linux-gnu");
    root.file("/src/foo.c", "int foo(void) { return 1; }\n");
    root.file("/src/dep.c", "int dep(void) { return 2; }\n");
    root.file("/src/bar.c", "int dep(void);\nint bar(void) { return dep(); }\n");
    root.file("/src/main.c", "int foo(void);\nint main(void) { return foo(); }\n");
    root.file("/src/maindep.c", "int dep(void);\nint main(void) { return dep(); }\n");
    root.file("/src/mainbar.c", "int bar(void);\nint main(void) { return bar(); }\n");
    root.file("/src/mainboth.c",
              "int foo(void);\nint bar(void);\nint main(void) { return foo() + bar(); }\n");
  }
  std::string host(const std::string& inside) const { return root.host_path(inside); }

  // cc in the sources folder; `out` is a path inside the root, `args` may
  // name other objects by their path inside the root as {ROOT}/path.
  void cc(const std::string& out, const std::string& args) {
    std::string expanded = args;
    for (std::size_t at; (at = expanded.find("{ROOT}")) != std::string::npos;) {
      expanded.replace(at, 6, root.dir());
    }
    std::filesystem::create_directories(std::filesystem::path(host(out)).parent_path());
    int status = 0;
    std::string cmd = "cd " + shell_quote(host("/src")) + " && cc " + expanded + " -o " +
                      shell_quote(host(out)) + " -Wl,--allow-shlib-undefined";
    std::string log = run_command(cmd, &status);
    INFO(cmd << "\n" << log);
    REQUIRE(status == 0);
  }
  void lib(const std::string& out, const std::string& source, const std::string& soname,
           const std::string& extra = "") {
    cc(out, "-shared -fPIC " + source + " -Wl,-soname," + soname + " " + extra);
  }
  void copy(const std::string& from, const std::string& to) {
    root.file(to, host_file(host(from)));
  }
  void ldconfig() {
    root.mkdir("/var/cache/ldconfig").mkdir("/etc");
    int status = 0;
    std::string log = run_command("ldconfig -X -r " + shell_quote(root.dir()), &status);
    INFO(log);
    REQUIRE(status == 0);
  }
};

struct Outcome {
  LibraryClosure closure;
  LoaderTrace trace;
};

// Resolves `path` and traces it with the real loader; checks they agree.
Outcome resolve_and_compare(const LoaderRoot& r, const std::string& path,
                            const std::optional<std::string>& ld_library_path = std::nullopt) {
  RootFs fs = r.root.fs();
  ResolverOptions options;
  options.ld_library_path = ld_library_path;
  LibraryResolver resolver(fs, options);
  auto closure = resolver.closure(path);
  REQUIRE(closure.ok());
  std::vector<std::string> env;
  if (ld_library_path) env.push_back("LD_LIBRARY_PATH=" + *ld_library_path);
  Outcome out{std::move(*closure), test::trace_in_root(r.root.dir(), path, env)};

  std::map<std::string, std::string> ours;
  for (std::size_t i = 1; i < out.closure.objects.size(); ++i) {
    ours[out.closure.objects[i].name] = out.closure.objects[i].object->path;
  }
  std::set<std::string> our_missing;
  for (const MissingLibrary& m : out.closure.missing) our_missing.insert(m.name);
  INFO("ld.so said:\n" << out.trace.raw);
  if (out.closure.broken.empty()) {
    CHECK(out.trace.exit_status == 0);
    CHECK(ours == out.trace.found);
    CHECK(our_missing == out.trace.not_found);
  } else {
    // ld.so stops at the first broken candidate, naming it and the reason.
    CHECK(out.trace.exit_status != 0);
    const std::string& error = out.closure.broken[0].error;
    CHECK_THAT(out.trace.errors, Catch::Contains(error.substr(0, error.find(" ("))));
    CHECK_THAT(out.trace.errors, Catch::Contains(out.closure.broken[0].path));
  }
  return out;
}

const ClosureObject* find(const LibraryClosure& c, const std::string& name) {
  for (const ClosureObject& o : c.objects) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("resolver: $ORIGIN rpath and the system directories, as ld.so", "[elf][resolver]") {
  LoaderRoot r;
  r.lib("/app/lib/libfoo.so.1", "foo.c", "libfoo.so.1");
  r.cc("/app/bin/app",
       "main.c {ROOT}/app/lib/libfoo.so.1 -Wl,--disable-new-dtags "
       "-Wl,-rpath,'$ORIGIN/../lib'");
  Outcome o = resolve_and_compare(r, "/app/bin/app");
  REQUIRE(o.closure.complete());
  REQUIRE(o.closure.objects.size() == 4);
  CHECK(o.closure.objects[0].via == FoundVia::root);
  CHECK(o.closure.objects[1].via == FoundVia::interpreter);
  const ClosureObject* foo = find(o.closure, "libfoo.so.1");
  REQUIRE(foo);
  CHECK(foo->via == FoundVia::rpath);
  CHECK(foo->object->path == "/app/bin/../lib/libfoo.so.1");
  CHECK(foo->object->real_path == "/app/lib/libfoo.so.1");
  CHECK(foo->needed_by == "/app/bin/app");
  const ClosureObject* libc = find(o.closure, "libc.so.6");
  REQUIRE(libc);
  CHECK(libc->via == FoundVia::default_dirs);
  CHECK(libc->object->path == "/lib/x86_64-linux-gnu/libc.so.6");
  CHECK(o.trace.found.size() == 3);
}

TEST_CASE("resolver: RPATH is inherited by dependencies, RUNPATH is not", "[elf][resolver]") {
  LoaderRoot r;
  r.lib("/app/lib/libdep.so.1", "dep.c", "libdep.so.1");
  r.lib("/app/lib/libbar.so.1", "bar.c {ROOT}/app/lib/libdep.so.1", "libbar.so.1");
  r.cc("/app/bin/with-rpath",
       "mainbar.c {ROOT}/app/lib/libbar.so.1 -Wl,--disable-new-dtags "
       "-Wl,-rpath,'$ORIGIN/../lib'");
  r.cc("/app/bin/with-runpath",
       "mainbar.c {ROOT}/app/lib/libbar.so.1 -Wl,--enable-new-dtags "
       "-Wl,-rpath,'$ORIGIN/../lib'");
  Outcome rpath = resolve_and_compare(r, "/app/bin/with-rpath");
  CHECK(rpath.closure.complete());
  REQUIRE(find(rpath.closure, "libdep.so.1"));
  CHECK(find(rpath.closure, "libdep.so.1")->via == FoundVia::rpath);
  CHECK(find(rpath.closure, "libdep.so.1")->needed_by == "/app/bin/../lib/libbar.so.1");

  Outcome runpath = resolve_and_compare(r, "/app/bin/with-runpath");
  CHECK(find(runpath.closure, "libbar.so.1")->via == FoundVia::runpath);
  REQUIRE(runpath.closure.missing.size() == 1);
  CHECK(runpath.closure.missing[0].name == "libdep.so.1");
  CHECK(runpath.closure.missing[0].needed_by ==
        std::vector<std::string>{"/app/bin/../lib/libbar.so.1"});
  CHECK(runpath.trace.not_found.count("libdep.so.1") == 1);
}

TEST_CASE("resolver: RPATH, LD_LIBRARY_PATH, RUNPATH, cache and defaults in order",
          "[elf][resolver]") {
  LoaderRoot r;
  r.lib("/usr/lib/x86_64-linux-gnu/libfoo.so.1", "foo.c", "libfoo.so.1");
  for (const char* dir : {"/r", "/llp", "/rp", "/c"}) {
    r.copy("/usr/lib/x86_64-linux-gnu/libfoo.so.1", std::string(dir) + "/libfoo.so.1");
  }
  const std::string foo = "{ROOT}/usr/lib/x86_64-linux-gnu/libfoo.so.1";
  r.cc("/bin/app-rpath", "main.c " + foo + " -Wl,--disable-new-dtags -Wl,-rpath,/r");
  r.cc("/bin/app-runpath", "main.c " + foo + " -Wl,--enable-new-dtags -Wl,-rpath,/rp/");
  r.cc("/bin/app", "main.c " + foo);
  r.root.file("/etc/ld.so.conf", "/c\n");
  r.ldconfig();

  auto via = [&](const std::string& exe, std::optional<std::string> llp) {
    Outcome o = resolve_and_compare(r, exe, llp);
    const ClosureObject* f = find(o.closure, "libfoo.so.1");
    REQUIRE(f);
    return std::pair{f->via, f->object->path};
  };
  CHECK(via("/bin/app-rpath", "/llp") == std::pair{FoundVia::rpath, std::string("/r/libfoo.so.1")});
  CHECK(via("/bin/app-runpath", "/nowhere:/llp") ==
        std::pair{FoundVia::ld_library_path, std::string("/llp/libfoo.so.1")});
  CHECK(via("/bin/app-runpath", std::nullopt) ==
        std::pair{FoundVia::runpath, std::string("/rp/libfoo.so.1")});
  CHECK(via("/bin/app", std::nullopt) == std::pair{FoundVia::cache, std::string("/c/libfoo.so.1")});
  // $ORIGIN in LD_LIBRARY_PATH is the executable's directory; ';' separates too.
  CHECK(via("/bin/app", "/none;$ORIGIN/../llp") ==
        std::pair{FoundVia::ld_library_path, std::string("/bin/../llp/libfoo.so.1")});

  // A corrupt cache is ignored, as ld.so ignores it, and said so.
  r.root.file("/etc/ld.so.cache", "glibc-ld.so.cache1.1 but then garbage");
  CHECK(via("/bin/app", std::nullopt) ==
        std::pair{FoundVia::default_dirs, std::string("/usr/lib/x86_64-linux-gnu/libfoo.so.1")});
  Outcome o = resolve_and_compare(r, "/bin/app");
  REQUIRE(o.closure.cache_error);
  CHECK_THAT(*o.closure.cache_error, Catch::Contains("/etc/ld.so.cache"));
}

TEST_CASE("resolver: candidates of another class or machine are skipped, bad ones stop",
          "[elf][resolver]") {
  LoaderRoot r;
  r.lib("/usr/lib/x86_64-linux-gnu/libfoo.so.1", "foo.c", "libfoo.so.1");
  r.cc("/bin/app",
       "main.c {ROOT}/usr/lib/x86_64-linux-gnu/libfoo.so.1 "
       "-Wl,--disable-new-dtags -Wl,-rpath,/r");
  int status = 0;
  run_command("cd " + shell_quote(r.host("/src")) + " && cc -m32 -fPIC -c foo.c -o foo32.o && " +
                  "ld -m elf_i386 -shared -soname libfoo.so.1 -o " + shell_quote(r.host("/r32")) +
                  " foo32.o && printf '\\tblr\\n' > be.s && powerpc64-linux-gnu-as -a64 be.s -o" +
                  " be.o && powerpc64-linux-gnu-ld -shared -o " + shell_quote(r.host("/be64")) +
                  " be.o",
              &status);
  REQUIRE(status == 0);
  std::string other_machine = host_file(r.host("/usr/lib/x86_64-linux-gnu/libfoo.so.1"));
  other_machine[18] = static_cast<char>(183);  // e_machine = AArch64
  other_machine[19] = 0;

  SECTION("32-bit: skipped, the next directory has the right one") {
    r.copy("/r32", "/r/libfoo.so.1");
    Outcome o = resolve_and_compare(r, "/bin/app");
    CHECK(find(o.closure, "libfoo.so.1")->via == FoundVia::default_dirs);
    // Only the 32-bit one left: not found, and the reason is kept.
    std::filesystem::remove(r.host("/usr/lib/x86_64-linux-gnu/libfoo.so.1"));
    Outcome gone = resolve_and_compare(r, "/bin/app");
    REQUIRE(gone.closure.missing.size() == 1);
    CHECK(gone.closure.missing[0].skipped ==
          std::vector<std::string>{"/r/libfoo.so.1: wrong ELF class: ELFCLASS32"});
  }
  SECTION("another machine: skipped silently by ld.so") {
    r.root.file("/r/libfoo.so.1", other_machine);
    Outcome o = resolve_and_compare(r, "/bin/app");
    CHECK(find(o.closure, "libfoo.so.1")->object->path == "/usr/lib/x86_64-linux-gnu/libfoo.so.1");
  }
  SECTION("big-endian PowerPC: another machine, skipped (Debian's ld.so)") {
    r.copy("/be64", "/r/libfoo.so.1");
    Outcome o = resolve_and_compare(r, "/bin/app");
    CHECK(o.closure.complete());
    CHECK(find(o.closure, "libfoo.so.1")->via == FoundVia::default_dirs);
  }
  SECTION("x86-64 marked big-endian, bad e_ident or e_type: the loader stops") {
    const std::string good = host_file(r.host("/usr/lib/x86_64-linux-gnu/libfoo.so.1"));
    struct Patch {
      std::size_t at;
      std::string bytes;
      std::string reason;
    };
    for (const Patch& p : std::vector<Patch>{
             {5, "\x02", "ELF file data encoding not little-endian"},
             {6, "\x02", "ELF file version ident does not match current one"},
             {7, "\x09", "ELF file OS ABI invalid"},
             {8, "\x01", "ELF file ABI version invalid"},
             {12, "\x01", "nonzero padding in e_ident"},
             {20, "\x02", "ELF file version does not match current one"},
             {16, "\x01", "only ET_DYN and ET_EXEC can be loaded"},
             {54, "\x30", "ELF file's phentsize not the expected size"},
         }) {
      std::string bad = good;
      bad.replace(p.at, p.bytes.size(), p.bytes);
      r.root.file("/r/libfoo.so.1", bad);
      Outcome o = resolve_and_compare(r, "/bin/app");
      REQUIRE(o.closure.broken.size() == 1);
      CHECK(o.closure.broken[0].error == p.reason);
      CHECK(o.closure.broken[0].needed_by == "/bin/app");
    }
    // A GNU ABI version below glibc's limit is fine.
    std::string gnu = good;
    gnu.replace(7, 2, "\x03\x02");
    r.root.file("/r/libfoo.so.1", gnu);
    CHECK(find(resolve_and_compare(r, "/bin/app").closure, "libfoo.so.1")->via == FoundVia::rpath);
  }
  SECTION("not ELF, too short, a directory: the loader stops") {
    for (const auto& [make, reason] : std::vector<std::pair<std::function<void()>, std::string>>{
             {[&] {
                r.root.file("/r/libfoo.so.1", "this is not a library\n" + std::string(80, 'x'));
              },
              "invalid ELF header"},
             {[&] {
                r.root.file("/r/libfoo.so.1",
                            "\x7f"
                            "ELF\x02\x01\x01");
              },
              "file too short"},
             {[&] { r.root.mkdir("/r/libfoo.so.1"); }, "cannot read file data (it is a directory)"},
         }) {
      std::filesystem::remove_all(r.host("/r/libfoo.so.1"));
      make();
      Outcome o = resolve_and_compare(r, "/bin/app");
      REQUIRE(o.closure.broken.size() == 1);
      CHECK(o.closure.broken[0].error == reason);
      CHECK(o.closure.broken[0].path == "/r/libfoo.so.1");
    }
  }
}

TEST_CASE("resolver: $ORIGIN of a symlinked library, $LIB, $PLATFORM, NODEFLIB, paths",
          "[elf][resolver]") {
  LoaderRoot r;
  // libbar lives in /opt/real, reached through a link in /app/lib; its
  // RUNPATH $ORIGIN/dep means the link's folder, as ld.so computes it.
  r.lib("/opt/real/dep/libdep.so.1", "dep.c", "libdep.so.1");
  r.copy("/opt/real/dep/libdep.so.1", "/app/lib/dep/libdep.so.1");
  r.lib("/opt/real/libbar.so.1", "bar.c {ROOT}/opt/real/dep/libdep.so.1", "libbar.so.1",
        "-Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN/dep'");
  r.root.symlink("/app/lib/libbar.so.1", "/opt/real/libbar.so.1");
  r.cc("/app/bin/app",
       "mainbar.c {ROOT}/opt/real/libbar.so.1 -Wl,--enable-new-dtags "
       "-Wl,-rpath,'$ORIGIN/../lib'");
  Outcome o = resolve_and_compare(r, "/app/bin/app");
  CHECK(find(o.closure, "libdep.so.1")->object->path == "/app/bin/../lib/dep/libdep.so.1");
  std::filesystem::remove(r.host("/app/lib/dep/libdep.so.1"));
  Outcome gone = resolve_and_compare(r, "/app/bin/app");
  CHECK(gone.closure.missing.size() == 1);

  // $LIB is Debian's lib/<triplet>, $PLATFORM the CPU family, ${...} alike.
  r.copy("/opt/real/dep/libdep.so.1", "/t/lib/x86_64-linux-gnu/libdep.so.1");
  r.copy("/opt/real/dep/libdep.so.1", "/p/x86_64/libdep.so.1");
  r.cc("/bin/lib-token",
       "maindep.c {ROOT}/opt/real/dep/libdep.so.1 -Wl,--disable-new-dtags "
       "-Wl,-rpath,'/t/$LIB'");
  r.cc("/bin/platform-token",
       "maindep.c {ROOT}/opt/real/dep/libdep.so.1 "
       "-Wl,--disable-new-dtags -Wl,-rpath,'/p/${PLATFORM}:/q/$UNKNOWN'");
  CHECK(find(resolve_and_compare(r, "/bin/lib-token").closure, "libdep.so.1")->object->path ==
        "/t/lib/x86_64-linux-gnu/libdep.so.1");
  CHECK(find(resolve_and_compare(r, "/bin/platform-token").closure, "libdep.so.1")->object->path ==
        "/p/x86_64/libdep.so.1");

  // DF_1_NODEFLIB on libbar: its own needs skip the cache and system folders.
  r.lib("/usr/lib/x86_64-linux-gnu/libdep.so.1", "dep.c", "libdep.so.1");
  r.lib("/app/lib/libnodef.so.1", "bar.c {ROOT}/usr/lib/x86_64-linux-gnu/libdep.so.1",
        "libnodef.so.1", "-Wl,-z,nodefaultlib");
  r.cc("/app/bin/nodef", "mainbar.c {ROOT}/app/lib/libnodef.so.1 -Wl,-rpath,/app/lib");
  r.ldconfig();
  Outcome nodef = resolve_and_compare(r, "/app/bin/nodef");
  REQUIRE(nodef.closure.missing.size() == 1);
  CHECK(nodef.closure.missing[0].name == "libdep.so.1");

  // A DT_NEEDED name with a slash is opened as it is.
  r.lib("/opt/abs/libabs.so", "dep.c", "/opt/abs/libabs.so");
  r.cc("/bin/abs", "maindep.c {ROOT}/opt/abs/libabs.so");
  Outcome abs = resolve_and_compare(r, "/bin/abs");
  REQUIRE(find(abs.closure, "/opt/abs/libabs.so"));
  CHECK(find(abs.closure, "/opt/abs/libabs.so")->via == FoundVia::path);
}

TEST_CASE("resolver: one object per file, one miss per name", "[elf][resolver]") {
  LoaderRoot r;
  // libfoo.so.1 is needed as "libfoo.so.1" by the program and as "libfoo.so"
  // by libbar (linked against a stub of that soname); both names are one file.
  r.lib("/app/lib/libfoo.so.1", "foo.c", "libfoo.so.1");
  r.root.symlink("/app/lib/libfoo.so", "libfoo.so.1");
  r.lib("/stub/libfoo.so", "foo.c", "libfoo.so");
  r.lib("/app/lib/libgone.so.1", "dep.c", "libgone.so.1");
  r.lib("/app/lib/libbar.so.1", "bar.c {ROOT}/stub/libfoo.so {ROOT}/app/lib/libgone.so.1",
        "libbar.so.1", "-Wl,--no-as-needed");
  r.cc("/app/bin/app",
       "-Wl,--no-as-needed mainboth.c {ROOT}/app/lib/libfoo.so.1 "
       "{ROOT}/app/lib/libbar.so.1 {ROOT}/app/lib/libgone.so.1 "
       "-Wl,--disable-new-dtags -Wl,-rpath,/app/lib");
  Outcome o = resolve_and_compare(r, "/app/bin/app");
  int foo_objects = 0;
  for (const ClosureObject& obj : o.closure.objects) {
    if (obj.object->real_path == "/app/lib/libfoo.so.1") ++foo_objects;
  }
  CHECK(foo_objects == 1);
  CHECK(o.closure.complete());

  std::filesystem::remove(r.host("/app/lib/libgone.so.1"));
  Outcome gone = resolve_and_compare(r, "/app/bin/app");
  REQUIRE(gone.closure.missing.size() == 1);
  CHECK(gone.closure.missing[0].name == "libgone.so.1");
  CHECK(gone.closure.missing[0].needed_by ==
        std::vector<std::string>{"/app/bin/app", "/app/lib/libbar.so.1"});
}
