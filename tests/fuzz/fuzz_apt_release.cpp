// Release / InRelease reader, the clearsigned-message splitter, the date
// parser and the Packages index choice built on a parsed Release.
#include "checks/formats/apt_release.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::as_view(data, size);

  if (pycheck::is_clearsigned(in)) {
    auto body = pycheck::clearsigned_body(in);
    if (body) FUZZ_CHECK(!body->empty() && body->back() == '\n');
  }
  (void)pycheck::parse_release_date(in.substr(0, 64));

  auto release = pycheck::parse_apt_release(in);
  if (!release) return 0;
  FUZZ_CHECK(release->signed_message == pycheck::is_clearsigned(in));
  std::size_t n = 0;
  for (const pycheck::ReleaseFile& f : release->sha256) {
    FUZZ_CHECK(f.sha256.size() == 64);
    for (char c : f.sha256) FUZZ_CHECK((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    if (++n <= 32) FUZZ_CHECK(release->find_file(f.path) != nullptr);  // linear: keep it cheap
  }
  for (const std::string& c : release->components) FUZZ_CHECK(c.find('/') == std::string::npos);
  (void)pycheck::is_security_suite(*release);

  std::vector<std::string> archs = release->architectures;
  archs.push_back("amd64");
  for (const std::string& component : release->components) {
    for (const std::string& arch : archs) {
      auto choice = pycheck::pick_packages_index(*release, component, arch);
      if (!choice) continue;
      FUZZ_CHECK(release->find_file(choice->path) != nullptr);
      FUZZ_CHECK(choice->sha256.size() == 64);
      if (!release->acquire_by_hash) FUZZ_CHECK(choice->fetch_path == choice->path);
    }
  }
  return 0;
}
