#include "checks/formats/openpgp_crypto.h"

#include <mbedtls/md.h>
#include <mbedtls/rsa.h>
#include <sodium.h>

#include <array>

namespace pycheck {
namespace {

mbedtls_md_type_t md_type(int algorithm) {
  switch (algorithm) {
    case 1: return MBEDTLS_MD_MD5;
    case 2: return MBEDTLS_MD_SHA1;
    case 3: return MBEDTLS_MD_RIPEMD160;
    case 8: return MBEDTLS_MD_SHA256;
    case 9: return MBEDTLS_MD_SHA384;
    case 10: return MBEDTLS_MD_SHA512;
    case 11: return MBEDTLS_MD_SHA224;
    default: return MBEDTLS_MD_NONE;
  }
}

const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// Owns an mbedTLS RSA context for one check.
class RsaKey {
 public:
  RsaKey() { mbedtls_rsa_init(&ctx_, MBEDTLS_RSA_PKCS_V15, 0); }
  ~RsaKey() { mbedtls_rsa_free(&ctx_); }
  RsaKey(const RsaKey&) = delete;
  RsaKey& operator=(const RsaKey&) = delete;
  mbedtls_rsa_context* get() { return &ctx_; }

 private:
  mbedtls_rsa_context ctx_;
};

CryptoCheck check_rsa(const OpenPgpSignature& sig, const OpenPgpPublicKey& key,
                      mbedtls_md_type_t md, const unsigned char* digest) {
  RsaKey rsa;
  if (mbedtls_rsa_import_raw(rsa.get(), bytes_of(key.rsa_n), key.rsa_n.size(), nullptr, 0,
                             nullptr, 0, nullptr, 0, bytes_of(key.rsa_e), key.rsa_e.size()) != 0 ||
      mbedtls_rsa_complete(rsa.get()) != 0 || mbedtls_rsa_check_pubkey(rsa.get()) != 0) {
    return CryptoCheck::unsupported;
  }
  const std::size_t length = mbedtls_rsa_get_len(rsa.get());
  if (sig.mpi1.size() > length) return CryptoCheck::bad;
  // The MPI dropped leading zeros; PKCS#1 wants exactly the modulus length.
  std::string padded(length - sig.mpi1.size(), '\0');
  padded += sig.mpi1;
  return mbedtls_rsa_pkcs1_verify(rsa.get(), nullptr, nullptr, MBEDTLS_RSA_PUBLIC, md, 0, digest,
                                  bytes_of(padded)) == 0
             ? CryptoCheck::good
             : CryptoCheck::bad;
}

CryptoCheck check_ed25519(const OpenPgpSignature& sig, const OpenPgpPublicKey& key,
                          const unsigned char* digest, std::size_t digest_size) {
  // No sodium_init(): verifying uses neither the RNG nor a primitive whose
  // implementation it picks at run time, and calling it would link Argon2,
  // BLAKE2b, ChaCha20, Salsa20 and Poly1305 for nothing (about 70 KB).
  if (key.ed25519.size() != crypto_sign_ed25519_PUBLICKEYBYTES) {
    return CryptoCheck::unsupported;
  }
  if (sig.mpi1.size() > 32 || sig.mpi2.size() > 32) return CryptoCheck::bad;
  std::array<unsigned char, 64> rs{};  // R and S, each left-padded to 32 bytes
  std::copy(sig.mpi1.begin(), sig.mpi1.end(), rs.begin() + (32 - sig.mpi1.size()));
  std::copy(sig.mpi2.begin(), sig.mpi2.end(), rs.begin() + (64 - sig.mpi2.size()));
  return crypto_sign_ed25519_verify_detached(rs.data(), digest, digest_size,
                                             bytes_of(key.ed25519)) == 0
             ? CryptoCheck::good
             : CryptoCheck::bad;
}

}  // namespace

std::string openpgp_hash_name(int algorithm) {
  switch (algorithm) {
    case 1: return "MD5";
    case 2: return "SHA-1";
    case 3: return "RIPEMD-160";
    case 8: return "SHA-256";
    case 9: return "SHA-384";
    case 10: return "SHA-512";
    case 11: return "SHA-224";
    default: return "hash algorithm " + std::to_string(algorithm);
  }
}

std::string openpgp_pk_name(int algorithm) {
  switch (algorithm) {
    case 1: case 2: case 3: return "RSA";
    case 17: return "DSA";
    case 19: return "ECDSA";
    case 22: return "EdDSA";
    case 27: return "Ed25519";
    default: return "public-key algorithm " + std::to_string(algorithm);
  }
}

std::string openpgp_key_hash_material(const OpenPgpPublicKey& key) {
  std::string out = "\x99";
  out.push_back(static_cast<char>((key.body.size() >> 8) & 0xFF));
  out.push_back(static_cast<char>(key.body.size() & 0xFF));
  return out + key.body;
}

std::string openpgp_user_id_hash_material(std::string_view user_id) {
  std::string out = "\xB4";
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((user_id.size() >> shift) & 0xFF));
  }
  return out.append(user_id);
}

CryptoCheck openpgp_check_signature(const OpenPgpSignature& sig, const OpenPgpPublicKey& key,
                                    std::initializer_list<std::string_view> data) {
  const mbedtls_md_type_t md = md_type(sig.hash_algorithm);
  const mbedtls_md_info_t* info = mbedtls_md_info_from_type(md);
  const bool rsa = (sig.pk_algorithm == pgp::kAlgoRsa || sig.pk_algorithm == pgp::kAlgoRsaSignOnly) &&
                   !key.rsa_n.empty();
  const bool eddsa = sig.pk_algorithm == pgp::kAlgoEdDsaLegacy && !key.ed25519.empty();
  if (info == nullptr || (!rsa && !eddsa)) return CryptoCheck::unsupported;

  const std::size_t hashed = sig.hashed_block.size();
  const unsigned char trailer[6] = {4, 0xFF, static_cast<unsigned char>(hashed >> 24),
                                    static_cast<unsigned char>(hashed >> 16),
                                    static_cast<unsigned char>(hashed >> 8),
                                    static_cast<unsigned char>(hashed)};
  std::array<unsigned char, MBEDTLS_MD_MAX_SIZE> digest{};
  mbedtls_md_context_t ctx;
  mbedtls_md_init(&ctx);
  bool ok = mbedtls_md_setup(&ctx, info, 0) == 0 && mbedtls_md_starts(&ctx) == 0;
  for (std::string_view part : data) ok = ok && mbedtls_md_update(&ctx, bytes_of(part), part.size()) == 0;
  ok = ok && mbedtls_md_update(&ctx, bytes_of(sig.hashed_block), hashed) == 0 &&
       mbedtls_md_update(&ctx, trailer, sizeof trailer) == 0 &&
       mbedtls_md_finish(&ctx, digest.data()) == 0;
  mbedtls_md_free(&ctx);
  if (!ok) return CryptoCheck::unsupported;
  // The quick check: the digest's first two bytes are in the packet.
  if (digest[0] != (sig.left16 >> 8) || digest[1] != (sig.left16 & 0xFF)) return CryptoCheck::bad;
  if (rsa) return check_rsa(sig, key, md, digest.data());
  return check_ed25519(sig, key, digest.data(), mbedtls_md_get_size(info));
}

}  // namespace pycheck
