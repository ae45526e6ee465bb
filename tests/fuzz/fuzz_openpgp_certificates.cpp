// Keyrings (binary or armored) into certificates, then the judgement of every
// key as a signer (self-signatures, bindings, backsigs, revocations, expiry).
#include "checks/formats/openpgp_certificates.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::as_view(data, size);
  pycheck::OpenPgpKeyrings rings;
  pycheck::read_openpgp_keyring(in, "fuzz", rings);
  FUZZ_CHECK(rings.by_fingerprint.size() == rings.certificates.size());
  constexpr std::int64_t kNow = 1796000000;  // December 2026
  std::size_t judged = 0;
  for (const pycheck::OpenPgpCertificate& cert : rings.certificates) {
    if (++judged > 4) break;  // each judgement may check signatures: keep runs fast
    (void)pycheck::judge_signing_key(cert, -1, kNow - 86400, kNow);
    for (std::size_t i = 0; i < cert.subkeys.size() && i < 4; ++i) {
      (void)pycheck::judge_signing_key(cert, static_cast<int>(i), kNow - 86400, kNow);
    }
  }
  return 0;
}
