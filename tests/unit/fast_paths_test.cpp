// The fast paths must say exactly what the plain ones said: RootFs's cache of
// walked directories and of the links on the way to them (threads, '..',
// loops, the descriptor cap), reads sized from fstat (no read to meet the end),
// directory listings, the memmem search of dpkg lists, the PEM parse memo.
#include <dirent.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cert_factory.h"
#include "checks/facts/dpkg_owner.h"
#include "checks/formats/pem_bundle.h"
#include "tests/unit/fixture_root.h"

using namespace pycheck;
using pycheck::test::FixtureRoot;

namespace {

std::size_t open_descriptors() {
  std::size_t n = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  REQUIRE(dir != nullptr);
  while (struct dirent* e = ::readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(dir);
  return n;
}

// dpkg_list_matches as it was written first: split, trim, compare every line.
std::vector<std::string> reference_matches(std::string_view text,
                                           const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t' || line.front() == '\r'))
      line.remove_prefix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r'))
      line.remove_suffix(1);
    if (line.empty()) continue;
    if (std::find(paths.begin(), paths.end(), line) != paths.end()) out.emplace_back(line);
  }
  return out;
}

}  // namespace

TEST_CASE("cached directories keep '..' clamped and links re-read", "[rootfs][perf]") {
  FixtureRoot root;
  root.file("/a/b/c/file", "deep").file("/etc/secret-inside", "inside");
  root.symlink("/a/b/up", "../../../../etc/secret-inside").symlink("/a/link", "b/c");
  RootFs fs = root.fs();
  REQUIRE(fs.read_file("/a/b/c/file").ok());  // /a, /a/b, /a/b/c are cached now
  auto up = fs.resolve("/a/b/c/../../../../../etc/secret-inside");
  REQUIRE(up.ok());
  CHECK(up->path == "/etc/secret-inside");
  auto via_link = fs.resolve("/a/b/up");
  REQUIRE(via_link.ok());
  CHECK(via_link->path == "/etc/secret-inside");
  REQUIRE(via_link->chain.size() == 1);
  auto through = fs.resolve("/a/link/file");
  REQUIRE(through.ok());
  CHECK(through->path == "/a/b/c/file");
  REQUIRE(through->chain.size() == 1);  // the link is reported on every walk
  CHECK(through->chain[0].link == "/a/link");
  // A cached directory is still one: a path through a file still is not.
  CHECK(fs.read_file("/a/b/c/file/x").error().errno_value == ENOTDIR);
}

TEST_CASE("links on the way to a directory are read once; final links afresh", "[rootfs][perf]") {
  FixtureRoot root;
  root.file("/usr/lib/one/file", "one").file("/usr/lib/two/file", "two");
  root.symlink("/lib", "usr/lib").symlink("/final", "usr/lib/one/file");
  root.symlink("/loop-a", "loop-b/x").symlink("/loop-b", "loop-a/x");
  root.symlink("/escape", "../../../../usr/lib");
  RootFs fs = root.fs();
  for (int walk = 0; walk < 2; ++walk) {  // the second walk takes /lib's target from the cache
    auto text = fs.read_file("/lib/one/file");
    REQUIRE(text.ok());
    CHECK(*text == "one");
    auto r = fs.resolve("/lib/two/../one/file");
    REQUIRE(r.ok());
    CHECK(r->path == "/usr/lib/one/file");
    REQUIRE(r->chain.size() == 1);  // reported on every walk
    CHECK(r->chain[0].link == "/lib");
    CHECK(r->chain[0].target == "usr/lib");
    auto loop = fs.resolve("/loop-a/y");
    REQUIRE_FALSE(loop.ok());
    CHECK(loop.error().errno_value == ELOOP);  // still counted when cached
    auto clamped = fs.resolve("/escape/two/file");
    REQUIRE(clamped.ok());
    CHECK(clamped->path == "/usr/lib/two/file");  // '..' in a cached target still stops at the root
  }
  // The last component is looked at afresh, a link included.
  REQUIRE(fs.resolve("/final")->path == "/usr/lib/one/file");
  root.symlink("/final", "usr/lib/two/file");
  auto again = fs.resolve("/final");
  REQUIRE(again.ok());
  CHECK(again->path == "/usr/lib/two/file");
  CHECK(*fs.read_file("/final") == "two");
}

TEST_CASE("more directories than the cache holds: results right, no descriptor leaked",
          "[rootfs][perf]") {
  FixtureRoot root;
  const std::size_t dirs = RootFs::kMaxCachedDirs + 40;
  for (std::size_t i = 0; i < dirs; ++i)
    root.file("/d" + std::to_string(i) + "/f", std::to_string(i));
  const std::size_t before = open_descriptors();
  {
    RootFs fs = root.fs();
    for (std::size_t i = 0; i < dirs; ++i) {
      auto text = fs.read_file("/d" + std::to_string(i) + "/f");
      REQUIRE(text.ok());
      CHECK(*text == std::to_string(i));
    }
    CHECK(open_descriptors() <= before + 1 + RootFs::kMaxCachedDirs);
    for (std::size_t i = 0; i < dirs; ++i) CHECK(fs.is_regular("/d" + std::to_string(i) + "/f"));
  }
  CHECK(open_descriptors() == before);  // the cache closes what it kept
}

TEST_CASE("one RootFs serves many threads at once", "[rootfs][perf]") {
  FixtureRoot root;
  for (int d = 0; d < 20; ++d) {
    for (int f = 0; f < 5; ++f) {
      root.file("/usr/lib/x" + std::to_string(d) + "/f" + std::to_string(f),
                std::to_string(d * 100 + f));
    }
    root.symlink("/lib" + std::to_string(d), "usr/lib/x" + std::to_string(d));
  }
  RootFs fs = root.fs();
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 20; ++round) {
        for (int d = 0; d < 20; ++d) {
          const int f = (t + round + d) % 5;
          const std::string via =
              (round % 2 ? "/lib" + std::to_string(d) : "/usr/lib/x" + std::to_string(d)) + "/f" +
              std::to_string(f);
          auto text = fs.read_file(via);
          if (!text || *text != std::to_string(d * 100 + f)) ++wrong;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK(wrong == 0);
}

TEST_CASE("reads sized from fstat still read files whose size is unknown", "[rootfs][perf]") {
  auto host = RootFs::open("/");
  REQUIRE(host.ok());
  // /proc files say st_size 0 and hold more.
  auto status = host->read_file("/proc/self/status");
  REQUIRE(status.ok());
  CHECK(status->find("Name:") != std::string::npos);
  auto head = host->read_head("/proc/self/status", 5);
  REQUIRE(head.ok());
  CHECK(*head == "Name:");
  auto capped = host->read_file("/proc/self/status", 10);
  REQUIRE_FALSE(capped.ok());
  CHECK(capped.error().errno_value == EFBIG);
  FixtureRoot root;
  root.file("/big", std::string(200000, 'y'));
  RootFs fs = root.fs();
  auto big = fs.read_file("/big");
  REQUIRE(big.ok());
  CHECK(big->size() == 200000);
  auto range = fs.read_range("/big", 199990, 100);
  REQUIRE(range.ok());
  CHECK(*range == std::string(10, 'y'));
}

TEST_CASE("dpkg list search finds exactly the lines the line-by-line reading found",
          "[dpkg][perf]") {
  const std::vector<std::string> paths{"/usr/bin/python3.11", "/bin/python3.11", "/usr/bin/x",
                                       "/usr/lib/libz.so.1"};
  const std::vector<std::string> texts{
      "",
      "/usr/bin/python3.11",
      "/usr/bin/python3.11\n",
      "/.\n/usr\n/usr/bin\n/usr/bin/python3.11\n/usr/bin/python3.11-config\n",
      "/usr/bin/python3.11-config\n/usr/bin/python3.11\n",
      "  /usr/bin/python3.11 \r\n\t/bin/python3.11\t\n",
      "x/usr/bin/python3.11\n/usr/bin/python3.11x\n/usr/bin/python3.11/y\n",
      "/usr/bin/x\n/usr/bin/x\n/usr/bin/xx\n/usr/bin/x",
      "/usr/lib/libz.so.1.2.13\n/usr/lib/libz.so.1\n/usr/bin/python3.11\n/usr/bin/x\n",
      "\n\n/usr/bin/x\r\n\n",
      "/usr/bin/x /usr/bin/x\n",
  };
  for (const std::string& text : texts) {
    INFO(text);
    CHECK(dpkg_list_matches(text, paths) == reference_matches(text, paths));
  }
  const std::vector<std::string> odd{"", " /usr/bin/x", "/usr/bin/x\n/usr/bin/y"};
  CHECK(dpkg_list_matches("/usr/bin/x\n/usr/bin/y\n \n", odd).empty());
}

TEST_CASE("the parse memo gives the same certificates as parsing each block", "[tls][perf]") {
  test::certs::CertFactory factory;
  const std::string a = factory.make("Alpha Root", "20200101000000Z", "20600101000000Z");
  const std::string b = factory.make("Beta Root", "20100101000000Z", "20200101000000Z");
  const std::string bundle =
      "text\n" + a + b + a + "-----BEGIN CERTIFICATE-----\n!!!!\n" + "-----END CERTIFICATE-----\n";
  DerParseMemo memo;
  const PemBundle plain = parse_pem_bundle(bundle);
  const PemBundle first = parse_pem_bundle(bundle, &memo);
  const PemBundle again = parse_pem_bundle(b + a, &memo);  // every certificate a memo hit
  for (const PemBundle* parsed : {&plain, &first}) {
    REQUIRE(parsed->certificates.size() == 3);
    CHECK(parsed->garbage.size() == 1);
    CHECK(parsed->certificate_blocks == 4);
  }
  for (std::size_t i = 0; i < 3; ++i) {
    const Certificate& x = plain.certificates[i];
    const Certificate& y = first.certificates[i];
    CHECK(x.block == y.block);
    CHECK(x.line == y.line);
    CHECK(x.subject == y.subject);
    CHECK(x.issuer == y.issuer);
    CHECK(x.not_before == y.not_before);
    CHECK(x.not_after == y.not_after);
    CHECK(x.sha256 == y.sha256);
  }
  CHECK(plain.certificates[0].sha256 == plain.certificates[2].sha256);
  REQUIRE(again.certificates.size() == 2);
  CHECK(again.certificates[0].sha256 == plain.certificates[1].sha256);
  CHECK(again.certificates[0].block == 0);
  CHECK(again.certificates[1].line > again.certificates[0].line);
  CHECK(again.certificates[1].sha256 == plain.certificates[0].sha256);
}

TEST_CASE("reads that stop at the size fstat gave return whole files at every boundary",
          "[rootfs][perf]") {
  FixtureRoot root;
  const std::size_t sizes[] = {0, 1, 4095, 4096, 4097, 65535, 65536, 65537, 300000};
  for (std::size_t size : sizes) {
    std::string content(size, '\0');
    for (std::size_t i = 0; i < size; ++i) content[i] = static_cast<char>('a' + i % 26);
    root.file("/f" + std::to_string(size), content);
  }
  RootFs fs = root.fs();
  for (std::size_t size : sizes) {
    INFO("size " << size);
    const std::string path = "/f" + std::to_string(size);
    auto whole = fs.read_file(path);
    REQUIRE(whole.ok());
    CHECK(whole->size() == size);
    if (size > 0) CHECK(whole->back() == static_cast<char>('a' + (size - 1) % 26));
    auto head = fs.read_head(path, 65536);
    REQUIRE(head.ok());
    CHECK(*head == whole->substr(0, 65536));
    auto tail = fs.read_range(path, size / 2, size);
    REQUIRE(tail.ok());
    CHECK(*tail == whole->substr(size / 2));
    if (size > 0) {
      CHECK(fs.read_file(path, size - 1).error().errno_value == EFBIG);
      CHECK(fs.read_file(path, size).ok());
    }
  }
}

TEST_CASE("directory listings: many entries, byte order, types", "[rootfs][perf]") {
  FixtureRoot root;
  // Long names: the listing takes several getdents64 calls.
  std::vector<std::string> names;
  for (int i = 0; i < 1500; ++i) {
    names.push_back(std::string(60, 'n') + std::to_string((i * 7919) % 1500));
    root.file("/many/" + names.back(), "");
  }
  names.push_back("\xc3\xa9t\xc3\xa9");  // bytes above 0x7f sort after ASCII, as in std::string
  root.file("/many/" + names.back(), "");
  names.push_back("B");
  root.mkdir("/many/B");
  names.push_back("a");
  root.symlink("/many/a", "B");
  std::sort(names.begin(), names.end());
  RootFs fs = root.fs();
  auto listed = fs.list_dir("/many");
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == names.size());
  for (std::size_t i = 0; i < names.size(); ++i) CHECK((*listed)[i].name == names[i]);
  CHECK(listed->front().name == "B");
  CHECK(listed->front().type == FileType::directory);
  CHECK((*listed)[1].type == FileType::symlink);
  CHECK((*listed)[2].type == FileType::regular);
  CHECK(listed->back().name == "\xc3\xa9t\xc3\xa9");
  root.mkdir("/empty");
  auto empty = fs.list_dir("/empty");
  REQUIRE(empty.ok());
  CHECK(empty->empty());
}
