// RootFs::File: one open, reads at offsets; open_resolved opens what resolve() found.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdio>

#include "tests/unit/fixture_root.h"

using namespace pycheck;
using pycheck::test::FixtureRoot;

TEST_CASE("an open file is read at offsets, short at its end", "[rootfs][rootfs-file]") {
  FixtureRoot root;
  root.file("/usr/lib/libx.so", "0123456789").symlink("/lib", "usr/lib");
  RootFs fs = root.fs();
  auto file = fs.open_file("/lib/libx.so");
  REQUIRE(file.ok());
  CHECK(file->path() == "/lib/libx.so");
  CHECK(file->size() == 10);
  CHECK(file->read_range(0, 4).value() == "0123");
  CHECK(file->read_range(8, 100).value() == "89");
  CHECK(file->read_range(50, 4).value().empty());
  CHECK(file->read_range(3, 2).value() == "34");  // any order: pread, no shared position
  // The descriptor still reads the file it opened after the name goes away.
  ::unlink(root.host_path("/usr/lib/libx.so").c_str());
  CHECK(file->read_range(5, 2).value() == "56");
  auto too_big = file->read_range(0, RootFs::kDefaultMaxRead + 1);
  REQUIRE_FALSE(too_big.ok());
  CHECK(too_big.error().errno_value == EFBIG);
}

TEST_CASE("open_file refuses what is not a regular file", "[rootfs][rootfs-file]") {
  FixtureRoot root;
  root.fifo("/fifo").file("/etc/x", "x");
  RootFs fs = root.fs();
  auto fifo = fs.open_file("/fifo");
  REQUIRE_FALSE(fifo.ok());
  CHECK(fifo.error().message.find("FIFO") != std::string::npos);
  auto dir = fs.open_file("/etc");
  REQUIRE_FALSE(dir.ok());
  CHECK(dir.error().message.find("directory") != std::string::npos);
  CHECK(fs.open_file("/missing").missing());
}

TEST_CASE("open_resolved opens the file resolve() found, and only that", "[rootfs][rootfs-file]") {
  FixtureRoot root;
  root.file("/usr/lib/liba.so", "first").symlink("/usr/lib/liba.so.1", "liba.so");
  root.file("/top", "at the root");
  RootFs fs = root.fs();

  auto resolved = fs.resolve("/usr/lib/liba.so.1");  // its directory is now kept open
  REQUIRE(resolved.ok());
  auto file = fs.open_resolved(*resolved);
  REQUIRE(file.ok());
  CHECK(file->path() == "/usr/lib/liba.so");
  CHECK(file->read_range(0, 100).value() == "first");

  auto top = fs.resolve("/top");  // in the root directory itself
  REQUIRE(top.ok());
  CHECK(fs.open_resolved(*top).value().read_range(0, 100).value() == "at the root");

  // Replaced between resolve and open (another inode): refused, not read.
  const std::string host = root.host_path("/usr/lib/liba.so");
  REQUIRE(std::rename(host.c_str(), (host + ".old").c_str()) == 0);
  root.file("/usr/lib/liba.so", "second");
  auto swapped = fs.open_resolved(*resolved);
  REQUIRE_FALSE(swapped.ok());
  CHECK(swapped.error().message.find("changed while being opened") != std::string::npos);

  // Replaced by a FIFO: refused without blocking (O_NONBLOCK), never read.
  ::unlink(host.c_str());
  REQUIRE(::mkfifo(host.c_str(), 0644) == 0);
  auto fifo = fs.open_resolved(*resolved);
  REQUIRE_FALSE(fifo.ok());

  // What resolve() said is not a regular file is refused without an open.
  auto dir = fs.resolve("/usr/lib");
  REQUIRE(dir.ok());
  auto not_file = fs.open_resolved(*dir);
  REQUIRE_FALSE(not_file.ok());
  CHECK(not_file.error().message.find("not a regular file") != std::string::npos);
}
