// dpkg status reader: /var/lib/dpkg/status (the whole input) and the
// distroless status.d form (the input split on NUL bytes into files).
#include <string>
#include <utility>
#include <vector>

#include "checks/formats/dpkg_status.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

void check_database(const pycheck::DpkgDatabase& db) {
  for (const pycheck::DpkgRecord& r : db.records()) {
    FUZZ_CHECK(!r.package.empty());
    // The first record of a package:architecture is the one find() returns.
    const pycheck::DpkgRecord* found = db.find(r.package, r.architecture);
    FUZZ_CHECK(found != nullptr);
    FUZZ_CHECK(found->package == r.package && found->architecture == r.architecture);
    bool listed = false;
    for (const pycheck::DpkgRecord* other : db.find_all(r.package)) listed |= other == &r;
    FUZZ_CHECK(listed);
    if (pycheck::is_installed(r)) FUZZ_CHECK(pycheck::has_files_on_disk(r));
    FUZZ_CHECK(pycheck::dpkg_status_abbrev(r.status).size() == 3);
    (void)r.effective_source_name();
    (void)r.effective_source_version();
    (void)db.find_installed(r.package);
  }
  for (const pycheck::DpkgProblem& p : db.problems()) FUZZ_CHECK(!p.message.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::as_view(data, size);

  pycheck::DpkgDatabase status = pycheck::parse_dpkg_status(in);
  check_database(status);

  std::vector<std::pair<std::string, std::string>> files;
  int n = 0;
  for (std::string_view part : fuzz::split_nul(in, 8)) {
    // Every third file is an md5sums list, which the reader must skip.
    std::string name = "pkg" + std::to_string(n) + (n % 3 == 2 ? ".md5sums" : "");
    files.emplace_back(std::move(name), std::string(part));
    ++n;
  }
  pycheck::DpkgDatabase status_d = pycheck::parse_dpkg_status_d(files);
  check_database(status_d);
  for (const pycheck::DpkgRecord& r : status_d.records()) {
    FUZZ_CHECK(r.origin.find(".md5sums") == std::string::npos);
  }

  // The Status field parser on its own: a parsed value prints back as three letters.
  auto field = pycheck::parse_dpkg_status_field(in.substr(0, 64));
  if (field) {
    (void)pycheck::to_string(field->want);
    (void)pycheck::to_string(field->state);
  }
  return 0;
}
