// Builds a tiny Debian security archive with real Debian tools (dpkg-deb,
// dpkg-scanpackages, gzip, xz, lz4, zstd, sha256sum) for the
// apt.security-updates tests. The Release file is written by the script with
// sha256sum (apt-ftparchive is not required), then signed with gpg by a key
// made for the archive (keys/: see the script).
#pragma once

#include <catch2/catch.hpp>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>

#include "agent/core/check.h"
#include "agent/http/http_client.h"
#include "checks/check_table.h"
#include "checks/formats/apt_list_files.h"
#include "tests/unit/apt_test_support.h"
#include "tests/unit/check_params.h"
#include "tests/unit/fixture_root.h"
#include "tests/unit/local_server.h"

namespace pycheck::test {

// Packages in the archive (dists/bookworm-security/main/binary-{amd64,i386}):
//   libfoo 1:2.0-1+deb12u1 amd64+i386 (Multi-Arch: same, Source: foo)
//   bar    1.0~rc2-1 all
//   baz    3.0-1 amd64
//   qux    1:9.0-1 amd64
// `valid_until` is the Release's Valid-Until text. keys/archive.gpg|.asc|.fpr
// is the signer, keys/other.gpg|.fpr another key; InRelease.other and
// Release.gpg.other are signed by that other key.
inline void build_security_archive(const std::string& dir, const std::string& valid_until) {
  const std::string script = R"SH(set -e
cd "$1"; ROOT="$1"; VALID="$2"
mk() { # name version arch [source]
  d="src/$1_$3"; mkdir -p "$d/DEBIAN"
  { echo "Package: $1"; echo "Version: $2"; echo "Architecture: $3"
    echo "Maintainer: Test <test@invalid>"; [ -n "$4" ] && echo "Source: $4"
    [ "$1" = libfoo ] && echo "Multi-Arch: same"
    echo "Description: fixture package $1"; } > "$d/DEBIAN/control"
  mkdir -p pool; dpkg-deb --root-owner-group -Zgzip --build "$d" "pool/$1_$2_$3.deb" >/dev/null
}
mk libfoo 1:2.0-1+deb12u1 amd64 foo
mk libfoo 1:2.0-1+deb12u1 i386 foo
mk bar 1.0~rc2-1 all
mk baz 3.0-1 amd64
mk qux 1:9.0-1 amd64
D=debian-security/dists/bookworm-security
for a in amd64 i386; do
  B=$D/main/binary-$a; mkdir -p $B
  dpkg-scanpackages -m -a $a pool /dev/null 2>/dev/null > $B/Packages
  gzip -9nk $B/Packages; xz -k $B/Packages
  h=$(sha256sum $B/Packages.xz | cut -d' ' -f1); mkdir -p $B/by-hash/SHA256; cp $B/Packages.xz $B/by-hash/SHA256/$h
done
cd $D
{ echo "Origin: Debian"; echo "Label: Debian-Security"; echo "Suite: oldstable-security"
  echo "Codename: bookworm-security"; echo "Date: Sat, 01 Nov 2025 10:00:00 UTC"
  echo "Valid-Until: $VALID"; echo "Acquire-By-Hash: yes"
  echo "No-Support-for-Architecture-all: Packages"
  echo "Architectures: amd64 i386"; echo "Components: updates/main"; echo "SHA256:"
  for f in main/binary-*/Packages main/binary-*/Packages.gz main/binary-*/Packages.xz; do
    echo " $(sha256sum $f | cut -d' ' -f1) $(stat -c %s $f) $f"; done; } > Release
# Signed as the archive signs: InRelease (clearsigned) and Release.gpg
# (detached), SHA-256, by a key made here. keys/archive.gpg (binary) and
# keys/archive.asc hold its public key, keys/other.gpg another key's;
# InRelease.other is Release signed by that other key.
sign() { # GNUPGHOME output-suffix
  gpg --homedir "$1" --batch --yes --digest-algo SHA256 --clearsign -o "InRelease$2" Release
  gpg --homedir "$1" --batch --yes --digest-algo SHA256 -a --detach-sign -o "Release.gpg$2" Release
}
K="$ROOT/keys"; mkdir -p "$K/home" "$K/other-home"; chmod 700 "$K/home" "$K/other-home"
gpg --homedir "$K/home" --batch --passphrase '' --quick-gen-key 'pycheck fixture archive <archive@invalid>' rsa2048 sign never 2>/dev/null
gpg --homedir "$K/other-home" --batch --passphrase '' --quick-gen-key 'pycheck fixture other <other@invalid>' ed25519 sign never 2>/dev/null
gpg --homedir "$K/home" --export > "$K/archive.gpg"; gpg --homedir "$K/home" --export -a > "$K/archive.asc"
gpg --homedir "$K/other-home" --export > "$K/other.gpg"
gpg --homedir "$K/home" --list-keys --with-colons | awk -F: '$1 == "fpr" { print $10; exit }' > "$K/archive.fpr"
gpg --homedir "$K/other-home" --list-keys --with-colons | awk -F: '$1 == "fpr" { print $10; exit }' > "$K/other.fpr"
sign "$K/home" ""; sign "$K/other-home" .other
gpgconf --homedir "$K/home" --kill gpg-agent; gpgconf --homedir "$K/other-home" --kill gpg-agent
)SH";
  write_host_file(dir + "/build.sh", script);
  const CommandResult r =
      run_command("sh '" + dir + "/build.sh' '" + dir + "' '" + valid_until + "' 2>&1 && echo OK");
  if (r.output.find("OK\n") == std::string::npos) {
    throw std::runtime_error("building the security archive failed: " + r.output);
  }
}

inline const std::string kSuiteDir = "/debian-security/dists/bookworm-security";

inline const char* kStatus =
    "Package: libfoo\nStatus: install ok installed\nArchitecture: amd64\nMulti-Arch: same\n"
    "Version: 1:2.0-1\nSource: foo\n\n"
    "Package: libfoo\nStatus: install ok installed\nArchitecture: i386\nMulti-Arch: same\n"
    "Version: 1:2.0-1\nSource: foo\n\n"
    "Package: bar\nStatus: install ok installed\nArchitecture: all\nVersion: 1.0~rc1-1\n\n"
    "Package: baz\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.0-1\n\n"
    "Package: qux\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2:1.0-1\n\n"
    "Package: gone\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 0.1\n\n";

inline std::string base_uri(int port) {
  return "http://127.0.0.1:" + std::to_string(port) + "/debian-security";
}

inline constexpr const char* kFixtureKeyring = "/usr/share/keyrings/fixture-archive.gpg";

// A root with the dpkg database, the archive's keyring (archive's
// keys/archive.gpg) and a deb822 source pointing at `uri` that trusts it
// through Signed-By, or through `signed_by` when given ("" for none).
inline void write_system(FixtureRoot& root, const std::string& archive, const std::string& uri,
                         const std::string& signed_by = kFixtureKeyring) {
  root.file("/var/lib/dpkg/status", kStatus).file("/var/lib/dpkg/arch", "amd64\ni386\n");
  root.file(kFixtureKeyring, read_host_file(archive + "/keys/archive.gpg"));
  const std::string trust = signed_by.empty() ? "" : "Signed-By: " + signed_by + "\n";
  root.file("/etc/apt/sources.list.d/debian.sources",
            "Types: deb\nURIs: " + uri + "\nSuites: bookworm-security\nComponents: main\n" + trust +
                "\nTypes: deb\nURIs: " + uri +
                "\nSuites: bookworm-proposed-security\nComponents: main\nEnabled: no\n");
}

// The fingerprint of the archive's key ("archive") or the other one ("other").
inline std::string key_fingerprint(const std::string& archive, const std::string& name) {
  std::string fpr = read_host_file(archive + "/keys/" + name + ".fpr");
  while (!fpr.empty() && fpr.back() == '\n') fpr.pop_back();
  return fpr;
}

// The lists folder's name for the source's `name` ("InRelease", "Release", "Release.gpg").
inline std::string release_list(const std::string& uri, const std::string& name) {
  return "/var/lib/apt/lists/" + release_list_file(uri + "/", "bookworm-security", name);
}

// Copies InRelease and each Packages list (compressed with `tool`, suffix `ext`) into lists.
inline void write_lists(FixtureRoot& root, const std::string& archive, const std::string& uri,
                 const std::string& tool, const std::string& ext) {
  const std::string u = uri + "/";
  root.file("/var/lib/apt/lists/" + release_list_file(u, "bookworm-security", "InRelease"),
            read_host_file(archive + kSuiteDir + "/InRelease"));
  for (std::string arch : {"amd64", "i386"}) {
    const std::string src = archive + kSuiteDir + "/main/binary-" + arch + "/Packages";
    const std::string dst = root.host_path(
        "/var/lib/apt/lists/" + packages_list_file(u, "bookworm-security", "main", arch) + ext);
    const std::string cmd =
        tool.empty() ? "cp '" + src + "' '" + dst + "'" : tool + " < '" + src + "' > '" + dst + "'";
    REQUIRE(run_command(cmd + " && echo OK").output == "OK\n");
  }
}

inline CheckOutcome run_check(const FixtureRoot& root, const json& params = json::object(),
                       const HttpClient* http = nullptr) {
  const CheckInfo* info = find_check("apt.security-updates");
  REQUIRE(info != nullptr);
  RootFs rootfs = root.fs();
  Environment env;
  const json merged = check_params(*info, params);
  Context ctx{rootfs, env, merged, std::chrono::system_clock::now(), http != nullptr, http};
  return info->run(ctx);
}

inline std::set<std::string> pending_set(const CheckOutcome& out) {
  std::set<std::string> s;
  for (const auto& p : out.details["pending"]) {
    s.insert(p["package"].get<std::string>() + ":" + p["architecture"].get<std::string>() + "=" +
             p["candidate"].get<std::string>());
  }
  return s;
}

inline const std::set<std::string> kExpectedPending = {"libfoo:amd64=1:2.0-1+deb12u1",
                                                "libfoo:i386=1:2.0-1+deb12u1", "bar:all=1.0~rc2-1"};

// A file server on 127.0.0.1 serving `dir`; stopped when this goes away.
class FileServer : public LocalServer {
 public:
  explicit FileServer(const std::string& dir)
      : LocalServer(
            {python3(), "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", dir},
            " port ") {}
};

inline const std::string kFuture = "Sat, 01 Nov 2036 10:00:00 UTC";
inline const std::string kPast = "Sat, 01 Nov 2025 17:00:00 UTC";

// A signed archive served on 127.0.0.1 and a root whose source trusts and points at it.
struct OnlineArchive {
  TempDir archive;
  std::optional<FileServer> server;
  HttpClient http;
  FixtureRoot root;
  std::string uri;
  std::string suite;  // the suite's folder on the host

  explicit OnlineArchive(const std::string& valid_until) {
    build_security_archive(archive.path(), valid_until);
    server.emplace(archive.path());
    uri = base_uri(server->port());
    write_system(root, archive.path(), uri);
    suite = archive.path() + kSuiteDir;
  }
  CheckOutcome run(const json& params = json::object()) const {
    return run_check(root, params, &http);
  }
};

}  // namespace pycheck::test
