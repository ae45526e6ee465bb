// Builds a tiny Debian security archive with real Debian tools (dpkg-deb,
// dpkg-scanpackages, gzip, xz, lz4, zstd, sha256sum) for the
// apt.security-updates tests. The Release file is written by the script with
// sha256sum (apt-ftparchive is not required); InRelease wraps it in a
// clearsigned envelope with a FAKE signature block: pycheck does not verify
// signatures, so none is needed.
#pragma once

#include <stdexcept>
#include <string>

#include "tests/unit/apt_test_support.h"

namespace pycheck::test {

// Packages in the archive (dists/bookworm-security/main/binary-{amd64,i386}):
//   libfoo 1:2.0-1+deb12u1 amd64+i386 (Multi-Arch: same, Source: foo)
//   bar    1.0~rc2-1 all
//   baz    3.0-1 amd64
//   qux    1:9.0-1 amd64
// `valid_until` is the Release's Valid-Until text.
inline void build_security_archive(const std::string& dir, const std::string& valid_until) {
  const std::string script = R"SH(set -e
cd "$1"; VALID="$2"
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
{ printf -- '-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n'; cat Release
  printf -- '-----BEGIN PGP SIGNATURE-----\n\nZmFrZQ==\n-----END PGP SIGNATURE-----\n'; } > InRelease
)SH";
  write_host_file(dir + "/build.sh", script);
  const CommandResult r =
      run_command("sh '" + dir + "/build.sh' '" + dir + "' '" + valid_until + "' 2>&1 && echo OK");
  if (r.output.find("OK\n") == std::string::npos) {
    throw std::runtime_error("building the security archive failed: " + r.output);
  }
}

}  // namespace pycheck::test
