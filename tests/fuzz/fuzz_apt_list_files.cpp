// apt's list file names (URItoFileName) for a source entry's URI and suite:
// whatever the sources say, a name stays one file in /var/lib/apt/lists.
#include "checks/formats/apt_list_files.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

// One path component: no '/', no NUL, not "." or "..", so it cannot leave the
// lists directory or name another file.
void check_file_name(const std::string& name) {
  FUZZ_CHECK(!name.empty());
  FUZZ_CHECK(name.find('/') == std::string::npos);
  FUZZ_CHECK(name.find('\0') == std::string::npos);
  FUZZ_CHECK(name != "." && name != "..");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parts = fuzz::split_nul(fuzz::as_view(data, size), 4);
  parts.resize(4);
  std::string_view uri = parts[0], suite = parts[1], component = parts[2], arch = parts[3];
  (void)pycheck::uri_to_file_name(uri);
  (void)pycheck::release_file_uri(uri, suite, "InRelease");
  (void)pycheck::packages_index_uri(uri, suite, component, arch);
  // apt's own sources parser requires a scheme and a suite; names are only
  // asked for such entries.
  if (uri.find("://") == std::string_view::npos || suite.empty()) return 0;
  check_file_name(pycheck::release_list_file(uri, suite, "InRelease"));
  check_file_name(pycheck::packages_list_file(uri, suite, component, arch));
  auto candidates = pycheck::packages_list_candidates(uri, suite, component, arch);
  FUZZ_CHECK(!candidates.empty());
  for (const auto& c : candidates) check_file_name(c.name);
  return 0;
}
