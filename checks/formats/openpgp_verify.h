// Verifying apt repository signatures (InRelease, Release + Release.gpg) the
// way apt would (pure: bytes in, verdict out). Accepts only what both apt 2.6
// (gpgv) and apt 3.0 (sqv) accept: shared notes, inrelease-signatures.md.
// RSA >= 2048 bits through mbedTLS, Ed25519 through libsodium; v4 keys and
// signatures only. pycheck parses only the bytes this returns as verified.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace pycheck {

// One keyring as read from a file (binary OpenPGP, or ASCII-armored), or the
// inline key block of a deb822 Signed-By field.
struct OpenPgpKeyring {
  std::string origin;  // "/usr/share/keyrings/debian-archive-keyring.gpg", "Signed-By of FILE:LINE"
  std::string bytes;   // the file's content as read
};

// What a sources entry trusts.
struct TrustedKeys {
  std::vector<OpenPgpKeyring> keyrings;
  // Signed-By fingerprints (40 upper-case hex digits): when non-empty only
  // these keys may sign. A trailing '!' (apt's syntax) means that exact key,
  // not one of its subkeys.
  std::vector<std::string> fingerprints;
};

enum class SignatureVerdict {
  verified,          // at least one good signature by a trusted, valid key, and no bad one
  unsigned_file,     // no signature at all (Release without Release.gpg, stripped block)
  malformed,         // the clearsigned framework, armor, CRC or packets are broken
  no_public_key,     // no signature by a key in the trusted keyrings (apt: NO_PUBKEY)
  bad_signature,     // a signature by a trusted key does not match (apt: BADSIG)
  expired_key,       // the signing key (or its primary) has expired (apt: EXPKEYSIG)
  revoked_key,       // the signing key (or its primary) is revoked (apt: REVKEYSIG)
  expired_signature, // the signature itself has expired (apt: EXPSIG)
  weak_algorithm,    // SHA-1/MD5/RIPEMD-160/SHA-224 digest, RSA < 2048 bits, or another algorithm
  not_yet_valid,     // signature (or key binding) made after `now`
};
std::string_view to_string(SignatureVerdict verdict);  // "verified", "no_public_key", ...

struct SignatureCheck {
  SignatureVerdict verdict = SignatureVerdict::malformed;
  // The cause in apt's words, one line: "NO_PUBKEY 6ED0E7B82643E131",
  // "EXPKEYSIG 0E98404D386FA1D9 Debian Archive Automatic Signing Key (11/bullseye)
  // <ftpmaster@debian.org>", "BADSIG ...", "clearsigned message: ...".
  std::string reason;
  // Which rule decided, for the details: "good RSA 4096 SHA-512 signature by
  // subkey ABCD... (binding 2023-01-21, backsig valid)", "SHA-224 digest: apt 3.0 refuses it".
  std::string rule;
  // The good (or, when refused, the deciding) signature's key:
  std::string signer_fingerprint;  // the primary key, 40 upper-case hex ("" when unknown)
  std::string signing_key_fingerprint;  // the key that signed: the primary or a subkey
  std::string user_id;                  // the primary user id of the certificate
  std::string keyring;                  // OpenPgpKeyring::origin that held it
  std::vector<std::string> issuers;     // key ids (16 hex) named by every signature, in order
  // The verified message (InRelease: the clearsigned text, dash-escapes
  // removed, lines joined by "\n" with a final "\n"; Release: the file).
  // Empty unless verdict == verified.
  std::string message;

  bool ok() const { return verdict == SignatureVerdict::verified; }
};

// An InRelease file: apt's clearsigned split (apt-pkg/contrib/gpgv.cc), then
// the signatures over the canonical text. `now` judges key and signature
// expiry and future dates.
SignatureCheck verify_clearsigned(std::string_view inrelease, const TrustedKeys& keys,
                                  std::chrono::sys_seconds now);

// A Release file and its detached Release.gpg (armored or binary).
SignatureCheck verify_detached(std::string_view release, std::string_view release_gpg,
                               const TrustedKeys& keys, std::chrono::sys_seconds now);

}  // namespace pycheck
