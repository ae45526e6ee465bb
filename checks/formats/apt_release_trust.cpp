#include "checks/formats/apt_release_trust.h"

#include <algorithm>
#include <charconv>

#include "checks/formats/deb822.h"

namespace pycheck {
namespace {

constexpr std::chrono::seconds kDefaultMaxFuture{10};  // apt's Acquire::Max-FutureTime

bool option_on(const AptSourceEntry& entry, const char* name) {
  auto it = entry.options.find(name);
  return it == entry.options.end() || parse_apt_bool(it->second).value_or(true);
}

std::chrono::seconds max_future(const AptSourceEntry& entry) {
  auto it = entry.options.find("date-max-future");
  long long seconds = 0;
  if (it == entry.options.end()) return kDefaultMaxFuture;
  const char* end = it->second.data() + it->second.size();
  auto [ptr, ec] = std::from_chars(it->second.data(), end, seconds);
  constexpr long long kMost = 10LL * 366 * 24 * 3600;  // the root's value: no overflow of now + it
  return ec == std::errc{} && ptr == end && seconds >= 0
             ? std::chrono::seconds{std::min(seconds, kMost)}
             : kDefaultMaxFuture;
}

// What to do about a refused signature, by its cause.
std::string fix_for(SignatureVerdict verdict, const AptSourceEntry& entry) {
  switch (verdict) {
    case SignatureVerdict::no_public_key:
      return "Install the archive's keyring in the image (debian-archive-keyring), or correct "
             "Signed-By in " + entry.origin + ".";
    case SignatureVerdict::expired_key:
    case SignatureVerdict::revoked_key:
    case SignatureVerdict::expired_signature:
      return "Rebuild on a current base image: its archive keyring holds the current keys.";
    case SignatureVerdict::weak_algorithm:
      return "The repository must be signed with RSA of 2048 bits or more, or Ed25519, and "
             "SHA-256 or better: apt 3.0 refuses it as it is.";
    case SignatureVerdict::not_yet_valid:
      return "Check the clock of this machine: the signature is dated in the future.";
    default:
      return "The file is not what the archive signed (altered or damaged on the way): use "
             "another mirror, or an https:// one, and run again.";
  }
}

std::string describe(SignatureVerdict verdict) {
  switch (verdict) {
    case SignatureVerdict::unsigned_file: return "not signed";
    case SignatureVerdict::malformed: return "malformed signature";
    case SignatureVerdict::no_public_key: return "the public key is not available";
    case SignatureVerdict::bad_signature: return "bad signature";
    case SignatureVerdict::expired_key: return "the signing key has expired";
    case SignatureVerdict::revoked_key: return "the signing key is revoked";
    case SignatureVerdict::expired_signature: return "the signature has expired";
    case SignatureVerdict::weak_algorithm: return "signed with an algorithm apt refuses";
    case SignatureVerdict::not_yet_valid: return "not valid yet";
    case SignatureVerdict::verified: break;
  }
  return "verified";
}

SignatureCheck verify(const ReleaseFiles& files, const TrustedKeys& keys,
                      std::chrono::sys_seconds now) {
  if (files.inrelease) return verify_clearsigned(*files.inrelease, keys, now);
  if (files.release && files.release_gpg) {
    return verify_detached(*files.release, *files.release_gpg, keys, now);
  }
  SignatureCheck none;
  none.verdict = SignatureVerdict::unsigned_file;
  none.reason = "no InRelease, and no Release.gpg next to Release";
  return none;
}

// apt's date rules; false (with the refusal set) when the file is refused.
bool dates_accepted(const AptSourceEntry& entry, std::chrono::sys_seconds now, bool check_dates,
                    ReleaseTrust& trust) {
  const AptRelease& r = *trust.release;
  const bool check_date = option_on(entry, "check-date");
  const bool check_valid = check_date && option_on(entry, "check-valid-until");
  trust.expired = check_valid && r.valid_until && *r.valid_until < now;
  if (!check_dates) return true;
  if (trust.expired) {
    trust.refusal = "Release file is expired (Valid-Until " + r.valid_until_text + ")";
    trust.fix = "The mirror serves an outdated Release (a stale mirror, or one replayed to hide "
                "updates): use another mirror and run again.";
    return false;
  }
  if (check_date && r.date && *r.date > now + max_future(entry)) {
    trust.refusal = "Release file is not valid yet (Date " + r.date_text + ")";
    trust.fix = "Check the clock of this machine, or the mirror's.";
    return false;
  }
  return true;
}

}  // namespace

ReleaseTrust judge_release(const AptSourceEntry& entry, const TrustedKeys& keys,
                           const ReleaseFiles& files, std::chrono::sys_seconds now,
                           bool check_dates) {
  ReleaseTrust trust;
  trust.signature = verify(files, keys, now);
  trust.verified = trust.signature.ok();
  trust.trusted_option = entry.trusted.value_or(false);
  std::string_view text = trust.signature.message;
  if (!trust.verified) {
    if (!trust.trusted_option) {
      trust.refusal = describe(trust.signature.verdict) + ": " + trust.signature.reason;
      trust.fix = fix_for(trust.signature.verdict, entry);
      return trust;
    }
    // trusted=yes: apt uses the file unverified; so does pycheck, and says so.
    text = files.inrelease ? *files.inrelease : files.release.value_or(std::string_view{});
  }
  auto parsed = parse_apt_release(text);
  if (!parsed) {
    trust.refusal = "not a Release file: " + parsed.error().message;
    trust.fix = fix_for(SignatureVerdict::malformed, entry);
    return trust;
  }
  trust.release = std::move(*parsed);
  if (!dates_accepted(entry, now, check_dates, trust)) trust.release.reset();
  return trust;
}

json release_details(const AptRelease& r) {
  return {{"origin", r.origin},     {"label", r.label},    {"suite", r.suite},
          {"codename", r.codename}, {"date", r.date_text}, {"valid_until", r.valid_until_text}};
}

json signature_details(const ReleaseTrust& trust, const TrustedKeys& keys,
                       std::string_view keyrings_from) {
  const SignatureCheck& sig = trust.signature;
  json keyrings = json::array();
  for (const OpenPgpKeyring& k : keys.keyrings) keyrings.push_back(k.origin);
  json out = {{"verified", trust.verified},
              {"verdict", to_string(sig.verdict)},
              {"reason", sig.reason},
              {"rule", sig.rule},
              {"signer_fingerprint", sig.signer_fingerprint},
              {"signing_key_fingerprint", sig.signing_key_fingerprint},
              {"user_id", sig.user_id},
              {"keyring", sig.keyring},
              {"issuers", sig.issuers},
              {"keyrings", keyrings},
              {"keyrings_from", keyrings_from}};
  if (!keys.fingerprints.empty()) out["signed_by_fingerprints"] = keys.fingerprints;
  if (trust.trusted_option) out["trusted_option"] = true;
  return out;
}

}  // namespace pycheck
