// PEM bundle reader (block splitting, base64, mbedTLS parse, and pycheck's own
// fallback DER walk for names and dates), and the DER parser on raw input.
#include "checks/formats/pem_bundle.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::as_view(data, size);
  pycheck::PemBundle bundle = pycheck::parse_pem_bundle(in);
  FUZZ_CHECK(bundle.certificate_blocks == bundle.certificates.size() + bundle.garbage.size());
  for (const pycheck::Certificate& c : bundle.certificates) {
    FUZZ_CHECK(c.sha256.size() == 64);
    (void)pycheck::format_utc(c.not_before);
    (void)pycheck::format_utc(c.not_after);
  }
  for (const pycheck::GarbageBlock& g : bundle.garbage) FUZZ_CHECK(!g.reason.empty());

  // Through a parse memo, first and again (every block a hit): what parsing each block says.
  pycheck::DerParseMemo memo;
  for (int pass = 0; pass < 2; ++pass) {
    const pycheck::PemBundle memoized =
        pycheck::parse_pem_bundle(in, &memo, pycheck::CertificateDetail::full);
    FUZZ_CHECK(memoized.certificate_blocks == bundle.certificate_blocks);
    FUZZ_CHECK(memoized.certificates.size() == bundle.certificates.size());
    FUZZ_CHECK(memoized.garbage.size() == bundle.garbage.size());
    for (std::size_t i = 0; i < memoized.certificates.size(); ++i) {
      FUZZ_CHECK(memoized.certificates[i].sha256 == bundle.certificates[i].sha256);
      FUZZ_CHECK(memoized.certificates[i].line == bundle.certificates[i].line);
    }
    for (std::size_t i = 0; i < memoized.garbage.size(); ++i) {
      FUZZ_CHECK(memoized.garbage[i].reason == bundle.garbage[i].reason);
    }
  }

  pycheck::Certificate der;
  std::string reason = pycheck::parse_der_certificate(in, der);
  if (reason.empty()) {
    FUZZ_CHECK(der.sha256.size() == 64);
    (void)pycheck::format_utc(der.not_after);
  }
  return 0;
}
