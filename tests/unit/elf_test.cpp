// The ELF reader, on objects the real toolchain builds (both classes, both
// byte orders), on this machine's own libraries (checked against readelf),
// and on synthetic and corrupted bytes.
#include "checks/formats/elf.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <random>

#include "checks/facts/library_resolver.h"
#include "tests/unit/elf_test_support.h"
#include "tests/unit/fixture_root.h"

using namespace pycheck;
using pycheck::test::FixtureRoot;
using pycheck::test::host_file;
using pycheck::test::run_command;
using pycheck::test::SynthElf;

namespace {

// What readelf says about a file, for comparison.
struct ReadelfFacts {
  std::vector<std::string> needed;
  std::optional<std::string> soname, rpath, runpath, interp;
  bool has_dynamic = false;
};

std::string bracketed(const std::string& line) {
  std::size_t open = line.find('[', line.find(':'));
  std::size_t close = line.rfind(']');
  return line.substr(open + 1, close - open - 1);
}

ReadelfFacts readelf_facts(const std::string& host_path) {
  int status = 0;
  std::string out = run_command("readelf -W -d -l " + test::shell_quote(host_path), &status);
  REQUIRE(status == 0);
  ReadelfFacts f;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find("Dynamic section at offset") != std::string::npos) f.has_dynamic = true;
    if (line.find("(NEEDED)") != std::string::npos) f.needed.push_back(bracketed(line));
    if (line.find("(SONAME)") != std::string::npos) f.soname = bracketed(line);
    if (line.find("(RPATH)") != std::string::npos) f.rpath = bracketed(line);
    if (line.find("(RUNPATH)") != std::string::npos) f.runpath = bracketed(line);
    if (line.find("Requesting program interpreter:") != std::string::npos) {
      std::size_t colon = line.find(": ");
      f.interp = line.substr(colon + 2, line.rfind(']') - colon - 2);
    }
  }
  return f;
}

void check_matches_readelf(const ElfFile& elf, const std::string& host_path) {
  INFO(host_path);
  ReadelfFacts f = readelf_facts(host_path);
  CHECK(elf.has_dynamic == f.has_dynamic);
  CHECK(elf.dynamic.needed == f.needed);
  CHECK(elf.dynamic.soname == f.soname);
  CHECK(elf.dynamic.rpath == f.rpath);
  CHECK(elf.dynamic.runpath == f.runpath);
  CHECK(elf.interpreter == f.interp);
}

void must(const std::string& command) {
  int status = 0;
  std::string out = run_command(command, &status);
  INFO(command << "\n" << out);
  REQUIRE(status == 0);
}

// Objects built with the real compiler and linkers in a temporary folder.
struct BuiltObjects {
  FixtureRoot dir;
  std::string path(const std::string& name) const { return dir.host_path("/" + name); }
  BuiltObjects() {
    const std::string d = dir.dir();
    dir.file("/foo.c", "int foo(void) { return 42; }\n");
    dir.file("/main.c", "int foo(void);\nint main(void) { return foo(); }\n");
    dir.file("/be.s", "\t.text\n\t.globl f\nf:\tblr\n");
    must("cd " + d + " && cc -shared -fPIC -o libfoo.so.1 -Wl,-soname,libfoo.so.1 foo.c" +
         " -Wl,--disable-new-dtags -Wl,-rpath,'$ORIGIN/../lib:/opt/x' -Wl,--no-as-needed -lm" +
         " -Wl,-z,nodefaultlib");
    must("cd " + d + " && cc -o app main.c ./libfoo.so.1 -Wl,--enable-new-dtags" +
         " -Wl,-rpath,'${ORIGIN}/../lib'");
    must("cd " + d + " && cc -static -o static-app foo.c -Dfoo=main");
    // A real 32-bit object: compile for i386 and link without a 32-bit C library.
    must("cd " + d + " && cc -m32 -fPIC -c foo.c -o foo32.o && ld -m elf_i386 -shared" +
         " -soname libfoo32.so --disable-new-dtags -rpath /opt/lib32 -o libfoo32.so foo32.o");
    // Real big-endian objects (PowerPC), 64- and 32-bit, one needing the other.
    must("cd " + d + " && powerpc64-linux-gnu-as -a64 be.s -o be64.o &&" +
         " powerpc64-linux-gnu-ld -shared -soname libbe64.so.1 --disable-new-dtags" +
         " -rpath /opt/be64 -o libbe64.so.1 be64.o &&" +
         " powerpc64-linux-gnu-ld -shared -soname libuser64.so --enable-new-dtags -rpath /opt/u" +
         " -o libuser64.so be64.o libbe64.so.1");
    must("cd " + d + " && powerpc64-linux-gnu-as -a32 be.s -o be32.o &&" +
         " powerpc64-linux-gnu-ld -m elf32ppclinux -shared -soname libbe32.so.1" +
         " --enable-new-dtags -rpath '$ORIGIN' -o libbe32.so.1 be32.o &&" +
         " powerpc64-linux-gnu-ld -m elf32ppclinux -shared -soname libuser32.so" +
         " -o libuser32.so be32.o libbe32.so.1");
  }
};

Result<ElfFile> parse_host(const std::string& host_path) { return parse_elf(host_file(host_path)); }

}  // namespace

TEST_CASE("looks_like_elf checks the magic only", "[elf]") {
  CHECK(
      looks_like_elf("\x7f"
                     "ELF"));
  CHECK(
      looks_like_elf(std::string("\x7f"
                                 "ELF\x02\x01\x01\0",
                                 8)));
  CHECK_FALSE(
      looks_like_elf("\x7f"
                     "EL"));
  CHECK_FALSE(looks_like_elf("#!/bin/sh\n"));
  CHECK_FALSE(looks_like_elf(""));
  CHECK_FALSE(
      looks_like_elf("\x7f"
                     "elf"));
}

TEST_CASE("objects built by the real toolchain parse as readelf reads them", "[elf]") {
  BuiltObjects b;

  auto foo = parse_host(b.path("libfoo.so.1"));
  REQUIRE(foo.ok());
  CHECK(foo->header.elf_class == elfc::kClass64);
  CHECK(foo->header.data == elfc::kDataLittle);
  CHECK(foo->header.machine == elfc::kMachineX86_64);
  CHECK(foo->header.type == elfc::kTypeDyn);
  CHECK(foo->dynamic.soname == "libfoo.so.1");
  CHECK(foo->dynamic.rpath == "$ORIGIN/../lib:/opt/x");
  CHECK_FALSE(foo->dynamic.runpath);
  CHECK(std::find(foo->dynamic.needed.begin(), foo->dynamic.needed.end(), "libm.so.6") !=
        foo->dynamic.needed.end());
  CHECK(foo->dynamic.flags_1 == elfc::kDf1Nodeflib);
  CHECK(describe_elf(foo->header) == "ELF64 LSB x86-64 shared object");
  check_matches_readelf(*foo, b.path("libfoo.so.1"));

  auto app = parse_host(b.path("app"));
  REQUIRE(app.ok());
  CHECK(app->interpreter == "/lib64/ld-linux-x86-64.so.2");
  CHECK(app->dynamic.runpath == "${ORIGIN}/../lib");
  CHECK_FALSE(app->dynamic.rpath);
  CHECK(app->dynamic.needed.front() == "libfoo.so.1");
  CHECK((app->dynamic.flags_1 & elfc::kDf1Pie) != 0);  // Debian's gcc builds PIE
  check_matches_readelf(*app, b.path("app"));

  auto st = parse_host(b.path("static-app"));
  REQUIRE(st.ok());
  CHECK_FALSE(st->has_dynamic);
  CHECK_FALSE(st->interpreter);
  CHECK(st->header.type == elfc::kTypeExec);
  check_matches_readelf(*st, b.path("static-app"));

  auto f32 = parse_host(b.path("libfoo32.so"));
  REQUIRE(f32.ok());
  CHECK(f32->header.elf_class == elfc::kClass32);
  CHECK(f32->header.machine == elfc::kMachine386);
  CHECK(f32->dynamic.soname == "libfoo32.so");
  CHECK(f32->dynamic.rpath == "/opt/lib32");
  CHECK(describe_elf(f32->header) == "ELF32 LSB i386 shared object");
  check_matches_readelf(*f32, b.path("libfoo32.so"));

  for (const char* name : {"libbe64.so.1", "libuser64.so", "libbe32.so.1", "libuser32.so"}) {
    auto be = parse_host(b.path(name));
    INFO(name);
    REQUIRE(be.ok());
    CHECK(be->header.big_endian());
    check_matches_readelf(*be, b.path(name));
  }
  auto u64 = parse_host(b.path("libuser64.so"));
  CHECK(u64->header.machine == elfc::kMachinePpc64);
  CHECK(u64->header.is_64());
  CHECK(u64->dynamic.needed == std::vector<std::string>{"libbe64.so.1"});
  CHECK(u64->dynamic.runpath == "/opt/u");
  auto u32 = parse_host(b.path("libuser32.so"));
  CHECK(u32->header.machine == elfc::kMachinePpc);
  CHECK_FALSE(u32->header.is_64());
  CHECK(u32->dynamic.needed == std::vector<std::string>{"libbe32.so.1"});
  CHECK(parse_host(b.path("libbe32.so.1"))->dynamic.runpath == "$ORIGIN");
  CHECK(describe_elf(u32->header) == "ELF32 MSB PowerPC shared object");
}

TEST_CASE("this machine's libraries and python parse as readelf reads them", "[elf]") {
  std::vector<std::string> paths = {"/usr/bin/python3", "/bin/sh", "/usr/bin/ls"};
  for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/x86_64-linux-gnu")) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && !entry.is_symlink() && name.find(".so") != std::string::npos &&
        name.starts_with("lib")) {
      paths.push_back(entry.path().string());
    }
    if (paths.size() >= 80) break;
  }
  REQUIRE(paths.size() >= 40);
  auto fs = RootFs::open("/");
  REQUIRE(fs.ok());
  for (const std::string& p : paths) {
    std::string bytes = host_file(p);
    if (!looks_like_elf(bytes)) continue;  // linker scripts named .so
    auto whole = parse_elf(bytes);
    INFO(p);
    REQUIRE(whole.ok());
    check_matches_readelf(*whole, std::filesystem::canonical(p).string());
    // Reading only the needed prefix through RootFs gives the same answer.
    auto partial = read_elf_file(*fs, p);
    REQUIRE(partial.ok());
    CHECK(partial->dynamic.needed == whole->dynamic.needed);
    CHECK(partial->dynamic.soname == whole->dynamic.soname);
    CHECK(partial->interpreter == whole->interpreter);
  }
}

TEST_CASE("a large object is read only up to its dynamic strings", "[elf]") {
  BuiltObjects b;
  // A 4 MiB non-loaded section appended at the end, as debug info would be.
  b.dir.file("/junk.bin", std::string(4u << 20, 'j'));
  must("cd " + b.dir.dir() + " && objcopy --add-section .pycheck_junk=junk.bin libfoo.so.1 big.so");
  const std::string bytes = host_file(b.path("big.so"));
  REQUIRE(bytes.size() > (4u << 20));
  std::string prefix = bytes.substr(0, 16);
  int rounds = 0;
  while (true) {
    auto need = elf_prefix_needed(prefix);
    REQUIRE(need.ok());
    if (*need <= prefix.size()) break;
    prefix = bytes.substr(0, *need);
    REQUIRE(++rounds < 6);
  }
  CHECK(prefix.size() < 64 * 1024);
  auto partial = parse_elf(prefix);
  REQUIRE(partial.ok());
  CHECK(partial->dynamic.soname == "libfoo.so.1");
  CHECK(partial->dynamic.rpath == "$ORIGIN/../lib:/opt/x");

  auto fs = b.dir.fs();
  auto via_fs = read_elf_file(fs, "/big.so");
  REQUIRE(via_fs.ok());
  CHECK(via_fs->dynamic.needed == partial->dynamic.needed);
}

TEST_CASE("synthetic objects of every class and byte order parse alike", "[elf]") {
  for (bool is64 : {true, false}) {
    for (bool big : {false, true}) {
      SynthElf s;
      s.is64 = is64;
      s.big = big;
      s.machine = is64 ? 183 : 40;
      s.needed = {"libc.so.6", "libm.so.6"};
      s.soname = "libsynth.so.2";
      s.rpath = "/opt/r";
      s.runpath = "$ORIGIN/lib";
      s.interp = "/lib/ld-linux-aarch64.so.1";
      s.flags_1 = elfc::kDf1Nodeflib;
      auto elf = parse_elf(s.build());
      INFO("is64=" << is64 << " big=" << big);
      REQUIRE(elf.ok());
      CHECK(elf->header.is_64() == is64);
      CHECK(elf->header.big_endian() == big);
      CHECK(elf->header.machine == s.machine);
      CHECK(elf->program_headers.size() == 3);
      CHECK(elf->interpreter == "/lib/ld-linux-aarch64.so.1");
      CHECK(elf->dynamic.needed == s.needed);
      CHECK(elf->dynamic.soname == "libsynth.so.2");
      CHECK(elf->dynamic.rpath == "/opt/r");
      CHECK(elf->dynamic.runpath == "$ORIGIN/lib");
      CHECK(elf->dynamic.flags_1 == elfc::kDf1Nodeflib);
    }
  }
}

TEST_CASE("malformed ELF data gives an Error that says why", "[elf]") {
  struct Case {
    const char* what;
    std::function<void(SynthElf&, std::string&)> corrupt;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"magic", [](SynthElf&, std::string& b) { b[1] = 'X'; }, "not an ELF file"},
      {"class", [](SynthElf&, std::string& b) { b[4] = 7; }, "unknown ELF class 7"},
      {"byte order", [](SynthElf&, std::string& b) { b[5] = 0; }, "unknown ELF byte order"},
      {"phentsize", [](SynthElf& s, std::string& b) { s.put(b, 54, 20, 2); }, "e_phentsize"},
      {"phnum 0xffff", [](SynthElf& s, std::string& b) { s.put(b, 56, 0xffff, 2); },
       "extended program header count"},
      {"phoff overflow",
       [](SynthElf& s, std::string& b) { s.put(b, 32, 0xfffffffffffffff0ull, 8); }, "overflows"},
      {"phoff past end", [](SynthElf& s, std::string& b) { s.put(b, 32, 1u << 20, 8); },
       "extends past the end"},
      {"dynamic past end",
       [](SynthElf& s, std::string& b) { s.put(b, s.phoff + 2 * 56 + 8, 1u << 20, 8); },
       "dynamic section"},
      {"strtab outside PT_LOAD",
       [](SynthElf& s, std::string& b) {
         // DT_STRTAB is the third-to-last dynamic entry.
         s.put(b, s.dyn_off + s.dyn_size - 3 * 16 + 8, 0x10, 8);
       },
       "not inside any PT_LOAD"},
      {"needed index past strsz",
       [](SynthElf& s, std::string& b) { s.put(b, s.dyn_off + 8, 0x7fffffff, 8); },
       "outside the string table"},
      {"unterminated string",
       [](SynthElf& s, std::string& b) {
         // Shrink DT_STRSZ (second-to-last entry) to cut "libc.so.6" short.
         s.put(b, s.dyn_off + s.dyn_size - 2 * 16 + 8, 4, 8);
       },
       "not NUL-terminated"},
      {"interp unterminated",
       [](SynthElf& s, std::string& b) { s.put(b, s.phoff + 56 + 32, 3, 8); }, "PT_INTERP"},
  };
  for (const Case& c : cases) {
    SynthElf s;
    s.needed = {"libc.so.6"};
    s.interp = "/lib64/ld-linux-x86-64.so.2";
    std::string bytes = s.build();
    c.corrupt(s, bytes);
    auto r = parse_elf(bytes);
    INFO(c.what);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message, Catch::Contains(c.message));
  }

  SynthElf many;
  for (int i = 0; i < 5000; ++i) many.needed.push_back("l" + std::to_string(i));
  auto r = parse_elf(many.build());
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message, Catch::Contains("DT_NEEDED entries"));

  // PT_DYNAMIC turned into PT_NULL: a static object, not an error.
  SynthElf s;
  std::string bytes = s.build();
  s.put(bytes, s.phoff + 56, 0, 4);
  auto st = parse_elf(bytes);
  REQUIRE(st.ok());
  CHECK_FALSE(st->has_dynamic);
}

TEST_CASE("every truncation of an object is an Error, never a crash", "[elf]") {
  for (bool is64 : {true, false}) {
    SynthElf s;
    s.is64 = is64;
    s.needed = {"libc.so.6"};
    s.interp = "/lib/ld.so";
    const std::string bytes = s.build();
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      INFO("length " << n);
      CHECK_FALSE(parse_elf(bytes.substr(0, n)).ok());
      auto need = elf_prefix_needed(bytes.substr(0, n));
      if (need.ok()) CHECK(*need > n);  // it asks for more, never claims to be done
    }
    CHECK(parse_elf(bytes).ok());
  }
}

TEST_CASE("random corruption of real and synthetic objects never crashes", "[elf]") {
  BuiltObjects b;
  std::vector<std::string> seeds = {host_file(b.path("libfoo.so.1")), host_file(b.path("app")),
                                    host_file(b.path("libuser32.so"))};
  SynthElf s;
  s.needed = {"libc.so.6"};
  s.soname = "x";
  seeds.push_back(s.build());
  std::mt19937 rng(20240607);
  int parsed = 0, failed = 0;
  for (int iter = 0; iter < 4000; ++iter) {
    std::string bytes = seeds[iter % seeds.size()];
    const int flips = 1 + static_cast<int>(rng() % 8);
    for (int k = 0; k < flips; ++k) {
      // Mostly the first KiB (headers), sometimes anywhere.
      std::size_t limit =
          (rng() % 4 == 0) ? bytes.size() : std::min<std::size_t>(1024, bytes.size());
      bytes[rng() % limit] = static_cast<char>(rng() & 0xff);
    }
    if (rng() % 5 == 0) bytes.resize(rng() % bytes.size());
    auto r = parse_elf(bytes);
    (void)elf_prefix_needed(bytes);
    (void)parse_elf_header(bytes);
    (r.ok() ? parsed : failed)++;
  }
  CHECK(parsed + failed == 4000);
  CHECK(failed > 0);
}

TEST_CASE("machine names", "[elf]") {
  CHECK(elf_machine_name(elfc::kMachineX86_64) == "x86-64");
  CHECK(elf_machine_name(elfc::kMachine386) == "i386");
  CHECK(elf_machine_name(elfc::kMachineAarch64) == "AArch64");
  CHECK(elf_machine_name(4242) == "machine 4242");
}
