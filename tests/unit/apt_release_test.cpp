// Release/InRelease: clearsigned structure (apt's strictness), fields, dates,
// the SHA256 list, index choice; checked on tables and on this machine's real
// InRelease files, whose SHA256 entries must match the real Packages lists.
#include "checks/formats/apt_release.h"

#include <mbedtls/sha256.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <random>

#include "checks/formats/decompress.h"
#include "tests/unit/apt_test_support.h"

using namespace pycheck;
using namespace std::chrono;

namespace {

std::string reference_sha256(std::string_view data) {
  unsigned char digest[32];
  REQUIRE(mbedtls_sha256_ret(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
                             digest, 0) == 0);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char byte : digest) {
    out.push_back(kHex[byte >> 4]);
    out.push_back(kHex[byte & 0xf]);
  }
  return out;
}

std::string hex64(char c) { return std::string(64, c); }

// A clearsigned wrapper around `body` (the signature block is not a real one:
// nothing here verifies signatures).
std::string clearsign(const std::string& body) {
  return "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n" + body +
         "-----BEGIN PGP SIGNATURE-----\n\niQIzBAEBCAAdFiEE\n=W3vv\n-----END PGP SIGNATURE-----\n";
}

const std::string kSecurityBody =
    "Origin: Debian\n"
    "Label: Debian-Security\n"
    "Suite: oldstable-security\n"
    "Version: 12\n"
    "Codename: bookworm-security\n"
    "Date: Wed, 25 Nov 2026 22:33:12 UTC\n"
    "Valid-Until: Wed, 02 Dec 2026 22:33:12 UTC\n"
    "Acquire-By-Hash: yes\n"
    "Architectures: amd64 arm64 armhf i386 ppc64el\n"
    "Components: updates/main updates/contrib updates/non-free-firmware updates/non-free\n"
    "Description: Debian 12 - Security Updates\n"
    "MD5Sum:\n"
    " 0ed6d4c8891eb86358b94bb35d9e4da4  1484322 main/binary-amd64/Packages\n"
    "SHA256:\n"
    " " +
    hex64('a') +
    "  2539062 main/binary-amd64/Packages\n"
    " " +
    hex64('B') +
    "   380972 main/binary-amd64/Packages.xz\n"
    " " +
    hex64('c') +
    "      144 main/binary-amd64/Release\n"
    " " +
    hex64('d') +
    "       32 contrib/binary-amd64/Packages.gz\n"
    " " +
    hex64('e') + "        0 non-free/binary-amd64/Packages\n";

}  // namespace

TEST_CASE("release: an InRelease's fields", "[apt][release]") {
  auto release = parse_apt_release(clearsign(kSecurityBody));
  REQUIRE(release.ok());
  CHECK(release->problems.empty());
  CHECK(release->signed_message);
  CHECK(release->origin == "Debian");
  CHECK(release->label == "Debian-Security");
  CHECK(release->suite == "oldstable-security");
  CHECK(release->codename == "bookworm-security");
  CHECK(release->version == "12");
  CHECK(release->date_text == "Wed, 25 Nov 2026 22:33:12 UTC");
  REQUIRE(release->date.has_value());
  CHECK(*release->date == sys_days{2026y / November / 25} + 22h + 33min + 12s);
  REQUIRE(release->valid_until.has_value());
  CHECK(*release->valid_until - *release->date == days{7});
  CHECK(release->acquire_by_hash);
  CHECK(release->architectures ==
        std::vector<std::string>{"amd64", "arm64", "armhf", "i386", "ppc64el"});
  CHECK(release->components ==
        std::vector<std::string>{"main", "contrib", "non-free-firmware", "non-free"});
  CHECK(release->no_support_for_architecture_all.empty());
  REQUIRE(release->sha256.size() == 5);
  CHECK(release->sha256[1].sha256 == hex64('b'));  // normalised to lower case
  CHECK(release->sha256[1].size == 380972);
  CHECK(release->sha256[1].path == "main/binary-amd64/Packages.xz");
  CHECK(release->find_file("main/binary-amd64/Release")->size == 144);
  CHECK(release->find_file("main/binary-amd64/Packages.gz") == nullptr);
  CHECK(is_security_suite(*release));

  // The same body as a plain Release file.
  auto plain = parse_apt_release(kSecurityBody);
  REQUIRE(plain.ok());
  CHECK_FALSE(plain->signed_message);
  CHECK(plain->codename == "bookworm-security");
  CHECK(plain->sha256.size() == 5);
}

TEST_CASE("release: picking the Packages index and its by-hash path", "[apt][release]") {
  auto release = parse_apt_release(kSecurityBody);
  REQUIRE(release.ok());
  auto main = pick_packages_index(*release, "main", "amd64");
  REQUIRE(main.ok());
  CHECK(main->path == "main/binary-amd64/Packages.xz");
  CHECK(main->fetch_path == "main/binary-amd64/by-hash/SHA256/" + hex64('b'));
  CHECK(main->sha256 == hex64('b'));
  CHECK(main->size == 380972);
  CHECK(main->compression == Compression::xz);
  auto contrib = pick_packages_index(*release, "contrib", "amd64");
  REQUIRE(contrib.ok());
  CHECK(contrib->compression == Compression::gzip);
  auto non_free = pick_packages_index(*release, "non-free", "amd64");
  REQUIRE(non_free.ok());
  CHECK(non_free->path == "non-free/binary-amd64/Packages");
  CHECK(non_free->compression == Compression::none);
  auto missing = pick_packages_index(*release, "main", "riscv64");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.missing());
  CHECK(missing.error().message.find("main/binary-riscv64/Packages") != std::string::npos);

  release->acquire_by_hash = false;
  CHECK(pick_packages_index(*release, "main", "amd64")->fetch_path ==
        "main/binary-amd64/Packages.xz");
}

TEST_CASE("release: clearsigned bodies, dash-escapes and CRLF", "[apt][release]") {
  const std::string text =
      "-----BEGIN PGP SIGNED MESSAGE-----\r\n"
      "Hash: SHA256\r\n"
      "Hash: SHA512\r\n"
      "\r\n"
      "Origin: X\r\n"
      "- -Dashed: escaped\r\n"
      "- Suite: also escaped\r\n"
      "-----BEGIN PGP SIGNATURE-----\r\n"
      "\r\n"
      "abc\r\n"
      "-----END PGP SIGNATURE-----\r\n"
      "-----BEGIN PGP SIGNATURE-----\r\n"  // a second signature block is allowed
      "def\r\n"
      "-----END PGP SIGNATURE-----\r\n"
      "\r\n";
  CHECK(is_clearsigned(text));
  auto body = clearsigned_body(text);
  REQUIRE(body.ok());
  CHECK(*body == "Origin: X\n-Dashed: escaped\nSuite: also escaped\n");
  auto release = parse_apt_release(text);
  REQUIRE(release.ok());
  CHECK(release->suite == "also escaped");
}

TEST_CASE("release: broken clearsigned files are errors, as apt has them", "[apt][release]") {
  const std::string begin = "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n";
  const std::string signature = "-----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP SIGNATURE-----\n";
  struct Case {
    std::string text;
    const char* message;
  };
  const Case cases[] = {
      {"\n" + begin + "Origin: X\n" + signature, "does not start with"},
      {"Origin: X\n" + begin + "Suite: Y\n" + signature, "does not start with"},
      {"Origin: X\n-----BEGIN PGP SIGNATURE-----\n", "does not start with"},
      {"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n", "truncated in the armor headers"},
      {"-----BEGIN PGP SIGNED MESSAGE-----\n-Hash: SHA256\n\nOrigin: X\n" + signature,
       "armor headers"},
      {begin + "Origin: X\n", "no signature block"},
      {begin + "Origin: X\n-Label: Y\n" + signature, "dash in the message (line 5)"},
      {begin + "Origin: X\n-----BEGIN PGP SIGNATURE-----\nabc\n", "not closed"},
      {begin + "Origin: X\n-----BEGIN PGP SIGNATURE-----\n-bad\n-----END PGP SIGNATURE-----\n",
       "dash in the signature"},
      {begin + "Origin: X\n" + signature + "Suite: injected\n",
       "unsigned lines after the signature"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    auto release = parse_apt_release(c.text);
    REQUIRE_FALSE(release.ok());
    CHECK(release.error().message.find(c.message) != std::string::npos);
  }
  CHECK_FALSE(clearsigned_body("Origin: X\n").ok());
  CHECK_FALSE(parse_apt_release("").ok());
  CHECK_FALSE(parse_apt_release("\n\n").ok());
  CHECK_FALSE(parse_apt_release(clearsign("")).ok());
}

TEST_CASE("release: dates as apt reads them", "[apt][release]") {
  const auto when = sys_days{2026y / November / 28} + 10h;
  for (const char* good : {"Sat, 28 Nov 2026 10:00:00 UTC", "Sat, 28 Nov 2026 10:00:00 GMT",
                           "sat, 28 nov 2026 10:00:00 Z", "Sat, 28 Nov 2026 10:00:00 +0000",
                           "Mon, 28 Nov 2026 10:00:00 UTC" /* weekday not cross-checked */,
                           "  Sat,  28 Nov 2026 10:00:00 UTC "}) {
    INFO(good);
    auto date = parse_release_date(good);
    REQUIRE(date.ok());
    CHECK(*date == when);
  }
  CHECK(*parse_release_date("Thu, 1 Jan 1970 00:00:00 UTC") == sys_seconds{});
  CHECK(*parse_release_date("Thu, 29 Feb 2024 23:59:59 UTC") ==
        sys_days{2024y / 2 / 29} + 23h + 59min + 59s);
  for (const char* bad : {"", "28 Nov 2026 10:00:00 UTC", "Sat, 28 Nov 2026 10:00:00 CET",
                          "Sat, 28 Nov 2026 10:00:00 +0100", "Sat, 31 Nov 2026 10:00:00 UTC",
                          "Sat, 28 Foo 2026 10:00:00 UTC", "Sat, 28 Nov 26 10:00:00 UTC",
                          "Sat, 28 Nov 2026 24:00:00 UTC", "Sat, 28 Nov 2026 10:00 UTC",
                          "Sat, 28 Nov 2026 10:00:00", "Sat 28 Nov 2026 10:00:00 UTC",
                          "Sat, 28 Nov 2026 10:00:00 UTC extra", "Sat, -1 Nov 2026 10:00:00 UTC"}) {
    INFO(bad);
    CHECK_FALSE(parse_release_date(bad).ok());
  }
}

TEST_CASE("release: bad field values are problems, not errors", "[apt][release]") {
  const std::string text =
      "Origin: X\n"
      "Date: yesterday\n"
      "Acquire-By-Hash: maybe\n"
      "SHA256:\n"
      " " +
      hex64('a') +
      " 10 main/binary-amd64/Packages\n"
      " nothex 10 main/binary-amd64/Packages.gz\n"
      " " +
      hex64('a') +
      " -5 main/binary-amd64/Packages.xz\n"
      " " +
      hex64('a') +
      " 10\n"
      " " +
      hex64('a') +
      " 99999999999999999999 big\n"
      "\n"
      "Extra: stanza\n";
  auto release = parse_apt_release(text);
  REQUIRE(release.ok());
  CHECK(release->origin == "X");
  CHECK_FALSE(release->date.has_value());
  CHECK(release->date_text == "yesterday");
  CHECK_FALSE(release->acquire_by_hash);
  CHECK(release->sha256.size() == 1);
  REQUIRE(release->problems.size() == 2 + 4 + 1);
  CHECK(release->problems[0].line == 2);  // Date
  CHECK(release->problems[2].line == 6);  // first bad SHA256 line
  CHECK(release->problems.back().message.find("text after the Release stanza") !=
        std::string::npos);
}

TEST_CASE("release: which repositories are security repositories", "[apt][release]") {
  struct Case {
    const char* label;
    const char* suite;
    const char* codename;
    bool security;
  };
  const Case cases[] = {
      {"Debian-Security", "oldstable-security", "bookworm-security", true},
      {"Debian-Security", "stable", "jessie", true},  // old "<codename>/updates" layout
      {"Ubuntu", "jammy-security", "jammy", true},
      {"Custom", "stable", "bookworm-security", true},
      {"Debian", "oldstable", "bookworm", false},
      {"Debian", "oldstable-updates", "bookworm-updates", false},
      {"Ubuntu", "jammy-updates", "jammy", false},
      {"Debian-security", "stable", "bookworm", false},  // case matters, as in unattended-upgrades
  };
  for (const Case& c : cases) {
    INFO(c.label << " " << c.suite << " " << c.codename);
    AptRelease release;
    release.label = c.label;
    release.suite = c.suite;
    release.codename = c.codename;
    CHECK(is_security_suite(release) == c.security);
  }
}

TEST_CASE("release: random garbage never crashes", "[apt][release]") {
  std::mt19937 random(3);
  const std::string pieces[] = {"-----BEGIN PGP SIGNED MESSAGE-----\n",
                                "Hash: SHA256\n",
                                "\n",
                                "- ",
                                "-----BEGIN PGP SIGNATURE-----\n",
                                "-----END PGP SIGNATURE-----\n",
                                "SHA256:\n",
                                " " + hex64('f') + " 1 a\n",
                                "Date: x\n",
                                "Suite: s\n",
                                "\r"};
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    const int count = static_cast<int>(random() % 12);
    for (int i = 0; i < count; ++i) text += pieces[random() % std::size(pieces)];
    auto release = parse_apt_release(text);  // Error or values, never a crash
    if (release.ok()) CHECK(release->sha256.size() <= 12);
  }
}

TEST_CASE("release: this machine's InRelease files, checked against its Packages lists",
          "[apt][release]") {
  const auto in_releases =
      pycheck::test::host_files_containing(pycheck::test::kAptListsDir, "_InRelease");
  INFO("needs apt lists: run apt-get update before the tests");
  REQUIRE_FALSE(in_releases.empty());
  bool saw_security = false;
  std::size_t verified_indexes = 0;
  for (const std::string& path : in_releases) {
    INFO(path);
    auto release = parse_apt_release(pycheck::test::read_host_file(path));
    REQUIRE(release.ok());
    CHECK(release->problems.empty());
    CHECK(release->signed_message);
    CHECK_FALSE(release->origin.empty());
    CHECK_FALSE(release->suite.empty());
    CHECK_FALSE(release->codename.empty());
    CHECK(release->date.has_value());
    CHECK_FALSE(release->sha256.empty());
    for (const std::string& component : release->components) {
      CHECK(component.find('/') == std::string::npos);
    }
    const bool security_file = path.find("-security_") != std::string::npos;
    CHECK(is_security_suite(*release) == security_file);
    if (security_file) {
      saw_security = true;
      REQUIRE(release->valid_until.has_value());
      CHECK(*release->valid_until > *release->date);
    }

    // Each Packages list apt stored for this release must be the file whose
    // uncompressed SHA256 and size the release lists.
    const std::string prefix = path.substr(0, path.size() - std::string("InRelease").size());
    for (const std::string& list :
         pycheck::test::host_files_containing(pycheck::test::kAptListsDir, "_Packages")) {
      if (list.rfind(prefix, 0) != 0) continue;
      const std::string rest = list.substr(prefix.size());  // main_binary-amd64_Packages.lz4
      const std::size_t binary = rest.find("_binary-");
      const std::size_t packages = rest.find("_Packages");
      REQUIRE(binary != std::string::npos);
      REQUIRE(packages != std::string::npos);
      const std::string component = rest.substr(0, binary);
      const std::string architecture = rest.substr(binary + 8, packages - binary - 8);
      INFO(list);
      const std::string raw = pycheck::test::read_host_file(list);
      auto content = decompress(raw, compression_from_file_name(list), 512u << 20);
      REQUIRE(content.ok());
      const ReleaseFile* listed =
          release->find_file(component + "/binary-" + architecture + "/Packages");
      REQUIRE(listed != nullptr);
      CHECK(listed->size == content->size());
      CHECK(listed->sha256 == reference_sha256(*content));
      auto choice = pick_packages_index(*release, component, architecture);
      REQUIRE(choice.ok());
      CHECK(choice->compression != Compression::none);  // Debian serves .xz (and .gz)
      if (release->acquire_by_hash) {
        CHECK(choice->fetch_path ==
              component + "/binary-" + architecture + "/by-hash/SHA256/" + choice->sha256);
      }
      ++verified_indexes;
    }
  }
  CHECK(saw_security);
  CHECK(verified_indexes > 0);
}
