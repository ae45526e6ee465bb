// Reader of PEM certificate bundles (pure: bytes in, certificates out).
//
// A CA bundle (/etc/ssl/certs/ca-certificates.crt and its kin) is a list of
// "-----BEGIN CERTIFICATE-----" ... "-----END CERTIFICATE-----" blocks; text
// outside blocks is ignored, as OpenSSL ignores it. Each block is
// base64-decoded and parsed with mbedTLS. A certificate block that cannot be
// decoded or parsed, or that never ends, is "garbage": OpenSSL 3 (and so
// Python's ssl.create_default_context()) then loads no certificate at all
// from the file, not just skips the block.
//
// "TRUSTED CERTIFICATE" and "X509 CERTIFICATE" blocks count as certificates
// (OpenSSL reads them too); blocks of other types (CRLs, keys) are counted and
// otherwise ignored.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace pycheck {

// Second precision: a system_clock time_point in nanoseconds cannot hold the
// year 9999 used by "no well-defined expiration" certificates (RFC 5280).
using UtcSeconds = std::chrono::sys_seconds;

struct Certificate {
  std::size_t block = 0;  // 0-based index among the certificate blocks of the bundle
  std::size_t line = 0;   // 1-based line of its BEGIN line
  UtcSeconds not_before{};
  UtcSeconds not_after{};
  // Empty when mbedTLS parsed the certificate fully. Otherwise the mbedTLS
  // error (an algorithm or extension it does not support) after which only
  // the names and dates were read from a well-formed DER structure.
  std::string partial_parse_reason;
  // The certificate's DER bytes (its outer SEQUENCE, what the fingerprint
  // covers), shared by copies. Equal bytes are the same certificate.
  std::shared_ptr<const std::string> der;

  // Names and fingerprint: filled by describe_certificate(), which
  // parse_pem_bundle (CertificateDetail::full) and parse_der_certificate call;
  // empty until then. Formatting names and hashing costs more than parsing,
  // so a caller that reports only a few certificates describes only those.
  std::string subject;  // "C=US, O=Example, CN=Example Root", as mbedtls_x509_dn_gets writes it
  std::string issuer;
  std::string sha256;  // lowercase hex SHA-256 of `der` (the fingerprint)
};

struct GarbageBlock {
  std::size_t block = 0;  // 0-based index among the certificate blocks
  std::size_t line = 0;   // 1-based line of its BEGIN line
  std::string reason;     // "invalid base64", "no END line", or the DER parse error
};

struct PemBundle {
  std::size_t certificate_blocks = 0;  // BEGIN lines of certificate blocks
  std::vector<Certificate> certificates;
  std::vector<GarbageBlock> garbage;
  std::size_t other_blocks = 0;  // complete PEM blocks of other types
};

// What parse_pem_bundle concluded about each distinct certificate, so a
// certificate met twice (a CA bundle and the hashed directory beside it hold
// the same ones) is parsed once. Keyed by the block's decoded bytes, which the
// memo keeps (for a certificate without trailing bytes, the same string as its
// `der`): equal bytes, the same answer. Not thread-safe: one per run of a check.
class DerParseMemo {
 public:
  struct Parsed {
    std::string reason;  // why the block is garbage; empty for a certificate
    Certificate cert;    // dates and DER, not described (block and line are the caller's)
  };
  const Parsed& parse(std::shared_ptr<const std::string> decoded);

 private:
  struct Entry {
    std::shared_ptr<const std::string> decoded;  // what the key views
    Parsed parsed;
  };
  std::map<std::string_view, Entry> parsed_;
};

// What parse_pem_bundle fills in each Certificate.
enum class CertificateDetail {
  full,     // everything, names and fingerprint included
  minimal,  // subject, issuer and sha256 left empty: describe_certificate() fills them
};

// Splits `text` into PEM blocks and parses every certificate block (through
// `memo` when given). Never throws; certificate_blocks == certificates.size() + garbage.size().
PemBundle parse_pem_bundle(std::string_view text, DerParseMemo* memo = nullptr,
                           CertificateDetail detail = CertificateDetail::full);

// Parses one DER certificate (as found in a certificate block); `out` gets
// the dates, DER, names and fingerprint. Returns an empty string on success,
// the reason otherwise.
std::string parse_der_certificate(std::string_view der, Certificate& out);

// Fills subject, issuer and sha256 of a certificate parse_pem_bundle or
// parse_der_certificate accepted (from its `der`); nothing to do when they
// are filled already.
void describe_certificate(Certificate& cert);

// A certificate is expired when its notAfter is before `now`, and not yet
// valid when its notBefore is after `now`.
bool is_expired(const Certificate& cert, std::chrono::system_clock::time_point now);
bool is_not_yet_valid(const Certificate& cert, std::chrono::system_clock::time_point now);

// "2020-01-01T00:00:00Z".
std::string format_utc(UtcSeconds time);

}  // namespace pycheck
