#include "checks/formats/openpgp_certificates.h"

#include <optional>

#include "checks/formats/openpgp_armor.h"
#include "checks/formats/openpgp_crypto.h"

namespace pycheck {
namespace {

// Bounds for hostile keyrings: what a certificate keeps (self-signatures
// come first in real keyrings; third-party certifications are never used).
constexpr std::size_t kMaxSignaturesPerComponent = 64;
constexpr std::size_t kMaxComponents = 512;

void add_signature(std::vector<OpenPgpSignature>& to, OpenPgpSignature sig) {
  if (to.size() < kMaxSignaturesPerComponent) to.push_back(std::move(sig));
}

void merge_into(OpenPgpCertificate& into, OpenPgpCertificate&& from) {
  for (OpenPgpSignature& sig : from.direct) add_signature(into.direct, std::move(sig));
  for (OpenPgpUserId& uid : from.user_ids) {
    OpenPgpUserId* same = nullptr;
    for (OpenPgpUserId& have : into.user_ids) {
      if (have.text == uid.text) same = &have;
    }
    if (same == nullptr && into.user_ids.size() < kMaxComponents) {
      into.user_ids.push_back(std::move(uid));
    } else if (same != nullptr) {
      for (OpenPgpSignature& sig : uid.signatures) add_signature(same->signatures, std::move(sig));
    }
  }
  for (OpenPgpSubkey& sub : from.subkeys) {
    OpenPgpSubkey* same = nullptr;
    for (OpenPgpSubkey& have : into.subkeys) {
      if (have.key.fingerprint == sub.key.fingerprint) same = &have;
    }
    if (same == nullptr && into.subkeys.size() < kMaxComponents) {
      into.subkeys.push_back(std::move(sub));
    } else if (same != nullptr) {
      for (OpenPgpSignature& sig : sub.signatures) add_signature(same->signatures, std::move(sig));
    }
  }
}

void finish(std::optional<OpenPgpCertificate>& cert, OpenPgpKeyrings& out) {
  if (!cert) return;
  const auto [it, inserted] =
      out.by_fingerprint.try_emplace(cert->primary.fingerprint, out.certificates.size());
  if (inserted) {
    out.certificates.push_back(std::move(*cert));
  } else {
    merge_into(out.certificates[it->second], std::move(*cert));
  }
  cert.reset();
}

void read_packets(std::string_view bytes, std::string_view origin, OpenPgpKeyrings& out) {
  OpenPgpPacketReader reader(bytes);
  OpenPgpPacket packet;
  std::optional<OpenPgpCertificate> cert;
  enum class Last { primary, user_id, other_component, subkey } last = Last::primary;
  bool skipping = false;  // inside a certificate this reader does not use (not v4)
  while (reader.next(packet)) {
    if (packet.tag == pgp::kTagPublicKey) {
      finish(cert, out);
      std::optional<OpenPgpPublicKey> key = parse_public_key(packet.body);
      skipping = !key;
      if (key) {
        cert.emplace();
        cert->primary = std::move(*key);
        cert->origin.assign(origin);
        last = Last::primary;
      }
      continue;
    }
    if (skipping || !cert) continue;
    if (packet.tag == pgp::kTagUserId) {
      last = Last::other_component;
      if (cert->user_ids.size() < kMaxComponents) {
        cert->user_ids.push_back({std::string(packet.body), {}});
        last = Last::user_id;
      }
    } else if (packet.tag == pgp::kTagPublicSubkey) {
      std::optional<OpenPgpPublicKey> key = parse_public_key(packet.body);
      last = Last::other_component;
      if (key && cert->subkeys.size() < kMaxComponents) {
        cert->subkeys.push_back({std::move(*key), {}});
        last = Last::subkey;
      }
    } else if (packet.tag == 17) {  // user attribute (photo): its signatures are not used
      last = Last::other_component;
    } else if (packet.tag == pgp::kTagSignature) {
      std::optional<OpenPgpSignature> sig = parse_signature(packet.body);
      if (!sig) continue;  // v3 or unknown versions: skipped as gpg does
      if (last == Last::primary) add_signature(cert->direct, std::move(*sig));
      if (last == Last::user_id) add_signature(cert->user_ids.back().signatures, std::move(*sig));
      if (last == Last::subkey) add_signature(cert->subkeys.back().signatures, std::move(*sig));
    }
    // Trust (12), marker (10), padding (21) and others: skipped.
  }
  finish(cert, out);
  if (!reader.error().empty()) {
    out.problems.push_back(std::string(origin) + ": rest ignored: " + reader.error());
  }
}

}  // namespace

void read_openpgp_keyring(std::string_view bytes, std::string_view origin, OpenPgpKeyrings& out) {
  if (bytes.empty()) return;
  const auto first = static_cast<unsigned char>(bytes.front());
  if (first == 0x98 || first == 0x99 || first == 0xC6) {
    read_packets(bytes, origin, out);
    return;
  }
  if (bytes.find("-----BEGIN PGP PUBLIC KEY BLOCK-----") != std::string_view::npos) {
    auto decoded = dearmor_all(bytes, "PUBLIC KEY BLOCK");
    if (!decoded) {
      out.problems.push_back(std::string(origin) + ": ignored: " + decoded.error().message);
      return;
    }
    read_packets(*decoded, origin, out);
    return;
  }
  out.problems.push_back(std::string(origin) +
                         ": ignored: not an OpenPGP keyring (apt skips such files)");
}

}  // namespace pycheck
