// OpenPGP certificates (transferable public keys, RFC 9580 10.1) from keyring
// bytes as apt finds them: binary keyrings (.gpg, .pgp), armored ones (.asc),
// several certificates per file, duplicates merged. Pure: bytes in, values
// out. Structure here; whether a key may sign at a given time (self-signatures,
// bindings, backsigs, revocations, expiry) is judge_signing_key's work.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "checks/formats/openpgp_packets.h"

namespace pycheck {

struct OpenPgpUserId {
  std::string text;
  std::vector<OpenPgpSignature> signatures;
};

struct OpenPgpSubkey {
  OpenPgpPublicKey key;
  std::vector<OpenPgpSignature> signatures;  // bindings (0x18), revocations (0x28)
};

struct OpenPgpCertificate {
  OpenPgpPublicKey primary;
  std::vector<OpenPgpSignature> direct;  // on the primary itself: 0x1F, revocations 0x20
  std::vector<OpenPgpUserId> user_ids;
  std::vector<OpenPgpSubkey> subkeys;
  std::string origin;  // the keyring it was first read from
};

struct OpenPgpKeyrings {
  std::vector<OpenPgpCertificate> certificates;
  std::vector<std::string> problems;  // "ORIGIN: ignored: ..." for files or packets skipped
  std::unordered_map<std::string, std::size_t> by_fingerprint;  // primary -> index
};

// Adds one keyring file's certificates. Empty: nothing. Binary must start
// with a public-key packet header (0x98, 0x99, 0xC6), as apt requires;
// armored ("-----BEGIN PGP PUBLIC KEY BLOCK-----") is decoded first; anything
// else is ignored with a problem, as apt ignores it. A broken packet ends the
// file (the certificates before it are kept). Non-v4 keys are skipped.
void read_openpgp_keyring(std::string_view bytes, std::string_view origin, OpenPgpKeyrings& out);

struct SigningKeyJudgement {
  enum class State {
    usable,
    revoked,        // the key or its primary has a valid revocation
    expired,        // expired at `now` or before the signature was made
    unbound,        // no valid self-signature / binding (or no backsig)
    not_yet_valid,  // its binding (or the key) is newer than the signature
    not_signing,    // its flags do not allow signing data
  };
  State state = State::unbound;
  std::string detail;   // for SignatureCheck::rule
  std::string user_id;  // the certificate's primary user id ("" when none is valid)
};

// May `key` (the primary when subkey < 0, else subkeys[subkey]) have made a
// data signature at `signed_at`, judged at `now` (Unix seconds)? Only SHA-2
// self-signatures count; every signature is checked cryptographically.
SigningKeyJudgement judge_signing_key(const OpenPgpCertificate& cert, int subkey,
                                      std::int64_t signed_at, std::int64_t now);

}  // namespace pycheck
