// PEP 691 JSON and PEP 503 HTML project pages, the release version of each
// listed file, and Requires-Python specifiers.
#include "checks/formats/pip_config.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

void check_files(const pycheck::Result<std::vector<pycheck::IndexFile>>& files,
                 const pycheck::Pep440Version& python) {
  if (!files) {
    FUZZ_CHECK(!files.error().message.empty());
    return;
  }
  std::size_t n = 0;
  for (const pycheck::IndexFile& f : *files) {
    if (++n > 64) break;
    (void)pycheck::release_version_of(f.filename, "pip");
    if (!f.requires_python.empty())
      (void)pycheck::requires_python_allows(f.requires_python, python);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::as_view(data, size);
  static const pycheck::Pep440Version python = *pycheck::parse_pep440("3.11.7");
  check_files(pycheck::parse_simple_index_json(in), python);
  check_files(pycheck::parse_simple_index_html(in), python);
  std::string_view line = in.substr(0, std::min(in.find('\n'), std::size_t{256}));
  (void)pycheck::requires_python_allows(line, python);
  (void)pycheck::release_version_of(line, "pip");
  return 0;
}
