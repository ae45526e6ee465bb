// apt source lists: one-line and deb822 formats, table-driven, plus the
// official images' files (host names replaced by example hosts) and this
// machine's real files.
#include "checks/formats/apt_sources.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <random>

#include "agent/core/text.h"
#include "tests/unit/apt_test_support.h"

using namespace pycheck;

using Strings = std::vector<std::string>;

TEST_CASE("sources.list: one-line entries", "[apt][sources]") {
  struct Case {
    const char* line;
    AptSourceType type;
    const char* uri;
    const char* suite;
    Strings components;
    Strings architectures;
    Strings signed_by;
  };
  const Case cases[] = {
      {"deb http://mirror.example/debian bookworm main",
       AptSourceType::deb,
       "http://mirror.example/debian/",
       "bookworm",
       {"main"},
       {},
       {}},
      {"deb-src http://mirror.example/debian/ bookworm main contrib non-free-firmware",
       AptSourceType::deb_src,
       "http://mirror.example/debian/",
       "bookworm",
       {"main", "contrib", "non-free-firmware"},
       {},
       {}},
      {"  deb\thttp://mirror.example/debian-security  bookworm-security\tmain  # trailing comment",
       AptSourceType::deb,
       "http://mirror.example/debian-security/",
       "bookworm-security",
       {"main"},
       {},
       {}},
      {"deb [arch=amd64,i386 signed-by=/usr/share/keyrings/a.gpg] https://repo.example/apt stable "
       "main",
       AptSourceType::deb,
       "https://repo.example/apt/",
       "stable",
       {"main"},
       {"amd64", "i386"},
       {"/usr/share/keyrings/a.gpg"}},
      {"deb [ arch=arm64 ] http://mirror.example/ubuntu-ports noble-security main universe",
       AptSourceType::deb,
       "http://mirror.example/ubuntu-ports/",
       "noble-security",
       {"main", "universe"},
       {"arm64"},
       {}},
      {"deb [signed-by=/etc/apt/keyrings/k#1.gpg] http://repo.example/x y main",  // '#' in []
       AptSourceType::deb,
       "http://repo.example/x/",
       "y",
       {"main"},
       {},
       {"/etc/apt/keyrings/k#1.gpg"}},
      {"deb http://repo.example/flat ./",
       AptSourceType::deb,
       "http://repo.example/flat/",
       "./",
       {},
       {},
       {}},
      {"deb \"http://repo.example/with space\" bookworm main",
       AptSourceType::deb,
       "http://repo.example/with space/",
       "bookworm",
       {"main"},
       {},
       {}},
      {"deb http://repo.example/a%20b bookworm main",
       AptSourceType::deb,
       "http://repo.example/a b/",
       "bookworm",
       {"main"},
       {},
       {}},
      {"deb file:/srv/repo stable/", AptSourceType::deb, "file:/srv/repo/", "stable/", {}, {}, {}},
  };
  for (const Case& c : cases) {
    INFO(c.line);
    AptSources sources = parse_sources_list(std::string(c.line) + "\n", "/etc/apt/sources.list");
    CHECK(sources.problems.empty());
    REQUIRE(sources.entries.size() == 1);
    const AptSourceEntry& e = sources.entries[0];
    CHECK(e.type == c.type);
    CHECK(e.uri == c.uri);
    CHECK(e.suite == c.suite);
    CHECK(e.components == c.components);
    CHECK(e.architectures == c.architectures);
    CHECK(e.signed_by == c.signed_by);
    CHECK(e.flat() == c.components.empty());
    CHECK(e.enabled);
    CHECK(e.origin == "/etc/apt/sources.list");
    CHECK(e.line == 1);
  }
}

TEST_CASE("sources.list: options, comments and line numbers", "[apt][sources]") {
  const std::string text =
      "# comment line\n"
      "\n"
      "deb [trusted=yes arch+=riscv64 by-hash=force] http://repo.example/a stable main\n"
      "#deb http://repo.example/disabled stable main\n"
      "deb [arch=amd64] http://repo.example/b stable main\r\n";
  AptSources sources = parse_sources_list(text, "f.list");
  CHECK(sources.problems.empty());
  REQUIRE(sources.entries.size() == 2);
  CHECK(sources.entries[0].line == 3);
  CHECK(sources.entries[0].trusted == true);
  CHECK(sources.entries[0].options.at("arch+") == "riscv64");
  CHECK(sources.entries[0].options.at("by-hash") == "force");
  CHECK(sources.entries[0].architectures.empty());
  CHECK(sources.entries[1].line == 5);
  CHECK(sources.entries[1].architectures == Strings{"amd64"});
  CHECK(sources.entries[1].uri == "http://repo.example/b/");
  CHECK_FALSE(sources.entries[1].trusted.has_value());
}

TEST_CASE("sources.list: lines apt refuses are problems, the rest is kept", "[apt][sources]") {
  struct Case {
    const char* line;
    const char* message;
  };
  const Case cases[] = {
      {"deb", "(type)"},
      {"rpm http://repo.example/x y main", "type 'rpm' is not known"},
      {"deb http://repo.example/x", "(Suite)"},
      {"deb http://repo.example/x bookworm", "(Component)"},
      {"deb http://repo.example/x ./ main", "absolute Suite Component"},
      {"deb repo.example/x bookworm main", "URI parse"},
      {"deb [arch=amd64 http://repo.example/x bookworm main", "[option] not assignment"},
      {"deb [arch=amd64", "[option] unparsable"},
      {"deb [arch=amd64]http://repo.example/x y main", "[option] too short"},  // as apt: "y"
      {"deb [a] http://repo.example/x y main", "[option] too short"},
      {"deb [arch=] http://repo.example/x y main", "[option] no value"},
      {"deb [=amd64] http://repo.example/x y main", "[option] no key"},
      {"deb \"http://repo.example/x y main", "(URI)"},
  };
  for (const Case& c : cases) {
    INFO(c.line);
    const std::string text =
        std::string("deb http://repo.example/ok stable main\n") + c.line + "\n";
    AptSources sources = parse_sources_list(text, "bad.list");
    REQUIRE(sources.entries.size() == 1);  // the good line survives
    REQUIRE(sources.problems.size() == 1);
    CHECK(sources.problems[0].line == 2);
    CHECK(sources.problems[0].origin == "bad.list");
    CHECK(sources.problems[0].message.find(c.message) != std::string::npos);
  }
  AptSources odd =
      parse_sources_list("deb [trusted=perhaps] http://r.example/x y main\n", "t.list");
  REQUIRE(odd.entries.size() == 1);
  CHECK_FALSE(odd.entries[0].trusted.has_value());
  CHECK(odd.problems.size() == 1);
}

// The official Debian image's /etc/apt/sources.list.d/debian.sources as
// debuerreotype writes it (bookworm+), with the Debian CDN and snapshot host
// names replaced by example hosts.
constexpr const char* kDebianSources =
    "Types: deb\n"
    "# http://snapshot.example/archive/debian/20250520T000000Z\n"
    "URIs: http://mirror.example/debian\n"
    "Suites: bookworm bookworm-updates\n"
    "Components: main\n"
    "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
    "\n"
    "Types: deb\n"
    "# http://snapshot.example/archive/debian-security/20250520T000000Z\n"
    "URIs: http://mirror.example/debian-security\n"
    "Suites: bookworm-security\n"
    "Components: main\n"
    "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n";

// Ubuntu noble's /etc/apt/sources.list.d/ubuntu.sources (archive and
// security hosts replaced by example hosts).
constexpr const char* kUbuntuSources =
    "## Note, this file is written by cloud-init on first boot of an instance\n"
    "## See http://help.example/community/UpgradeNotes for how to upgrade to\n"
    "## newer versions of the distribution.\n"
    "Types: deb\n"
    "URIs: http://archive.example/ubuntu/\n"
    "Suites: noble noble-updates noble-backports\n"
    "Components: main universe restricted multiverse\n"
    "Signed-By: /usr/share/keyrings/ubuntu-archive-keyring.gpg\n"
    "\n"
    "## Ubuntu security updates. Aside from URIs and Suites,\n"
    "## this should mirror your choices in the previous section.\n"
    "Types: deb\n"
    "URIs: http://security.example/ubuntu/\n"
    "Suites: noble-security\n"
    "Components: main universe restricted multiverse\n"
    "Signed-By: /usr/share/keyrings/ubuntu-archive-keyring.gpg\n";

TEST_CASE("deb822 sources: the official Debian and Ubuntu files", "[apt][sources]") {
  AptSources debian =
      parse_deb822_sources(kDebianSources, "/etc/apt/sources.list.d/debian.sources");
  CHECK(debian.problems.empty());
  REQUIRE(debian.entries.size() == 3);
  CHECK(debian.entries[0].uri == "http://mirror.example/debian/");
  CHECK(debian.entries[0].suite == "bookworm");
  CHECK(debian.entries[1].suite == "bookworm-updates");
  CHECK(debian.entries[2].uri == "http://mirror.example/debian-security/");
  CHECK(debian.entries[2].suite == "bookworm-security");
  CHECK(debian.entries[2].line == 8);
  for (const AptSourceEntry& e : debian.entries) {
    CHECK(e.type == AptSourceType::deb);
    CHECK(e.components == Strings{"main"});
    CHECK(e.signed_by == Strings{"/usr/share/keyrings/debian-archive-keyring.gpg"});
    CHECK(e.enabled);
  }

  AptSources ubuntu =
      parse_deb822_sources(kUbuntuSources, "/etc/apt/sources.list.d/ubuntu.sources");
  CHECK(ubuntu.problems.empty());
  REQUIRE(ubuntu.entries.size() == 4);
  CHECK(ubuntu.entries[2].suite == "noble-backports");
  CHECK(ubuntu.entries[3].uri == "http://security.example/ubuntu/");
  CHECK(ubuntu.entries[3].suite == "noble-security");
  CHECK(ubuntu.entries[3].components == Strings{"main", "universe", "restricted", "multiverse"});
}

TEST_CASE("deb822 sources: expansion, Enabled, options, inline keys", "[apt][sources]") {
  const std::string text =
      "Types: deb deb-src\n"
      "URIs: http://a.example/debian\n"
      " http://b.example/debian\n"
      "Suites: stable testing\n"
      "Components: main\n"
      "Architectures: amd64 arm64\n"
      "Trusted: no\n"
      "\n"
      "Types: deb\n"
      "URIs: http://c.example/repo\n"
      "Suites: ./\n"
      "Enabled: no\n"
      "Signed-By:\n"
      " -----BEGIN PGP PUBLIC KEY BLOCK-----\n"
      " .\n"
      " mDMEZxyzABCD\n"
      " =abcd\n"
      " -----END PGP PUBLIC KEY BLOCK-----\n"
      "\n"
      "types: deb\n"
      "uris: http://d.example/x\n"
      "suites: s\n"
      "components: c\n"
      "signed-by: /k/one.gpg, /k/two.pgp\n";
  AptSources sources = parse_deb822_sources(text, "x.sources");
  CHECK(sources.problems.empty());
  REQUIRE(sources.entries.size() == 2 * 2 * 2 + 1 + 1);
  // Order: type, then URI, then suite.
  CHECK(sources.entries[0].type == AptSourceType::deb);
  CHECK(sources.entries[0].uri == "http://a.example/debian/");
  CHECK(sources.entries[0].suite == "stable");
  CHECK(sources.entries[1].suite == "testing");
  CHECK(sources.entries[2].uri == "http://b.example/debian/");
  CHECK(sources.entries[4].type == AptSourceType::deb_src);
  CHECK(sources.entries[0].architectures == Strings{"amd64", "arm64"});
  CHECK(sources.entries[0].options.at("arch") == "amd64,arm64");
  CHECK(sources.entries[0].trusted == false);
  CHECK(sources.entries[0].line == 1);

  const AptSourceEntry& flat = sources.entries[8];
  CHECK(flat.flat());
  CHECK(flat.components.empty());
  CHECK_FALSE(flat.enabled);
  CHECK(flat.signed_by.empty());
  CHECK(flat.signed_by_key ==
        "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZxyzABCD\n=abcd\n"
        "-----END PGP PUBLIC KEY BLOCK-----");
  CHECK(flat.line == 9);

  CHECK(sources.entries[9].signed_by == Strings{"/k/one.gpg", "/k/two.pgp"});  // lower-case names
}

TEST_CASE("deb822 sources: stanzas apt refuses are problems", "[apt][sources]") {
  struct Case {
    const char* stanza;
    const char* message;
  };
  const Case cases[] = {
      {"URIs: http://r.example/x\nSuites: s\nComponents: c\n", "no Types field"},
      {"Types: deb rpm\nURIs: http://r.example/x\nSuites: s\nComponents: c\n",
       "type 'rpm' is not known"},
      {"Types: deb\nSuites: s\nComponents: c\n", "(URI)"},
      {"Types: deb\nURIs: http://r.example/x\nComponents: c\n", "(Suite)"},
      {"Types: deb\nURIs: http://r.example/x\nSuites: s\n", "(Component)"},
      {"Types: deb\nURIs: http://r.example/x\nSuites: ./\nComponents: c\n",
       "absolute Suite Component"},
      {"Types: deb\nURIs: r.example/x\nSuites: s\nComponents: c\n", "URI parse"},
      {"Types: deb\nURIs: http://r.example/x\nSuites: s\nComponents: c\nbroken line\n",
       "not a 'Field: value' line"},
  };
  for (const Case& c : cases) {
    INFO(c.stanza);
    const std::string text =
        std::string("Types: deb\nURIs: http://ok.example/\nSuites: s\nComponents: c\n\n") +
        c.stanza;
    AptSources sources = parse_deb822_sources(text, "bad.sources");
    REQUIRE_FALSE(sources.problems.empty());
    CHECK(sources.problems[0].message.find(c.message) != std::string::npos);
    CHECK(sources.problems[0].origin == "bad.sources");
    CHECK(sources.problems[0].line >= 6);
    CHECK_FALSE(sources.entries.empty());
    CHECK(sources.entries[0].uri == "http://ok.example/");
  }
  AptSources odd = parse_deb822_sources(
      "Types: deb\nURIs: http://r.example/\nSuites: s\nComponents: c\nEnabled: perhaps\n",
      "e.sources");
  REQUIRE(odd.entries.size() == 1);
  CHECK(odd.entries[0].enabled);  // apt only disables on a recognised "no"
  CHECK(odd.problems.size() == 1);
}

TEST_CASE("sources: the file name picks the format", "[apt][sources]") {
  CHECK(parse_apt_sources_file(kDebianSources, "/etc/apt/sources.list.d/debian.sources")
            .entries.size() == 3);
  CHECK(parse_apt_sources_file("deb http://r.example/ s c\n", "/etc/apt/sources.list")
            .entries.size() == 1);
  // A deb822 file under a .list name is garbage to the one-line parser, as to apt.
  AptSources wrong = parse_apt_sources_file(kDebianSources, "/etc/apt/sources.list.d/debian.list");
  CHECK(wrong.entries.empty());
  CHECK_FALSE(wrong.problems.empty());
}

TEST_CASE("sources: this machine's real source files parse without problems", "[apt][sources]") {
  std::vector<std::string> files;
  if (std::filesystem::exists("/etc/apt/sources.list")) files.push_back("/etc/apt/sources.list");
  for (const std::string& path :
       pycheck::test::host_files_containing("/etc/apt/sources.list.d", ".")) {
    if (path.ends_with(".list") || path.ends_with(".sources")) files.push_back(path);
  }
  REQUIRE_FALSE(files.empty());
  std::size_t entries = 0;
  for (const std::string& path : files) {
    INFO(path);
    AptSources sources = parse_apt_sources_file(pycheck::test::read_host_file(path), path);
    for (const AptSourcesProblem& p : sources.problems) FAIL_CHECK(p.line << ": " << p.message);
    for (const AptSourceEntry& e : sources.entries) {
      CHECK(e.uri.find("://") != std::string::npos);
      CHECK(e.uri.back() == '/');
      CHECK_FALSE(e.suite.empty());
      CHECK((e.flat() || !e.components.empty()));
    }
    entries += sources.entries.size();
  }
  CHECK(entries > 0);
}

TEST_CASE("sources: random garbage never crashes", "[apt][sources]") {
  std::mt19937 random(11);
  const std::string pieces[] = {
      "deb",         "deb-src", " ",  "\t",     "[",     "]",       "=",
      "arch",        "\"",      "%",  "%4",     "%41",   "#",       "http://h.example/",
      "./",          "main",    "\n", "Types:", "URIs:", "Suites:", "Components:",
      "Enabled: no", "\n ",     ","};
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    const int count = static_cast<int>(random() % 24);
    for (int i = 0; i < count; ++i) text += pieces[random() % std::size(pieces)];
    for (const AptSources& sources :
         {parse_sources_list(text, "f.list"), parse_deb822_sources(text, "f.sources")}) {
      for (const AptSourceEntry& e : sources.entries) {
        CHECK(e.uri.back() == '/');
        CHECK_FALSE(e.suite.empty());
      }
    }
  }
}

TEST_CASE("Signed-By values as apt reads them", "[apt][sources]") {
  const std::string fpr = "A7236886F3CCCAAD148A27F80E98404D386FA1D9";
  auto ok = parse_signed_by("/usr/share/keyrings/a.gpg, " + lowercase(fpr) + "! /k/b.pgp " + fpr);
  REQUIRE(ok);
  CHECK(ok->keyrings == std::vector<std::string>{"/usr/share/keyrings/a.gpg", "/k/b.pgp"});
  CHECK(ok->fingerprints == std::vector<std::string>{fpr + "!", fpr});
  CHECK(ok->inline_key.empty());
  auto key = parse_signed_by("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZ\n-----END PGP PUBLIC KEY BLOCK-----");
  REQUIRE(key);
  CHECK(key->inline_key.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----"));
  for (const char* bad : {"debian-archive-keyring.gpg", "A7236886F3CCCAAD", "", " , ",
                          "A7236886F3CCCAAD148A27F80E98404D386FA1DZ", "./relative.gpg"}) {
    INFO(bad);
    auto refused = parse_signed_by(bad);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().errno_value == EINVAL);
  }
}
