// os-release(5) reader (systemd's quoting rules) and /etc/debian_version.
#include "checks/formats/os_release.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::as_view(data, size);
  auto release = pycheck::parse_os_release(in);
  if (release) {
    FUZZ_CHECK(!release->fields.empty());
    FUZZ_CHECK(!release->id().empty());
    (void)release->name();
    (void)release->pretty_name();
    for (const std::string& like : release->id_like()) FUZZ_CHECK(!like.empty());
    (void)release->version_id();
    (void)release->version_codename();
    for (const auto& [key, value] : release->fields) FUZZ_CHECK(release->get(key) == value);
  }
  auto debian = pycheck::parse_debian_version(in);
  if (debian) FUZZ_CHECK(debian->find('\n') == std::string::npos);
  return 0;
}
