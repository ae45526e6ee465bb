// The keys apt trusts for one source, read from the inspected root the way
// apt picks them (apt-pkg/deb/debmetaindex.cc, apt-pkg/contrib/gpgv.cc;
// shared notes, inrelease-signatures.md section 1):
//  1. an inline key block in a deb822 Signed-By is the only keyring;
//  2. else Signed-By paths are the keyrings (a missing one is an error: apt
//     never falls back), its fingerprints restrict the signers;
//  3. else /etc/apt/trusted.gpg.d/*.gpg|*.asc in name order, and
//     /etc/apt/trusted.gpg where the root's apt is 2.x (apt 3.0 reads it only
//     when configured to).
#pragma once

#include <string>
#include <vector>

#include "agent/core/result.h"
#include "checks/formats/apt_sources.h"
#include "checks/formats/openpgp_verify.h"

namespace pycheck {

class DpkgDatabase;
class RootFs;

struct SourceKeys {
  TrustedKeys keys;
  std::string rule;  // "Signed-By (inline key)", "Signed-By", "trusted.gpg.d" (how apt chose)
};

// The trusted keys of `entry`. Errors: a Signed-By item that is neither an
// absolute path nor a fingerprint, a Signed-By keyring that is missing or
// unreadable, or the deadline.
Result<SourceKeys> apt_keys_for(const RootFs& fs, const DpkgDatabase& db,
                                const AptSourceEntry& entry);

}  // namespace pycheck
