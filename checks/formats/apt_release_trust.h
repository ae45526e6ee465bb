// Whether apt would use a repository's Release file, and its values if so
// (pure: bytes in, verdict out). The signature is verified first
// (openpgp_verify.h) and only the verified bytes are parsed, as apt does;
// then apt's date rules (apt-pkg/acquire-item.cc, sources.list(5)):
//  * Valid-Until in the past: "Release file ... is expired" (check-valid-until);
//  * Date more than Date-Max-Future (10 s) ahead: "not valid yet" (check-date,
//    which when "no" disables both rules).
// trusted=yes makes apt skip the signature: the values are parsed unverified
// and the result says so.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "agent/core/check.h"
#include "checks/formats/apt_release.h"
#include "checks/formats/apt_sources.h"
#include "checks/formats/openpgp_verify.h"

namespace pycheck {

// The Release files of one source as found: InRelease, or Release with Release.gpg.
struct ReleaseFiles {
  std::string name;  // for messages: the InRelease (or Release) list file or URL
  std::optional<std::string_view> inrelease;
  std::optional<std::string_view> release;
  std::optional<std::string_view> release_gpg;
};

struct ReleaseTrust {
  std::optional<AptRelease> release;  // set when apt would use the file
  bool verified = false;              // the signature was verified
  bool trusted_option = false;        // trusted=yes: accepted without verifying, as apt does
  SignatureCheck signature;           // the verifier's verdict (unset under trusted=yes)
  // When apt refuses the file: the cause in apt's words, and what to do.
  std::string refusal;
  std::string fix;
  // Valid-Until has passed (reported as a refusal when dates are checked,
  // else only noted so the caller can say the lists may be outdated).
  bool expired = false;
};

// `check_dates`: apply the date rules as refusals (a download, as apt does on
// `apt-get update`); false for lists apt accepted when it fetched them.
ReleaseTrust judge_release(const AptSourceEntry& entry, const TrustedKeys& keys,
                           const ReleaseFiles& files, std::chrono::sys_seconds now,
                           bool check_dates);

// The report's view of a Release: origin, label, suite, codename, dates.
json release_details(const AptRelease& release);

// The report's view of a judged signature: verdict, reason, rule, signer,
// keyring, issuers, the keyrings tried and how apt chose them (`keyrings_from`).
json signature_details(const ReleaseTrust& trust, const TrustedKeys& keys,
                       std::string_view keyrings_from);

}  // namespace pycheck
