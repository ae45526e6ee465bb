// Debian versions: parse (strict and lenient) and compare. The input holds up
// to three versions separated by NUL (else it is cut in halves); comparison
// must be reflexive, antisymmetric and transitive, and a parsed version's
// canonical text must parse back to an equal version.
#include "checks/formats/debian_version.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

int sign(int v) { return (v > 0) - (v < 0); }

void round_trip(const pycheck::DebianVersion& v, pycheck::VersionSyntax syntax) {
  auto again = pycheck::parse_debian_version(v.to_string(), syntax);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->epoch == v.epoch && again->upstream == v.upstream &&
             again->revision == v.revision);
  FUZZ_CHECK(pycheck::compare_debian_versions(*again, v) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::as_view(data, size);
  std::vector<std::string_view> parts = fuzz::split_nul(in, 3);
  if (parts.size() == 1) {
    auto [a, b] = fuzz::split_two(in);
    parts = {a, b};
  }

  std::vector<pycheck::DebianVersion> parsed;
  for (std::string_view text : parts) {
    auto strict = pycheck::parse_debian_version(text, pycheck::VersionSyntax::strict);
    auto lenient = pycheck::parse_debian_version(text, pycheck::VersionSyntax::lenient);
    if (strict) FUZZ_CHECK(lenient.ok());  // strict accepts a subset
    if (strict) round_trip(*strict, pycheck::VersionSyntax::strict);
    if (lenient) {
      FUZZ_CHECK(!lenient->upstream.empty());
      round_trip(*lenient, pycheck::VersionSyntax::lenient);
      FUZZ_CHECK(pycheck::compare_debian_versions(*lenient, *lenient) == 0);
      parsed.push_back(*lenient);
    }
    FUZZ_CHECK(pycheck::compare_version_part(text, text) == 0);
  }

  auto [a, b] = fuzz::split_two(in);
  FUZZ_CHECK(sign(pycheck::compare_version_part(a, b)) ==
             -sign(pycheck::compare_version_part(b, a)));
  auto ab = pycheck::compare_debian_versions(a, b);
  auto ba = pycheck::compare_debian_versions(b, a);
  FUZZ_CHECK(ab.ok() == ba.ok());
  if (ab) FUZZ_CHECK(sign(*ab) == -sign(*ba));

  for (const auto& x : parsed) {
    for (const auto& y : parsed) {
      int xy = sign(pycheck::compare_debian_versions(x, y));
      FUZZ_CHECK(xy == -sign(pycheck::compare_debian_versions(y, x)));
      // The string_view overload (lenient, no allocation) agrees with the parsed one.
      auto direct = pycheck::compare_debian_versions(x.to_string(), y.to_string());
      FUZZ_CHECK(direct.ok() && sign(*direct) == xy);
      for (const auto& z : parsed) {
        int yz = sign(pycheck::compare_debian_versions(y, z));
        int xz = sign(pycheck::compare_debian_versions(x, z));
        if (xy <= 0 && yz <= 0) FUZZ_CHECK(xz <= 0);
        if (xy >= 0 && yz >= 0) FUZZ_CHECK(xz >= 0);
      }
    }
  }
  return 0;
}
