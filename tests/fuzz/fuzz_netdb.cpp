// /etc/services and /etc/protocols readers; every entry must be what the
// getservbyname / getprotobyname style lookups find (or an earlier one).
#include "checks/formats/netdb.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::as_view(data, size);
  pycheck::ServicesTable services = pycheck::parse_services(in);
  FUZZ_CHECK(services.malformed.size() <= pycheck::kMaxMalformedKept);
  FUZZ_CHECK(services.malformed.size() <= services.malformed_count);
  for (const pycheck::MalformedLine& m : services.malformed) FUZZ_CHECK(m.text.size() <= 80);
  std::size_t n = 0;
  for (const pycheck::ServiceEntry& e : services.entries) {
    if (++n > 64) break;
    FUZZ_CHECK(!e.name.empty() && !e.protocol.empty());
    const pycheck::ServiceEntry* found = services.find(e.name, e.protocol);
    FUZZ_CHECK(found != nullptr && found <= &e);
  }
  pycheck::ProtocolsTable protocols = pycheck::parse_protocols(in);
  FUZZ_CHECK(protocols.malformed.size() <= pycheck::kMaxMalformedKept);
  n = 0;
  for (const pycheck::ProtocolEntry& e : protocols.entries) {
    if (++n > 64) break;
    FUZZ_CHECK(!e.name.empty() && e.number >= 0);
    const pycheck::ProtocolEntry* found = protocols.find(e.name);
    FUZZ_CHECK(found != nullptr && found <= &e);
  }
  return 0;
}
