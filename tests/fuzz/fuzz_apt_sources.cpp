// apt sources readers: the one-line format and the deb822 format, both on the
// whole input, plus the extension-based dispatcher.
#include "checks/formats/apt_sources.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

void check_sources(const pycheck::AptSources& sources, bool one_line) {
  for (const pycheck::AptSourceEntry& e : sources.entries) {
    // apt's rules the reader promises: a URI has ':' and ends in '/'; a flat
    // repository has no components.
    FUZZ_CHECK(!e.uri.empty() && e.uri.back() == '/');
    FUZZ_CHECK(e.uri.find(':') != std::string::npos);
    // apt takes `deb URI "" main` (it fetches dists//InRelease); deb822 Suites drop empty words.
    if (!one_line) FUZZ_CHECK(!e.suite.empty());
    if (e.flat()) FUZZ_CHECK(e.components.empty());
    (void)pycheck::to_string(e.type);
  }
  for (const pycheck::AptSourcesProblem& p : sources.problems) FUZZ_CHECK(!p.message.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::as_view(data, size);
  check_sources(pycheck::parse_sources_list(in, "/etc/apt/sources.list"), true);
  check_sources(pycheck::parse_deb822_sources(in, "/etc/apt/sources.list.d/debian.sources"), false);
  return 0;
}
