// RootFs is the security boundary: nothing inside the root may lead outside it.
#include <sys/stat.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <fstream>

#include "tests/unit/fixture_root.h"
#include "tests/unit/hang_guard.h"

using namespace pycheck;
using pycheck::test::FixtureRoot;

TEST_CASE("path helpers are lexical and clamp at the root", "[rootfs]") {
  CHECK(path_normalize("/usr//local/./bin/../lib") == "/usr/local/lib");
  CHECK(path_normalize("/../../etc/passwd") == "/etc/passwd");
  CHECK(path_normalize("") == "/");
  CHECK(path_dirname("/usr/bin/python3") == "/usr/bin");
  CHECK(path_dirname("/python3") == "/");
  CHECK(path_basename("/usr/bin/python3") == "python3");
  CHECK(path_join("/usr/bin", "python3") == "/usr/bin/python3");
  CHECK(path_join("/", "etc") == "/etc");
  CHECK(path_join("/usr", "/abs") == "/abs");
}

TEST_CASE("reads regular files and reports the symlink chain", "[rootfs]") {
  FixtureRoot root;
  root.executable("/usr/local/bin/python3.11", "binary")
      .symlink("/usr/local/bin/python3", "python3.11")
      .symlink("/usr/local/bin/python", "python3")
      .symlink("/usr/bin/python", "/usr/local/bin/python");
  RootFs fs = root.fs();

  auto r = fs.resolve("/usr/bin/python");
  REQUIRE(r.ok());
  CHECK(r->path == "/usr/local/bin/python3.11");
  REQUIRE(r->chain.size() == 3);
  CHECK(r->chain[0].link == "/usr/bin/python");
  CHECK(r->chain[0].target == "/usr/local/bin/python");
  CHECK(r->chain[1].link == "/usr/local/bin/python");
  CHECK(r->chain[2].target == "python3.11");
  CHECK(r->info.type == FileType::regular);
  CHECK(r->info.executable());

  auto content = fs.read_file("/usr/bin/python");
  REQUIRE(content.ok());
  CHECK(*content == "binary");

  auto head = fs.read_head("/usr/local/bin/python3", 3);
  REQUIRE(head.ok());
  CHECK(*head == "bin");

  auto link = fs.read_link("/usr/local/bin/python");
  REQUIRE(link.ok());
  CHECK(*link == "python3");
  auto nolink = fs.lstat("/usr/local/bin/python");
  REQUIRE(nolink.ok());
  CHECK(nolink->type == FileType::symlink);
}

TEST_CASE("absolute link targets are re-anchored at the root, never the host", "[rootfs]") {
  FixtureRoot root;
  // /etc/hostname exists on the host; inside the root it does not.
  root.symlink("/etc/escape", "/etc/hostname").file("/inside", "in");
  RootFs fs = root.fs();
  auto r = fs.read_file("/etc/escape");
  REQUIRE_FALSE(r.ok());
  CHECK(r.missing());
  CHECK(r.error().message.find("/etc/hostname") != std::string::npos);
}

TEST_CASE("'..' in paths and link targets is clamped at the root", "[rootfs]") {
  FixtureRoot root;
  root.file("/etc/secret-inside", "inside")
      .symlink("/a/b/up", "../../../../../../etc/secret-inside");
  // A canary beside the fixture root: reachable on the host as ../canary.
  std::string canary = root.dir() + "-canary";
  std::ofstream(canary) << "outside";
  root.symlink("/a/out", "../../" + std::string(path_basename(canary)));
  RootFs fs = root.fs();

  auto up = fs.read_file("/a/b/up");
  REQUIRE(up.ok());
  CHECK(*up == "inside");
  CHECK_FALSE(fs.read_file("/a/out").ok());
  CHECK_FALSE(fs.read_file("/../../" + std::string(path_basename(canary))).ok());
  auto dotdot = fs.resolve("/a/../../../etc/secret-inside");
  REQUIRE(dotdot.ok());
  CHECK(dotdot->path == "/etc/secret-inside");
  std::remove(canary.c_str());
}

TEST_CASE("symlink loops are detected", "[rootfs]") {
  FixtureRoot root;
  root.symlink("/loop/a", "b").symlink("/loop/b", "a").symlink("/self", "/self");
  RootFs fs = root.fs();
  auto r = fs.resolve("/loop/a");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().errno_value == ELOOP);
  CHECK_FALSE(fs.read_file("/self").ok());
}

TEST_CASE("dangling links and missing files are errors that say missing", "[rootfs]") {
  FixtureRoot root;
  root.symlink("/usr/bin/python", "python3.99");
  RootFs fs = root.fs();
  auto r = fs.resolve("/usr/bin/python");
  REQUIRE_FALSE(r.ok());
  CHECK(r.missing());
  auto l = fs.lstat("/usr/bin/python");
  REQUIRE(l.ok());
  CHECK(l->type == FileType::symlink);
  CHECK(fs.read_file("/nope").missing());
}

TEST_CASE("FIFOs and devices are refused without blocking", "[rootfs]") {
  FixtureRoot root;
  root.fifo("/etc/services");
  RootFs fs = root.fs();
  const auto start = std::chrono::steady_clock::now();
  auto r = fs.read_file("/etc/services");
  CHECK(std::chrono::steady_clock::now() - start < test::kHangGuard);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("FIFO") != std::string::npos);

  auto host = RootFs::open("/");
  REQUIRE(host.ok());
  auto dev = host->read_file("/dev/zero");
  REQUIRE_FALSE(dev.ok());
  CHECK(dev.error().message.find("character device") != std::string::npos);
}

TEST_CASE("reads are capped", "[rootfs]") {
  FixtureRoot root;
  root.file("/big", std::string(10000, 'x'));
  RootFs fs = root.fs();
  auto r = fs.read_file("/big", 1000);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().errno_value == EFBIG);
  CHECK(fs.read_file("/big", 10000).ok());
  auto head = fs.read_head("/big", 10);
  REQUIRE(head.ok());
  CHECK(head->size() == 10);
}

TEST_CASE("reads byte ranges, short at the end of the file", "[rootfs]") {
  FixtureRoot root;
  root.file("/data", "0123456789");
  RootFs fs = root.fs();
  auto mid = fs.read_range("/data", 3, 4);
  REQUIRE(mid.ok());
  CHECK(*mid == "3456");
  auto tail = fs.read_range("/data", 8, 100);
  REQUIRE(tail.ok());
  CHECK(*tail == "89");
  auto past = fs.read_range("/data", 50, 4);
  REQUIRE(past.ok());
  CHECK(past->empty());
  root.fifo("/fifo");
  CHECK_FALSE(fs.read_range("/fifo", 0, 4).ok());
}

TEST_CASE("a path through a file is not a directory", "[rootfs]") {
  FixtureRoot root;
  root.file("/etc/passwd", "x");
  RootFs fs = root.fs();
  auto r = fs.read_file("/etc/passwd/x");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().errno_value == ENOTDIR);
}

TEST_CASE("lists directories sorted, through links", "[rootfs]") {
  FixtureRoot root;
  root.file("/d/b", "").file("/d/a", "").mkdir("/d/c").symlink("/link", "/d");
  RootFs fs = root.fs();
  auto r = fs.list_dir("/link");
  REQUIRE(r.ok());
  REQUIRE(r->size() == 3);
  CHECK((*r)[0].name == "a");
  CHECK((*r)[2].name == "c");
  CHECK((*r)[2].type == FileType::directory);
  CHECK_FALSE(fs.list_dir("/d/a").ok());
}

TEST_CASE("unreadable files give an error naming the file", "[rootfs]") {
  FixtureRoot root;
  root.file("/secret", "x", 0000);
  ::chmod(root.dir().c_str(), 0755);
  // Permission bits do not stop root, so read as nobody in a child process.
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(3);
    auto fs = RootFs::open(root.dir());
    if (!fs) ::_exit(4);
    auto r = fs->read_file("/secret");
    bool named = !r.ok() && r.error().errno_value == EACCES &&
                 r.error().message.find("/secret") != std::string::npos;
    ::_exit(named ? 0 : 1);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("operations fail once the deadline has passed", "[rootfs]") {
  FixtureRoot root;
  root.file("/x", "x");
  RootFs fs = root.fs();
  fs.set_deadline(std::chrono::steady_clock::now() - std::chrono::milliseconds(1));
  auto r = fs.read_file("/x");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().errno_value == ETIMEDOUT);
}

TEST_CASE("a root that is not a directory is refused", "[rootfs]") {
  CHECK_FALSE(RootFs::open("/nonexistent-root-dir").ok());
  CHECK_FALSE(RootFs::open("/etc/hostname").ok());
}
