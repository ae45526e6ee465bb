// The cryptographic half of OpenPGP signature checks: hashing a signature's
// data and trailer (RFC 9580 5.2.4), then RSA PKCS#1 v1.5 through mbedTLS
// or Ed25519 through libsodium. No hand-rolled crypto here; policy (which
// algorithms are acceptable) is the caller's.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "checks/formats/openpgp_packets.h"

namespace pycheck {

// "SHA-256", "SHA-1", ... or "hash algorithm N".
std::string openpgp_hash_name(int algorithm);
// "RSA", "EdDSA", ... or "public-key algorithm N".
std::string openpgp_pk_name(int algorithm);

// What key and user-id signatures hash: 0x99, 16-bit length, key body; and
// 0xB4, 32-bit length, the user id.
std::string openpgp_key_hash_material(const OpenPgpPublicKey& key);
std::string openpgp_user_id_hash_material(std::string_view user_id);

enum class CryptoCheck {
  good,
  bad,          // the digest or the signature does not match
  unsupported,  // the hash or public-key algorithm is not one this can check
};

// Hashes `data` (in order), the signature's hashed block and its trailer with
// the signature's hash algorithm, then checks the signature with `key`.
CryptoCheck openpgp_check_signature(const OpenPgpSignature& sig, const OpenPgpPublicKey& key,
                                    std::initializer_list<std::string_view> data);

}  // namespace pycheck
