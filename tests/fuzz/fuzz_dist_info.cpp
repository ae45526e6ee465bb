// dist-info readers: METADATA headers (the whole input), dist-info folder and
// wheel names and PEP 440 versions (the first line, and the input cut in two
// for comparisons). A parsed version's normalised spelling must parse back to
// an equal version; comparison must be reflexive and antisymmetric.
#include "checks/formats/dist_info.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

int sign(int v) { return (v > 0) - (v < 0); }

void check_version(std::string_view text) {
  auto v = pycheck::parse_pep440(text);
  if (!v) return;
  FUZZ_CHECK(!v->release.empty());
  std::string normal = v->str();
  auto again = pycheck::parse_pep440(normal);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(again->str() == normal);
  FUZZ_CHECK(pycheck::compare_pep440(*again, *v) == 0);
  FUZZ_CHECK(pycheck::compare_pep440(*v, *v) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::as_view(data, size);
  auto metadata = pycheck::parse_dist_metadata(in);
  if (metadata) {
    FUZZ_CHECK(!metadata->name.empty() && !metadata->version.empty());
    check_version(metadata->version);
  }

  std::string_view line = in.substr(0, std::min(in.find('\n'), std::size_t{512}));
  if (auto d = pycheck::parse_dist_info_dir_name(line)) check_version(d->version);
  if (auto w = pycheck::parse_wheel_file_name(line)) check_version(w->version);
  check_version(line);

  auto [a, b] = fuzz::split_two(line);
  check_version(a);
  check_version(b);
  auto ab = pycheck::compare_pep440(a, b);
  auto ba = pycheck::compare_pep440(b, a);
  FUZZ_CHECK(ab.has_value() == ba.has_value());
  if (ab) FUZZ_CHECK(sign(*ab) == -sign(*ba));
  return 0;
}
