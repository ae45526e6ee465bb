// CPython's layout files read without running Python: Include/patchlevel.h,
// _sysconfigdata_*.py, executable names and Debian package versions.
#include "checks/formats/cpython_layout.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::as_view(data, size);
  auto level = pycheck::parse_patchlevel_h(in);
  if (level) {
    // A version is only reported with the X.Y it was checked against.
    FUZZ_CHECK(!level->version.empty());
    FUZZ_CHECK(pycheck::minor_of(level->version).has_value());
    FUZZ_CHECK(level->major >= 0 && level->minor >= 0);
  } else {
    FUZZ_CHECK(!level.error().message.empty());
  }
  (void)pycheck::sysconfigdata_string(in, "prefix");
  auto [name, version] = fuzz::split_two(in);
  if (auto minor = pycheck::python_minor_from_name(name)) FUZZ_CHECK(!minor->empty());
  (void)pycheck::debian_upstream_version(version);
  return 0;
}
