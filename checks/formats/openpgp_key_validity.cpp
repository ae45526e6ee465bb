// judge_signing_key (openpgp_certificates.h): whether a key of a certificate
// may have made a data signature, as both gpgv and sqv judge it.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <utility>
#include <vector>

#include "checks/formats/openpgp_certificates.h"
#include "checks/formats/openpgp_crypto.h"

namespace pycheck {
namespace {

using State = SigningKeyJudgement::State;

// Signatures checked per judgement at most: real certificates need a few;
// a hostile keyring with thousands of self-signatures must not cost thousands
// of RSA operations per InRelease signature.
constexpr int kMaxChecks = 48;

bool sha2(int hash) { return hash == 8 || hash == 9 || hash == 10; }

// Could `sig` by `by` be in force at `now`: created, not expired, no unknown
// critical subpacket, an acceptable digest, and `by` as its issuer when it
// names one? Checks nothing cryptographic. Revocations also count with SHA-1
// or SHA-224 (gpg honours them; refusing the key is the cautious side).
bool plausible(const OpenPgpSignature& sig, const OpenPgpPublicKey& by, std::int64_t now,
               bool revocation) {
  if (!sig.created || sig.unknown_critical) return false;
  if (!sig.issuer_fingerprint.empty() && sig.issuer_fingerprint != by.fingerprint) return false;
  if (sig.issuer_fingerprint.empty() && !sig.issuer_key_id.empty() && sig.issuer_key_id != by.key_id) {
    return false;
  }
  if (!(sha2(sig.hash_algorithm) || (revocation && (sig.hash_algorithm == 2 || sig.hash_algorithm == 11)))) {
    return false;
  }
  if (*sig.created > now) return false;
  return sig.expires_after.value_or(0) == 0 || *sig.created + std::int64_t{*sig.expires_after} > now;
}

// The cryptographic check, within the judgement's budget.
bool good(const OpenPgpSignature& sig, const OpenPgpPublicKey& by,
          std::initializer_list<std::string_view> data, int& budget) {
  if (budget <= 0) return false;
  --budget;
  return openpgp_check_signature(sig, by, data) == CryptoCheck::good;
}

bool in_force(const OpenPgpSignature& sig, const OpenPgpPublicKey& by, std::int64_t now,
              bool revocation, std::initializer_list<std::string_view> data, int& budget) {
  return plausible(sig, by, now, revocation) && good(sig, by, data, budget);
}

// Newest first: the first good one is the one in force, so older ones are
// never checked (RSA checks are most of a verification's time).
bool newer(const OpenPgpSignature* a, const OpenPgpSignature* b) {
  if (a->primary_user_id != b->primary_user_id) return a->primary_user_id;
  return *a->created > *b->created;
}

void newest_first(std::vector<const OpenPgpSignature*>& sigs) {
  std::stable_sort(sigs.begin(), sigs.end(), newer);
}

std::string date_of(std::int64_t t) {
  const std::chrono::sys_days day = std::chrono::floor<std::chrono::days>(
      std::chrono::sys_seconds{std::chrono::seconds{t}});
  const std::chrono::year_month_day ymd{day};
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return text;
}

// The primary key's newest valid self-signature (user id binding or direct
// key signature) and its primary user id.
struct PrimaryState {
  const OpenPgpSignature* self = nullptr;
  std::string user_id;
  bool revoked = false;
};

PrimaryState judge_primary(const OpenPgpCertificate& cert, std::int64_t now, int& budget) {
  PrimaryState state;
  const OpenPgpPublicKey& key = cert.primary;
  const std::string p = openpgp_key_hash_material(key);
  // Revocations first, on their own budget: self-signatures cannot hide them.
  int revocation_budget = kMaxChecks;
  for (const OpenPgpSignature& sig : cert.direct) {
    if (sig.type == 0x20 && in_force(sig, key, now, true, {p}, revocation_budget)) state.revoked = true;
  }
  // The primary user id (flagged) wins, then the newest binding.
  std::vector<std::pair<const OpenPgpSignature*, const OpenPgpUserId*>> bindings;
  for (const OpenPgpUserId& uid : cert.user_ids) {
    for (const OpenPgpSignature& sig : uid.signatures) {
      if (sig.type >= 0x10 && sig.type <= 0x13 && plausible(sig, key, now, false)) {
        bindings.emplace_back(&sig, &uid);
      }
    }
  }
  std::stable_sort(bindings.begin(), bindings.end(),
                   [](const auto& a, const auto& b) { return newer(a.first, b.first); });
  for (const auto& [sig, uid] : bindings) {
    if (good(*sig, key, {p, openpgp_user_id_hash_material(uid->text)}, budget)) {
      state.self = sig;
      state.user_id = uid->text;
      break;
    }
  }
  std::vector<const OpenPgpSignature*> direct;
  for (const OpenPgpSignature& sig : cert.direct) {
    if (sig.type == 0x1F && plausible(sig, key, now, false) &&
        (state.self == nullptr || *sig.created > *state.self->created)) {
      direct.push_back(&sig);
    }
  }
  newest_first(direct);
  for (const OpenPgpSignature* sig : direct) {
    if (good(*sig, key, {p}, budget)) {
      state.self = sig;
      break;
    }
  }
  return state;
}

bool expired_by(const OpenPgpPublicKey& key, const OpenPgpSignature& self, std::int64_t t) {
  const std::uint32_t after = self.key_expires_after.value_or(0);
  return after != 0 && key.created + std::int64_t{after} <= t;
}

std::string expiry_text(const OpenPgpPublicKey& key, const OpenPgpSignature& self) {
  return date_of(key.created + std::int64_t{self.key_expires_after.value_or(0)});
}

}  // namespace

SigningKeyJudgement judge_signing_key(const OpenPgpCertificate& cert, int subkey,
                                      std::int64_t signed_at, std::int64_t now) {
  SigningKeyJudgement out;
  int budget = kMaxChecks;
  const PrimaryState primary = judge_primary(cert, now, budget);
  out.user_id = primary.user_id;
  const std::string& fpr = cert.primary.fingerprint;
  if (primary.revoked) {
    out.state = State::revoked;
    out.detail = "primary key " + fpr + " is revoked";
    return out;
  }
  if (primary.self == nullptr) {
    out.detail = "primary key " + fpr + " has no valid SHA-2 self-signature";
    return out;
  }
  if (expired_by(cert.primary, *primary.self, now) ||
      expired_by(cert.primary, *primary.self, signed_at)) {
    out.state = State::expired;
    out.detail = "primary key " + fpr + " expired on " + expiry_text(cert.primary, *primary.self);
    return out;
  }
  if (cert.primary.created > signed_at) {
    out.state = State::not_yet_valid;
    out.detail = "primary key " + fpr + " is newer than the signature";
    return out;
  }
  if (subkey < 0) {
    const std::uint8_t flags = primary.self->key_flags.value_or(0x02);
    out.state = (flags & 0x02) ? State::usable : State::not_signing;
    out.detail = (flags & 0x02) ? "primary key " + fpr
                                : "primary key " + fpr + " is not flagged for signing";
    return out;
  }

  const OpenPgpSubkey& sub = cert.subkeys.at(static_cast<std::size_t>(subkey));
  const std::string p = openpgp_key_hash_material(cert.primary);
  const std::string s = openpgp_key_hash_material(sub.key);
  const std::string& sub_fpr = sub.key.fingerprint;
  int revocation_budget = kMaxChecks;  // revocations first, on their own budget
  for (const OpenPgpSignature& sig : sub.signatures) {
    if (sig.type == 0x28 && in_force(sig, cert.primary, now, true, {p, s}, revocation_budget)) {
      out.state = State::revoked;
      out.detail = "subkey " + sub_fpr + " is revoked";
      return out;
    }
  }
  const OpenPgpSignature* binding = nullptr;
  bool newer_binding = false;
  std::vector<const OpenPgpSignature*> bindings;
  for (const OpenPgpSignature& sig : sub.signatures) {
    if (sig.type == 0x18 && plausible(sig, cert.primary, now, false)) bindings.push_back(&sig);
  }
  newest_first(bindings);
  for (const OpenPgpSignature* sig : bindings) {
    if (!good(*sig, cert.primary, {p, s}, budget)) continue;
    // sqv judges the key as it was when the signature was made.
    if (*sig->created > signed_at) {
      newer_binding = true;
      continue;
    }
    binding = sig;
    break;
  }
  if (binding == nullptr) {
    out.state = newer_binding ? State::not_yet_valid : State::unbound;
    out.detail = "subkey " + sub_fpr +
                 (newer_binding ? " was bound after the signature was made"
                                : " has no valid SHA-2 binding signature");
    return out;
  }
  if (!(binding->key_flags.value_or(0) & 0x02)) {
    out.state = State::not_signing;
    out.detail = "subkey " + sub_fpr + " is not flagged for signing";
    return out;
  }
  std::optional<OpenPgpSignature> backsig;
  if (!binding->embedded.empty()) backsig = parse_signature(binding->embedded);
  if (!backsig || backsig->type != 0x19 || !in_force(*backsig, sub.key, now, false, {p, s}, budget)) {
    out.detail = "signing subkey " + sub_fpr + " has no valid back-signature (cross-certification)";
    return out;
  }
  if (expired_by(sub.key, *binding, now) || expired_by(sub.key, *binding, signed_at)) {
    out.state = State::expired;
    out.detail = "subkey " + sub_fpr + " expired on " + expiry_text(sub.key, *binding);
    return out;
  }
  out.state = State::usable;
  out.detail = "subkey " + sub_fpr + " (binding " + date_of(*binding->created) + ", backsig valid)";
  return out;
}

}  // namespace pycheck
