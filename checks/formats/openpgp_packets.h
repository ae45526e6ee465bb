// OpenPGP packet framing and the v4 public-key and signature packets
// (RFC 9580 sections 4, 5.2, 5.5). Pure: bytes in, values out. Only what
// verifying apt repository signatures needs; hashing and signature checks
// are in openpgp_crypto.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pycheck {

namespace pgp {
inline constexpr int kTagSignature = 2;
inline constexpr int kTagPublicKey = 6;
inline constexpr int kTagUserId = 13;
inline constexpr int kTagPublicSubkey = 14;
inline constexpr int kAlgoRsa = 1;
inline constexpr int kAlgoRsaSignOnly = 3;
inline constexpr int kAlgoEdDsaLegacy = 22;
inline constexpr unsigned kMaxMpiBits = 16384;  // larger RSA keys are not in use: refused
}  // namespace pgp

struct OpenPgpPacket {
  int tag = 0;
  std::string_view body;  // points into the reader's input
};

// Reads packets one after the other. Old and new formats; partial
// (indeterminate) lengths are refused, as apt's inputs never use them.
class OpenPgpPacketReader {
 public:
  explicit OpenPgpPacketReader(std::string_view bytes) : bytes_(bytes) {}
  // False at the end or on a broken header or length (then error() says why).
  bool next(OpenPgpPacket& packet);
  const std::string& error() const { return error_; }
  bool at_end() const { return pos_ >= bytes_.size(); }

 private:
  std::string_view bytes_;
  std::size_t pos_ = 0;
  std::string error_;
};

struct OpenPgpPublicKey {
  std::string body;  // the packet body: fingerprint and signatures hash it
  std::uint32_t created = 0;
  int algorithm = 0;
  unsigned bits = 0;    // RSA modulus bits; 256 for Ed25519
  std::string rsa_n;    // big-endian, no leading zeros
  std::string rsa_e;
  std::string ed25519;  // the 32-byte public point
  std::string fingerprint;  // 40 upper-case hex digits (SHA-1 of 0x99, length, body)
  std::string key_id;       // its last 16 hex digits
  bool usable_algorithm() const { return !rsa_n.empty() || !ed25519.empty(); }
};

// A v4 key packet body (primary or subkey). nullopt for other versions or a
// broken body; an algorithm other than RSA and EdDSA gives a key whose
// material is empty (it has a fingerprint but never verifies anything).
std::optional<OpenPgpPublicKey> parse_public_key(std::string_view body);

struct OpenPgpSignature {
  int type = 0;  // 0x00 binary, 0x01 text, 0x10-0x13 certification, 0x18 subkey binding, ...
  int pk_algorithm = 0;
  int hash_algorithm = 0;
  std::string hashed_block;  // version byte through the hashed subpackets: what is hashed
  std::uint16_t left16 = 0;
  std::string mpi1;  // RSA: the signature; EdDSA: R
  std::string mpi2;  // EdDSA: S
  std::optional<std::uint32_t> created;             // subpacket 2, hashed only
  std::optional<std::uint32_t> expires_after;       // subpacket 3 (seconds; 0 = never)
  std::optional<std::uint32_t> key_expires_after;   // subpacket 9 (seconds after key creation)
  std::optional<std::uint8_t> key_flags;            // subpacket 27, first octet
  bool primary_user_id = false;                     // subpacket 25
  std::string issuer_fingerprint;  // subpacket 33 (v4): 40 hex; hashed or not, only a hint
  std::string issuer_key_id;       // subpacket 16, or the end of 33: 16 hex
  std::string embedded;            // subpacket 32: the first embedded signature's body
  bool unknown_critical = false;   // a critical subpacket this reader does not know: invalid
};

// A v4 signature packet body; nullopt for v3/v5/v6 or a broken body.
std::optional<OpenPgpSignature> parse_signature(std::string_view body);

// Upper-case hex of bytes.
std::string openpgp_hex(std::string_view bytes);

}  // namespace pycheck
