// Decompression: data compressed by the real command-line tools (gzip, xz,
// lz4, zstd; Debian packages gzip, xz-utils, lz4, zstd) comes back intact;
// truncated, corrupt and oversized input is an Error, never a crash.
#include "checks/formats/decompress.h"

#include <catch2/catch.hpp>
#include <random>

#include "tests/unit/apt_test_support.h"

using namespace pycheck;
using pycheck::test::read_host_file;
using pycheck::test::run_command;
using pycheck::test::TempDir;

namespace {

constexpr std::size_t kCap = 64u << 20;

// Text that looks like a Packages index, plus binary noise, so both the
// compressible and the incompressible paths are exercised.
std::string sample_data() {
  std::string data;
  for (int i = 0; i < 4000; ++i) {
    data += "Package: pkg" + std::to_string(i) + "\nVersion: 1." + std::to_string(i % 97) +
            "-1\nArchitecture: amd64\n\n";
  }
  std::mt19937 random(7);
  for (int i = 0; i < 100000; ++i) data.push_back(static_cast<char>(random() & 0xff));
  return data;
}

struct Tool {
  Compression format;
  const char* command;  // compresses stdin to stdout
  const char* suffix;
};
const Tool kTools[] = {
    {Compression::gzip, "gzip -c", ".gz"},
    {Compression::xz, "xz -c", ".xz"},
    {Compression::lz4, "lz4 -q -c", ".lz4"},
    {Compression::zstd, "zstd -q -c", ".zst"},
};

// Compresses `data` with the real tool; fails the test when the tool is missing.
std::string compress_with(const Tool& tool, const std::string& data, const TempDir& dir,
                          const std::string& extra_args = "") {
  const std::string program =
      std::string(tool.command).substr(0, std::string(tool.command).find(' '));
  INFO("the '" << program << "' command is required (Debian package: "
               << (program == "xz" ? "xz-utils" : program) << ")");
  REQUIRE(pycheck::test::have_command(program));
  pycheck::test::write_host_file(dir.file("in"), data);
  const std::string out = dir.file(std::string("out") + tool.suffix);
  REQUIRE(run_command(std::string(tool.command) + " " + extra_args + " < " + dir.file("in") +
                      " > " + out)
              .exit_code == 0);
  return read_host_file(out);
}

}  // namespace

TEST_CASE("decompress: real tools' output round-trips, by format and by magic",
          "[apt][decompress]") {
  TempDir dir;
  const std::string data = sample_data();
  for (const Tool& tool : kTools) {
    INFO(tool.command);
    const std::string packed = compress_with(tool, data, dir);
    CHECK(detect_compression(packed) == tool.format);
    CHECK(compression_from_file_name(std::string("x_Packages") + tool.suffix) == tool.format);
    CHECK(file_suffix(tool.format) == tool.suffix);
    auto out = decompress(packed, tool.format, kCap);
    REQUIRE(out.ok());
    CHECK(*out == data);
    auto detected = decompress_detected(packed, kCap);
    REQUIRE(detected.ok());
    CHECK(*detected == data);
    // Exactly the size fits; one byte less is over the cap.
    CHECK(decompress(packed, tool.format, data.size()).ok());
    auto capped = decompress(packed, tool.format, data.size() - 1);
    REQUIRE_FALSE(capped.ok());
    CHECK(capped.error().message.find("exceeds the limit") != std::string::npos);
  }
}

TEST_CASE("decompress: empty payloads and concatenated streams", "[apt][decompress]") {
  TempDir dir;
  for (const Tool& tool : kTools) {
    INFO(tool.command);
    auto empty = decompress(compress_with(tool, "", dir), tool.format, kCap);
    REQUIRE(empty.ok());
    CHECK(empty->empty());
    // `cat a.gz b.gz | gzip -d` gives both contents; so must we.
    const std::string both =
        compress_with(tool, "first\n", dir) + compress_with(tool, "second\n", dir);
    auto joined = decompress(both, tool.format, kCap);
    REQUIRE(joined.ok());
    CHECK(*joined == "first\nsecond\n");
  }
}

TEST_CASE("decompress: truncated input is an error for every format", "[apt][decompress]") {
  TempDir dir;
  const std::string data = sample_data();
  for (const Tool& tool : kTools) {
    INFO(tool.command);
    const std::string packed = compress_with(tool, data, dir);
    for (std::size_t keep :
         {packed.size() - 1, packed.size() / 2, std::size_t{10}, std::size_t{1}, std::size_t{0}}) {
      INFO("kept " << keep << " of " << packed.size() << " bytes");
      auto out = decompress(std::string_view(packed).substr(0, keep), tool.format, kCap);
      REQUIRE_FALSE(out.ok());
      CHECK(out.error().message.rfind(std::string(to_string(tool.format)) + ":", 0) == 0);
    }
  }
  // The case the brief names: a .xz cut short says so.
  const std::string xz = compress_with(kTools[1], data, dir);
  auto cut = decompress(std::string_view(xz).substr(0, xz.size() / 2), Compression::xz, kCap);
  REQUIRE_FALSE(cut.ok());
  CHECK(cut.error().message.find("truncated") != std::string::npos);
}

TEST_CASE("decompress: corrupt data and trailing garbage are errors", "[apt][decompress]") {
  TempDir dir;
  const std::string data = sample_data();
  for (const Tool& tool : kTools) {
    INFO(tool.command);
    const std::string packed = compress_with(tool, data, dir);
    // Flip bytes in the middle: the format's checksum or structure must catch it.
    std::string corrupt = packed;
    for (std::size_t i = corrupt.size() / 3; i < corrupt.size() / 3 + 16; ++i) corrupt[i] ^= 0x5a;
    CHECK_FALSE(decompress(corrupt, tool.format, kCap).ok());
    CHECK_FALSE(decompress(packed + "garbage!", tool.format, kCap).ok());
    // The wrong decoder refuses the data instead of returning nonsense.
    const Compression other =
        tool.format == Compression::gzip ? Compression::zstd : Compression::gzip;
    CHECK_FALSE(decompress(packed, other, kCap).ok());
  }
}

// Found by tests/fuzz (decompress): a zstd frame that declares 2,443 bytes but
// holds one empty raw block. libzstd's streaming decoder caught it only when the
// output buffer could hold the declared size, so a small cap returned "".
TEST_CASE("decompress: a zstd frame shorter than its declared size is an error at any cap",
          "[apt][decompress]") {
  const std::string frame("\x28\xb5\x2f\xfd\x50\x1f\x8b\x08\x01\x00\x00", 11);
  for (std::size_t cap : {std::size_t{1000}, std::size_t{4096}, kCap}) {
    INFO("cap " << cap);
    const auto out = decompress(frame, Compression::zstd, cap);
    REQUIRE_FALSE(out.ok());
    CHECK(out.error().message.find("zstd: corrupt data") == 0);
  }
}

TEST_CASE("decompress: a decompression bomb stops at the cap", "[apt][decompress]") {
  TempDir dir;
  const std::string zeros(32u << 20, '\0');  // 32 MiB of zeros: a few KiB compressed
  for (const Tool& tool : kTools) {
    INFO(tool.command);
    const std::string packed = compress_with(tool, zeros, dir);
    CHECK(packed.size() < zeros.size() / 100);
    auto out = decompress(packed, tool.format, 1u << 20);
    REQUIRE_FALSE(out.ok());
    CHECK(out.error().message.find("exceeds the limit of 1048576 bytes") != std::string::npos);
  }
}

TEST_CASE("decompress: none, zlib, bzip2 and detection of plain data", "[apt][decompress]") {
  CHECK(detect_compression("Package: x\n") == Compression::none);
  CHECK(detect_compression("") == Compression::none);
  CHECK(detect_compression("\x1f") == Compression::none);
  CHECK(compression_from_file_name("host_dists_x_main_binary-amd64_Packages") == Compression::none);
  CHECK(*decompress("plain", Compression::none, 5) == "plain");
  CHECK_FALSE(decompress("plain", Compression::none, 4).ok());
  CHECK(*decompress_detected("Package: x\n", 100) == "Package: x\n");

  // zlib (RFC 1950), the debsecan feed's encoding, made by the real python3 zlib.
  const auto zlib = run_command(
      "python3 -c 'import sys,zlib; "
      "sys.stdout.buffer.write(zlib.compress(b\"VERSION 1\\n\" * 1000, 9))'");
  REQUIRE(zlib.exit_code == 0);
  auto feed = decompress(zlib.output, Compression::zlib, kCap);
  REQUIRE(feed.ok());
  CHECK(feed->size() == 10000);
  CHECK(feed->rfind("VERSION 1\n", 0) == 0);
  CHECK_FALSE(decompress(zlib.output, Compression::gzip, kCap).ok());  // not gzip-wrapped

  auto bzip2 = decompress("BZh91AY&SY", Compression::bzip2, kCap);
  REQUIRE_FALSE(bzip2.ok());
  CHECK(bzip2.error().message.find("not supported") != std::string::npos);
  CHECK(detect_compression("BZh91AY&SY") == Compression::bzip2);
}

TEST_CASE("decompress: random garbage never crashes", "[apt][decompress]") {
  std::mt19937 random(99);
  const std::string_view magics[] = {std::string_view("\x1f\x8b", 2),
                                     std::string_view("\xfd"
                                                      "7zXZ\x00",
                                                      6),
                                     std::string_view("\x04\x22\x4d\x18", 4),
                                     std::string_view("\x28\xb5\x2f\xfd", 4)};
  for (int i = 0; i < 400; ++i) {
    std::string data(magics[i % 4]);
    const std::size_t length = random() % 300;
    for (std::size_t j = 0; j < length; ++j) data.push_back(static_cast<char>(random() & 0xff));
    auto out = decompress_detected(data, 1u << 20);  // an Error or (rarely) some bytes: no crash
    if (out.ok()) CHECK(out->size() <= (1u << 20));
  }
}
