#include "checks/formats/openpgp_verify.h"

#include <cctype>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "checks/formats/clearsigned.h"
#include "checks/formats/openpgp_armor.h"
#include "checks/formats/openpgp_certificates.h"
#include "checks/formats/openpgp_crypto.h"

namespace pycheck {
namespace {

using Verdict = SignatureVerdict;

// When no signature verified, the outcome reported is the most telling one.
int severity(Verdict v) {
  switch (v) {
    case Verdict::bad_signature: return 9;
    case Verdict::revoked_key: return 8;
    case Verdict::expired_key: return 7;
    case Verdict::expired_signature: return 6;
    case Verdict::not_yet_valid: return 5;
    case Verdict::weak_algorithm: return 4;
    case Verdict::malformed: return 3;
    case Verdict::no_public_key: return 2;
    default: return 0;
  }
}

struct KeyRef {
  std::size_t cert = 0;
  int subkey = -1;  // -1: the primary
};

class Verifier {
 public:
  Verifier(const TrustedKeys& keys, std::chrono::sys_seconds now)
      : trusted_(keys), now_(now.time_since_epoch().count()) {
    for (const OpenPgpKeyring& ring : keys.keyrings) read_openpgp_keyring(ring.bytes, ring.origin, rings_);
    for (std::size_t c = 0; c < rings_.certificates.size(); ++c) {
      const OpenPgpCertificate& cert = rings_.certificates[c];
      by_key_id_[cert.primary.key_id].push_back({c, -1});
      for (std::size_t s = 0; s < cert.subkeys.size(); ++s) {
        by_key_id_[cert.subkeys[s].key.key_id].push_back({c, static_cast<int>(s)});
      }
    }
  }

  // Judges every signature packet of `packets` over `data`; `text_mode_data`
  // is what a type 0x01 signature hashes, `binary_data` a type 0x00 one.
  SignatureCheck judge(std::string_view packets, std::string_view text_mode_data,
                       std::string_view binary_data, bool allow_binary) {
    SignatureCheck result;
    OpenPgpPacketReader reader(packets);
    OpenPgpPacket packet;
    std::size_t count = 0;
    std::optional<SignatureCheck> good, worst;
    while (reader.next(packet)) {
      if (packet.tag != pgp::kTagSignature) {
        return fail(Verdict::malformed, "signature block holds a packet of tag " +
                                            std::to_string(packet.tag) + ", not a signature");
      }
      if (++count > 16) return fail(Verdict::malformed, "more than 16 signatures");
      if (packet.body.empty() || packet.body.front() != 4) continue;  // v3/v5/v6: not used
      std::optional<OpenPgpSignature> sig = parse_signature(packet.body);
      if (!sig) return fail(Verdict::malformed, "broken v4 signature packet");
      if (!sig->issuer_key_id.empty()) result.issuers.push_back(sig->issuer_key_id);
      SignatureCheck one;
      if (sig->type == 0x01) {
        one = judge_one(*sig, text_mode_data);
      } else if (sig->type == 0x00 && allow_binary) {
        one = judge_one(*sig, binary_data);
      } else {
        one.verdict = Verdict::malformed;
        one.reason = "signature of type " + std::to_string(sig->type) + " over a Release file";
        one.rule = "only binary (0x00, Release.gpg) and text (0x01, InRelease) signatures sign files";
      }
      if (one.verdict == Verdict::verified) {
        if (!good) good = std::move(one);
      } else if (!worst || severity(one.verdict) > severity(worst->verdict)) {
        worst = std::move(one);
      }
    }
    if (!reader.error().empty()) return fail(Verdict::malformed, "signature packets: " + reader.error());
    if (count == 0) return fail(Verdict::malformed, "no signature packet in the signature block");
    // Any bad signature by a trusted key refuses the file (gpgv, apt 2.6);
    // unknown signers and refused algorithms are ignored when one is good.
    SignatureCheck chosen;
    if (worst && worst->verdict == Verdict::bad_signature) {
      chosen = std::move(*worst);
      if (good) chosen.rule += "; another signature was good, but apt 2.6 refuses any BADSIG";
    } else if (good) {
      chosen = std::move(*good);
    } else if (worst) {
      chosen = std::move(*worst);
    } else {
      return fail(Verdict::no_public_key, "no signature of a version this reader knows (v4)");
    }
    chosen.issuers = std::move(result.issuers);
    return chosen;
  }

  static SignatureCheck fail(Verdict verdict, std::string reason) {
    SignatureCheck out;
    out.verdict = verdict;
    out.rule = reason;
    out.reason = std::move(reason);
    return out;
  }

 private:
  bool allowed(const OpenPgpCertificate& cert, const OpenPgpPublicKey& key) const {
    if (trusted_.fingerprints.empty()) return true;
    for (std::string want : trusted_.fingerprints) {
      for (char& c : want) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (!want.empty() && want.back() == '!') {
        want.pop_back();
        if (want == key.fingerprint) return true;
      } else if (want == key.fingerprint || want == cert.primary.fingerprint) {
        return true;
      }
    }
    return false;
  }

  SignatureCheck judge_one(const OpenPgpSignature& sig, std::string_view data) {
    std::vector<KeyRef> candidates;
    if (auto it = by_key_id_.find(sig.issuer_key_id); it != by_key_id_.end()) candidates = it->second;
    SignatureCheck best = fail(Verdict::no_public_key, "NO_PUBKEY " + sig.issuer_key_id);
    best.rule = sig.issuer_key_id.empty() ? "the signature names no issuer key"
                                          : "no key " + sig.issuer_key_id + " in the trusted keyrings";
    for (const KeyRef& ref : candidates) {
      const OpenPgpCertificate& cert = rings_.certificates[ref.cert];
      const OpenPgpPublicKey& key =
          ref.subkey < 0 ? cert.primary : cert.subkeys[static_cast<std::size_t>(ref.subkey)].key;
      if (!sig.issuer_fingerprint.empty() && sig.issuer_fingerprint != key.fingerprint) continue;
      SignatureCheck one = judge_with(sig, data, cert, ref.subkey, key);
      if (one.verdict == Verdict::verified) return one;
      if (severity(one.verdict) > severity(best.verdict)) best = std::move(one);
    }
    return best;
  }

  SignatureCheck judge_with(const OpenPgpSignature& sig, std::string_view data,
                            const OpenPgpCertificate& cert, int subkey, const OpenPgpPublicKey& key) {
    SignatureCheck out;
    out.signer_fingerprint = cert.primary.fingerprint;
    out.signing_key_fingerprint = key.fingerprint;
    out.keyring = cert.origin;
    const std::string what = openpgp_pk_name(key.algorithm) + " " + std::to_string(key.bits) + " " +
                             openpgp_hash_name(sig.hash_algorithm) + " signature";
    auto verdict = [&](Verdict v, std::string_view word, std::string rule) {
      out.verdict = v;
      if (out.user_id.empty()) out.user_id = user_id_of(cert);
      out.reason = std::string(word) + " " + key.key_id;
      if (!out.user_id.empty()) out.reason += " " + out.user_id;
      out.rule = std::move(rule);
      return out;
    };
    if (!allowed(cert, key)) {
      return verdict(Verdict::no_public_key, "NO_PUBKEY",
                     "key " + key.fingerprint + " is not one of Signed-By's fingerprints");
    }
    // apt 2.6's words for refused digests: "Signature by key FPR uses weak
    // digest algorithm (SHA1)"; the same form for keys sqv refuses.
    auto weak = [&](const std::string& algorithm, std::string rule) {
      out.verdict = Verdict::weak_algorithm;
      out.reason = "Signature by key " + key.fingerprint + " uses weak algorithm (" + algorithm + ")";
      out.rule = std::move(rule);
      return out;
    };
    if (!key.usable_algorithm()) {
      return weak(openpgp_pk_name(key.algorithm),
                  openpgp_pk_name(key.algorithm) + " key: only RSA and Ed25519 keys are accepted");
    }
    if (!key.rsa_n.empty() && key.bits < 2048) {
      const std::string rsa = "RSA " + std::to_string(key.bits);
      return weak(rsa, rsa + " key: apt 3.0 (sqv) refuses RSA keys under 2048 bits");
    }
    if (sig.hash_algorithm != 8 && sig.hash_algorithm != 9 && sig.hash_algorithm != 10) {
      const std::string hash = openpgp_hash_name(sig.hash_algorithm);
      return weak(hash, hash + " digest: " +
                            (sig.hash_algorithm == 11 ? "apt 3.0 (sqv) refuses it"
                                                      : "apt 2.6 (gpgv) and 3.0 (sqv) refuse it"));
    }
    // The data signature first: a forged one costs one check, not the
    // certificate's (its user id for apt's words comes from a cache).
    const std::int64_t signed_at = sig.created.value_or(0);
    if (!sig.created || sig.unknown_critical) {
      return verdict(Verdict::bad_signature, "BADSIG",
                     sig.created ? "an unknown critical subpacket invalidates the " + what
                                 : "the " + what + " has no hashed creation time");
    }
    const CryptoCheck crypto = openpgp_check_signature(sig, key, {data});
    if (crypto == CryptoCheck::unsupported) {
      return weak(openpgp_pk_name(sig.pk_algorithm), "cannot check a " + what + " by this key");
    }
    if (crypto == CryptoCheck::bad) {
      return verdict(Verdict::bad_signature, "BADSIG", what + " by " + key.fingerprint + " does not match");
    }
    if (signed_at > now_) {
      return verdict(Verdict::not_yet_valid, "signature made in the future by",
                     what + " is dated after now: apt 3.0 (sqv) refuses it");
    }
    if (sig.expires_after.value_or(0) != 0 && signed_at + std::int64_t{*sig.expires_after} <= now_) {
      return verdict(Verdict::expired_signature, "EXPSIG", "the " + what + " has expired");
    }
    const SigningKeyJudgement judged = judge_signing_key(cert, subkey, signed_at, now_);
    out.user_id = judged.user_id;
    using State = SigningKeyJudgement::State;
    switch (judged.state) {
      case State::revoked: return verdict(Verdict::revoked_key, "REVKEYSIG", judged.detail);
      case State::expired: return verdict(Verdict::expired_key, "EXPKEYSIG", judged.detail);
      case State::not_yet_valid: return verdict(Verdict::not_yet_valid, "key not yet valid:", judged.detail);
      case State::unbound:
      case State::not_signing: return verdict(Verdict::no_public_key, "NO_PUBKEY", judged.detail);
      case State::usable: break;
    }
    return verdict(Verdict::verified, "GOODSIG", "good " + what + " by " + judged.detail);
  }

  const std::string& user_id_of(const OpenPgpCertificate& cert) {
    const auto [it, inserted] = user_ids_.try_emplace(&cert);
    if (inserted) it->second = judge_signing_key(cert, -1, now_, now_).user_id;
    return it->second;
  }

  const TrustedKeys& trusted_;
  std::int64_t now_;
  std::unordered_map<const OpenPgpCertificate*, std::string> user_ids_;
  OpenPgpKeyrings rings_;
  std::unordered_map<std::string, std::vector<KeyRef>> by_key_id_;
};

// "\n" as "\r\n": what a text signature over a detached file hashes.
std::string crlf_text(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 16);
  for (char c : text) {
    if (c == '\n' && (out.empty() || out.back() != '\r')) out.push_back('\r');
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::string_view to_string(SignatureVerdict verdict) {
  switch (verdict) {
    case Verdict::verified: return "verified";
    case Verdict::unsigned_file: return "unsigned_file";
    case Verdict::malformed: return "malformed";
    case Verdict::no_public_key: return "no_public_key";
    case Verdict::bad_signature: return "bad_signature";
    case Verdict::expired_key: return "expired_key";
    case Verdict::revoked_key: return "revoked_key";
    case Verdict::expired_signature: return "expired_signature";
    case Verdict::weak_algorithm: return "weak_algorithm";
    case Verdict::not_yet_valid: return "not_yet_valid";
  }
  return "unknown";
}

SignatureCheck verify_clearsigned(std::string_view inrelease, const TrustedKeys& keys,
                                  std::chrono::sys_seconds now) {
  if (!starts_clearsigned(inrelease) && inrelease.find("-----BEGIN PGP") == std::string_view::npos) {
    return Verifier::fail(Verdict::unsigned_file, "NOSPLIT: the file is not clearsigned");
  }
  auto parts = split_clearsigned(inrelease);
  if (!parts) return Verifier::fail(Verdict::malformed, parts.error().message);
  std::string packets;
  for (const std::vector<std::string_view>& block : parts->signature_blocks) {
    auto bytes = dearmor_block(block);
    if (!bytes) return Verifier::fail(Verdict::malformed, "signature block: " + bytes.error().message);
    packets += *bytes;
  }
  Verifier verifier(keys, now);
  const std::string canonical = canonical_cleartext(parts->message);
  SignatureCheck check = verifier.judge(packets, canonical, {}, false);
  if (check.ok()) check.message = std::move(parts->message);
  return check;
}

SignatureCheck verify_detached(std::string_view release, std::string_view release_gpg,
                               const TrustedKeys& keys, std::chrono::sys_seconds now) {
  if (release_gpg.empty()) return Verifier::fail(Verdict::unsigned_file, "the Release file has no Release.gpg");
  std::string packets;
  if (release_gpg.find("-----BEGIN PGP SIGNATURE-----") != std::string_view::npos) {
    auto bytes = dearmor_all(release_gpg, "SIGNATURE");
    if (!bytes) return Verifier::fail(Verdict::malformed, "Release.gpg: " + bytes.error().message);
    packets = std::move(*bytes);
  } else {
    packets.assign(release_gpg);
  }
  Verifier verifier(keys, now);
  SignatureCheck check = verifier.judge(packets, crlf_text(release), release, true);
  if (check.ok()) check.message.assign(release);
  return check;
}

}  // namespace pycheck
