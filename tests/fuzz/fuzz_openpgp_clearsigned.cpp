// The clearsigned split as apt does it, and the whole verifier: the input is
// a keyring and an InRelease (or a Release and a Release.gpg), split at the
// first NUL.
#include "checks/formats/clearsigned.h"
#include "checks/formats/openpgp_verify.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::as_view(data, size);
  if (auto parts = pycheck::split_clearsigned(in)) {
    FUZZ_CHECK(parts->message.empty() || parts->message.back() == '\n');
    FUZZ_CHECK(!parts->signature_blocks.empty());
    const std::string canonical = pycheck::canonical_cleartext(parts->message);
    FUZZ_CHECK(canonical.find('\n') == std::string::npos || canonical.find("\r\n") != std::string::npos);
  }
  const auto [keyring, text] = fuzz::split_two(in);
  const pycheck::TrustedKeys keys{{pycheck::OpenPgpKeyring{"fuzz", std::string(keyring)}}, {}};
  const std::chrono::sys_seconds now{std::chrono::seconds{1796000000}};
  const pycheck::SignatureCheck clear = pycheck::verify_clearsigned(text, keys, now);
  FUZZ_CHECK(clear.ok() || clear.message.empty());
  const auto [release, signature] = fuzz::split_two(text);
  const pycheck::SignatureCheck detached = pycheck::verify_detached(release, signature, keys, now);
  FUZZ_CHECK(!detached.ok() || detached.message == release);
  return 0;
}
