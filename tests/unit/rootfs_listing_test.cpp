// A RootFs keeps the listings it takes for its run: a directory is listed once,
// and the walk takes a name's absence, or its being a link, from the listing.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>

#include "tests/unit/fixture_root.h"

using namespace pycheck;
using pycheck::test::FixtureRoot;

namespace {

std::vector<std::string> names(const std::vector<DirEntry>& entries) {
  std::vector<std::string> out;
  for (const DirEntry& e : entries) out.push_back(e.name);
  return out;
}

}  // namespace

TEST_CASE("a directory listed in a run stays as first listed", "[rootfs][rootfs-listing]") {
  FixtureRoot root;
  root.file("/etc/ssl/certs/a.pem", "a").file("/etc/ssl/certs/b.pem", "b");
  RootFs fs = root.fs();
  auto first = fs.list_dir("/etc/ssl/certs");
  REQUIRE(first.ok());
  CHECK(names(*first) == std::vector<std::string>{"a.pem", "b.pem"});

  root.file("/etc/ssl/certs/c.pem", "c");  // added during the run
  CHECK(names(fs.list_dir("/etc/ssl/certs").value()) == names(*first));
  auto late = fs.stat("/etc/ssl/certs/c.pem");  // a name the listing lacks is missing
  REQUIRE_FALSE(late.ok());
  CHECK(late.missing());
  CHECK(late.error().message == "/etc/ssl/certs/c.pem: No such file or directory");
  CHECK(fs.read_file("/etc/ssl/certs/a.pem").value() == "a");  // listed names are read as usual

  // The next run (a new RootFs) sees the directory as it is now.
  RootFs next = root.fs();
  CHECK(next.list_dir("/etc/ssl/certs").value().size() == 3);
  CHECK(next.read_file("/etc/ssl/certs/c.pem").value() == "c");
}

TEST_CASE("a listed directory reached through a link is the same listing",
          "[rootfs][rootfs-listing]") {
  FixtureRoot root;
  root.file("/usr/lib/x86_64-linux-gnu/libc.so.6", "libc").symlink("/lib", "usr/lib");
  RootFs fs = root.fs();
  REQUIRE(fs.list_dir("/lib/x86_64-linux-gnu").ok());
  CHECK(fs.read_file("/usr/lib/x86_64-linux-gnu/libc.so.6").value() == "libc");
  CHECK(fs.stat("/usr/lib/x86_64-linux-gnu/libm.so.6").missing());
  CHECK(fs.stat("/lib/x86_64-linux-gnu/libm.so.6").missing());
}

TEST_CASE("links named by a listing are followed, and still checked", "[rootfs][rootfs-listing]") {
  FixtureRoot root;
  root.file("/usr/share/ca-certificates/mozilla/X.crt", "cert")
      .symlink("/etc/ssl/certs/X.pem", "/usr/share/ca-certificates/mozilla/X.crt")
      .symlink("/etc/ssl/certs/1a2b3c4d.0", "X.pem")
      .symlink("/etc/ssl/certs/loop.0", "loop.0")
      .file("/etc/ssl/certs/plain.pem", "plain");
  RootFs fs = root.fs();
  REQUIRE(fs.list_dir("/etc/ssl/certs").ok());

  auto r = fs.resolve("/etc/ssl/certs/1a2b3c4d.0");
  REQUIRE(r.ok());
  CHECK(r->path == "/usr/share/ca-certificates/mozilla/X.crt");
  REQUIRE(r->chain.size() == 2);
  CHECK(r->chain[0].target == "X.pem");
  CHECK(r->chain[1].target == "/usr/share/ca-certificates/mozilla/X.crt");
  CHECK(fs.read_file("/etc/ssl/certs/1a2b3c4d.0").value() == "cert");
  CHECK(fs.lstat("/etc/ssl/certs/X.pem").value().type == FileType::symlink);  // not followed
  CHECK(fs.read_link("/etc/ssl/certs/X.pem").value() == "/usr/share/ca-certificates/mozilla/X.crt");
  auto loop = fs.resolve("/etc/ssl/certs/loop.0");
  REQUIRE_FALSE(loop.ok());
  CHECK(loop.error().errno_value == ELOOP);

  // A listed link replaced by a file during the run: the walk looks at what is there now.
  ::unlink(root.host_path("/etc/ssl/certs/X.pem").c_str());
  root.file("/etc/ssl/certs/X.pem", "now a file");
  auto now = fs.resolve("/etc/ssl/certs/X.pem");
  REQUIRE(now.ok());
  CHECK(now->path == "/etc/ssl/certs/X.pem");
  CHECK(now->chain.empty());
  CHECK(fs.read_file("/etc/ssl/certs/X.pem").value() == "now a file");
}

TEST_CASE("a file a listing calls regular is checked once opened", "[rootfs][rootfs-listing]") {
  FixtureRoot root;
  root.file("/var/lib/dpkg/info/a.list", "/a\n")
      .file("/var/lib/dpkg/info/b.list", "/b\n")
      .file("/var/lib/dpkg/info/c.list", "/c\n")
      .file("/var/lib/dpkg/info/target", "linked");
  RootFs fs = root.fs();
  REQUIRE(fs.list_dir("/var/lib/dpkg/info").ok());
  CHECK(fs.read_file("/var/lib/dpkg/info/a.list").value() == "/a\n");

  // Replaced during the run, each is read or refused as it is now, as without a listing.
  const std::string b = root.host_path("/var/lib/dpkg/info/b.list");
  ::unlink(b.c_str());
  REQUIRE(::mkfifo(b.c_str(), 0644) == 0);
  auto fifo = fs.read_file("/var/lib/dpkg/info/b.list");  // O_NONBLOCK: no hang
  REQUIRE_FALSE(fifo.ok());
  CHECK(fifo.error().message.find("FIFO") != std::string::npos);

  const std::string c = root.host_path("/var/lib/dpkg/info/c.list");
  ::unlink(c.c_str());
  REQUIRE(::symlink("target", c.c_str()) == 0);
  CHECK(fs.read_file("/var/lib/dpkg/info/c.list").value() == "linked");

  ::unlink(root.host_path("/var/lib/dpkg/info/a.list").c_str());
  root.file("/var/lib/dpkg/info/a.list", "/a\n/new\n");  // a new file (inode) by that name
  CHECK(fs.read_file("/var/lib/dpkg/info/a.list").value() == "/a\n/new\n");
}

TEST_CASE("listings past the run's budget are not kept", "[rootfs][rootfs-listing]") {
  FixtureRoot root;
  root.file("/small/a", "a");
  const std::string big = root.host_path("/big");
  REQUIRE(::mkdir(big.c_str(), 0755) == 0);
  std::size_t made = 0;
  for (std::size_t i = 0; i < RootFs::kMaxKeptListedEntries; ++i) {
    const int fd = ::open((big + "/f" + std::to_string(i)).c_str(), O_CREAT | O_WRONLY, 0644);
    if (fd >= 0) ++made;
    if (fd >= 0) ::close(fd);
  }
  REQUIRE(made == RootFs::kMaxKeptListedEntries);
  RootFs fs = root.fs();
  REQUIRE(fs.list_dir("/small").value().size() == 1);  // kept: 1 entry of the budget used
  REQUIRE(fs.list_dir("/big").value().size() == RootFs::kMaxKeptListedEntries);  // over it
  root.file("/big/late", "x").file("/small/late", "x");
  CHECK(fs.read_file("/big/late").value() == "x");  // /big was not kept: looked at afresh
  CHECK(fs.list_dir("/big").value().size() == RootFs::kMaxKeptListedEntries + 1);
  CHECK(fs.stat("/small/late").missing());  // /small was kept
}
