// parse_elf_prefix() is elf_prefix_needed() then parse_elf() in one pass: these
// tests pin that it gives exactly what the two steps give (the same "read more",
// the same Error message, the same parsed file), on real and synthetic objects,
// truncated and corrupted.
#include <catch2/catch.hpp>
#include <random>

#include "checks/formats/elf.h"
#include "tests/unit/elf_test_support.h"

namespace pycheck {
namespace {

using test::SynthElf;

std::string describe_file(const ElfFile& f) {
  std::string out = describe_elf(f.header) + " phnum=" + std::to_string(f.program_headers.size());
  for (const ProgramHeader& ph : f.program_headers) {
    out += " [" + std::to_string(ph.type) + "@" + std::to_string(ph.offset) + "]";
  }
  out += " interp=" + f.interpreter.value_or("-") + " dynamic=" + (f.has_dynamic ? "1" : "0");
  for (const std::string& n : f.dynamic.needed) out += " needed=" + n;
  out += " soname=" + f.dynamic.soname.value_or("-") + " rpath=" + f.dynamic.rpath.value_or("-") +
         " runpath=" + f.dynamic.runpath.value_or("-") +
         " flags=" + std::to_string(f.dynamic.flags) + "/" + std::to_string(f.dynamic.flags_1);
  return out;
}

// The two steps, as read_elf_file took them before.
std::string two_steps(std::string_view bytes, bool whole) {
  auto need = elf_prefix_needed(bytes);
  if (!need) return "error: " + need.error().message;
  if (*need > bytes.size() && !whole) return "need " + std::to_string(*need);
  auto elf = parse_elf(bytes);
  if (!elf) return "error: " + elf.error().message;
  return describe_file(*elf);
}

std::string one_pass(std::string_view bytes, bool whole) {
  auto parsed = parse_elf_prefix(bytes, whole);
  if (!parsed) return "error: " + parsed.error().message;
  if (!parsed->file) return "need " + std::to_string(parsed->needed);
  return describe_file(*parsed->file);
}

std::vector<std::string> seeds() {
  std::vector<std::string> out;
  for (bool is64 : {true, false}) {
    for (bool big : {false, true}) {
      SynthElf s;
      s.is64 = is64;
      s.big = big;
      s.needed = {"libc.so.6", "libm.so.6"};
      s.soname = "libx.so.1";
      s.rpath = "$ORIGIN/../lib";
      s.interp = "/lib64/ld-linux-x86-64.so.2";
      s.flags_1 = 0x800;
      out.push_back(s.build());
    }
  }
  SynthElf bare;  // no PT_INTERP, runpath only
  bare.runpath = "/opt/lib";
  out.push_back(bare.build());
  // A real library from this machine (Debian package libc6), its first 64 KiB as the resolver
  // reads.
  const std::string libc = test::host_file("/lib/x86_64-linux-gnu/libc.so.6");
  INFO("/lib/x86_64-linux-gnu/libc.so.6 (Debian package libc6)");
  REQUIRE(libc.size() > 100000);
  out.push_back(libc.substr(0, 64 * 1024));
  return out;
}

TEST_CASE("parse_elf_prefix gives what elf_prefix_needed then parse_elf give", "[elf]") {
  const std::vector<std::string> all = seeds();
  int files = 0, needs = 0, errors = 0;
  auto compare = [&](const std::string& bytes) {
    for (bool whole : {true, false}) {
      const std::string expected = two_steps(bytes, whole);
      REQUIRE(one_pass(bytes, whole) == expected);
      (expected.starts_with("error") ? errors : expected.starts_with("need") ? needs : files)++;
    }
  };
  for (const std::string& seed : all) {
    for (std::size_t n = 0; n <= std::min<std::size_t>(seed.size(), 2048); ++n) {
      compare(seed.substr(0, n));
    }
    compare(seed);
  }
  std::mt19937 rng(20261128);
  for (int iter = 0; iter < 20000; ++iter) {
    std::string bytes = all[iter % all.size()];
    const int flips = 1 + static_cast<int>(rng() % 6);
    for (int k = 0; k < flips; ++k) {
      // Mostly the headers and tables of the small objects, sometimes anywhere.
      const std::size_t limit =
          (rng() % 4 == 0) ? bytes.size() : std::min<std::size_t>(512, bytes.size());
      bytes[rng() % limit] = static_cast<char>(rng() & 0xff);
    }
    if (rng() % 5 == 0) bytes.resize(rng() % bytes.size());
    compare(bytes);
  }
  // Every outcome was exercised.
  CHECK(files > 100);
  CHECK(needs > 100);
  CHECK(errors > 100);
}

TEST_CASE("parse_elf_prefix keeps the errors only the prefix scan sees", "[elf]") {
  SynthElf s;
  s.needed = {"libc.so.6"};
  s.interp = "/lib/ld.so";
  const std::string good = s.build();
  // PT_INTERP's size made to overflow: parse_elf alone would call it truncated.
  std::string overflow = good;
  s.put(overflow, s.phoff + 56 + 32, ~std::uint64_t{0}, 8);  // phdr 1 (PT_INTERP): p_filesz
  CHECK(one_pass(overflow, true) == "error: segment offset overflows");
  CHECK(two_steps(overflow, true) == "error: segment offset overflows");
  auto alone = parse_elf(overflow);
  REQUIRE_FALSE(alone.ok());
  CHECK_THAT(alone.error().message, Catch::Contains("PT_INTERP"));
  // A good object needs no second read.
  auto parsed = parse_elf_prefix(good, false);
  REQUIRE(parsed.ok());
  REQUIRE(parsed->file.has_value());
  CHECK(parsed->file->dynamic.needed == std::vector<std::string>{"libc.so.6"});
  CHECK(parsed->needed <= good.size());
}

}  // namespace
}  // namespace pycheck
