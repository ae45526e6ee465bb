// OpenPGP packet framing, v4 key and signature packets and their subpackets.
#include "checks/formats/openpgp_packets.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::as_view(data, size);
  pycheck::OpenPgpPacketReader reader(in);
  pycheck::OpenPgpPacket packet;
  std::size_t total = 0;
  while (reader.next(packet)) {
    total += packet.body.size();
    FUZZ_CHECK(total <= in.size());
    FUZZ_CHECK(packet.tag >= 0 && packet.tag < 64);
    if (auto key = pycheck::parse_public_key(packet.body)) {
      FUZZ_CHECK(key->fingerprint.size() == 40 && key->key_id.size() == 16);
      FUZZ_CHECK(key->fingerprint.ends_with(key->key_id));
      FUZZ_CHECK(key->bits <= pycheck::pgp::kMaxMpiBits);
    }
    if (auto sig = pycheck::parse_signature(packet.body)) {
      FUZZ_CHECK(sig->hashed_block.size() >= 6 && sig->hashed_block.size() <= packet.body.size());
      FUZZ_CHECK(sig->issuer_key_id.empty() || sig->issuer_key_id.size() == 16);
      if (!sig->embedded.empty()) (void)pycheck::parse_signature(sig->embedded);
    }
  }
  // Every body also as a key and a signature (bodies without framing).
  (void)pycheck::parse_public_key(in);
  (void)pycheck::parse_signature(in);
  return 0;
}
