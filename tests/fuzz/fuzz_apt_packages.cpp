// Packages index reader; newest() must pick a version no other record of the
// same package:architecture beats in dpkg's order.
#include "checks/formats/apt_packages.h"
#include "checks/formats/debian_version.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::as_view(data, size);
  pycheck::AptPackagesIndex index = pycheck::parse_apt_packages(in);
  std::size_t checked = 0;
  for (const pycheck::AptPackage& p : index.packages()) {
    FUZZ_CHECK(!p.package.empty() && !p.version.empty() && !p.architecture.empty());
    (void)p.effective_source_name();
    (void)p.effective_source_version();
    if (++checked > 64) continue;  // keep the quadratic part small on big inputs
    const pycheck::AptPackage* newest = index.newest(p.package, p.architecture);
    FUZZ_CHECK(newest != nullptr);
    for (const pycheck::AptPackage* other : index.find(p.package, p.architecture)) {
      auto cmp = pycheck::compare_debian_versions(newest->version, other->version);
      FUZZ_CHECK(cmp.ok());
      FUZZ_CHECK(*cmp >= 0);
    }
  }
  for (const pycheck::AptPackagesProblem& pr : index.problems()) FUZZ_CHECK(!pr.message.empty());
  return 0;
}
