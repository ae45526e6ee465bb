#include "checks/formats/pem_bundle.h"

#include <mbedtls/asn1.h>
#include <mbedtls/error.h>
#include <mbedtls/platform.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509.h>
#include <mbedtls/x509_crt.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>

#include "agent/core/text.h"
#include "checks/formats/pem_base64.h"

namespace pycheck {
namespace {

using namespace std::chrono;

std::string mbedtls_message(int code) {
  std::array<char, 200> buf{};
  mbedtls_strerror(code, buf.data(), buf.size());
  char hex[16];
  std::snprintf(hex, sizeof hex, "-0x%04X", static_cast<unsigned>(-code));
  return std::string(buf.data()) + " (" + hex + ")";
}

std::optional<UtcSeconds> to_utc(const mbedtls_x509_time& t) {
  if (t.hour < 0 || t.hour > 23 || t.min < 0 || t.min > 59 || t.sec < 0 || t.sec > 60) {
    return std::nullopt;
  }
  const year_month_day date{year{t.year}, month{static_cast<unsigned>(t.mon)},
                            day{static_cast<unsigned>(t.day)}};
  if (!date.ok()) return std::nullopt;
  return sys_days{date} + hours{t.hour} + minutes{t.min} + seconds{t.sec};
}

std::string dn_string(const mbedtls_x509_name& name) {
  std::string buf(1024, '\0');
  int n = mbedtls_x509_dn_gets(buf.data(), buf.size(), &name);
  if (n < 0) {  // longer than 1 KiB: rare, but names can be
    buf.assign(16384, '\0');
    n = mbedtls_x509_dn_gets(buf.data(), buf.size(), &name);
  }
  buf.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
  return buf;
}

std::string sha256_hex(const unsigned char* data, std::size_t size) {
  std::array<unsigned char, 32> digest{};
  mbedtls_sha256_ret(data, size, digest.data(), 0);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (unsigned char byte : digest) {
    out.push_back(kHex[byte >> 4]);
    out.push_back(kHex[byte & 15]);
  }
  return out;
}

// mbedtls_x509_get_name links extra nodes that the caller frees.
void free_name_chain(mbedtls_x509_name& name) {
  mbedtls_x509_name* node = name.next;
  while (node != nullptr) {
    mbedtls_x509_name* next = node->next;
    mbedtls_free(node);
    node = next;
  }
  name.next = nullptr;
}

// Reads only what the check needs (issuer, validity, subject) from a DER
// Certificate, without judging algorithms or extensions: used when mbedTLS
// refuses a well-formed certificate it does not fully support. Sets the dates
// of `out`, and the names too when `with_names`; `size` gets the length of
// the certificate (its outer SEQUENCE) within `der`.
bool read_names_and_dates(std::string_view der, Certificate& out, bool with_names,
                          std::size_t& size) {
  std::vector<unsigned char> buf(der.begin(), der.end());
  unsigned char* p = buf.data();
  const unsigned char* end = buf.data() + buf.size();
  std::size_t len = 0;
  constexpr int kSeq = MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE;
  if (mbedtls_asn1_get_tag(&p, end, &len, kSeq) != 0) return false;
  const unsigned char* cert_start = buf.data();
  const unsigned char* cert_end = p + len;
  if (mbedtls_asn1_get_tag(&p, cert_end, &len, kSeq) != 0) return false;  // TBSCertificate
  const unsigned char* tbs_end = p + len;
  if (mbedtls_asn1_get_tag(&p, tbs_end, &len,
                           MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0) == 0) {
    p += len;  // [0] version
  }
  if (mbedtls_asn1_get_tag(&p, tbs_end, &len, MBEDTLS_ASN1_INTEGER) != 0) return false;
  p += len;  // serialNumber
  if (mbedtls_asn1_get_tag(&p, tbs_end, &len, kSeq) != 0) return false;
  p += len;  // signature AlgorithmIdentifier

  mbedtls_x509_name issuer{};
  mbedtls_x509_name subject{};
  mbedtls_x509_time from{};
  mbedtls_x509_time to{};
  bool ok = mbedtls_asn1_get_tag(&p, tbs_end, &len, kSeq) == 0 &&
            mbedtls_x509_get_name(&p, p + len, &issuer) == 0 &&
            mbedtls_asn1_get_tag(&p, tbs_end, &len, kSeq) == 0 &&
            mbedtls_x509_get_time(&p, p + len, &from) == 0 &&
            mbedtls_x509_get_time(&p, tbs_end, &to) == 0 &&
            mbedtls_asn1_get_tag(&p, tbs_end, &len, kSeq) == 0 &&
            mbedtls_x509_get_name(&p, p + len, &subject) == 0;
  std::optional<UtcSeconds> not_before;
  std::optional<UtcSeconds> not_after;
  if (ok) {
    not_before = to_utc(from);
    not_after = to_utc(to);
    ok = not_before && not_after;
  }
  if (ok) {
    if (with_names) {
      out.issuer = dn_string(issuer);
      out.subject = dn_string(subject);
    }
    out.not_before = *not_before;
    out.not_after = *not_after;
    size = static_cast<std::size_t>(cert_end - cert_start);
  }
  free_name_chain(issuer);
  free_name_chain(subject);
  return ok;
}

// mbedTLS errors that mean "not supported here" rather than "not a certificate".
bool is_unsupported_feature(int code) {
  const int high = -((-code) & 0xFF80);
  const int low = -((-code) & 0x007F);
  for (int part : {high, low, code}) {
    switch (part) {
      case MBEDTLS_ERR_X509_UNKNOWN_SIG_ALG:
      case MBEDTLS_ERR_X509_FEATURE_UNAVAILABLE:
      case MBEDTLS_ERR_X509_UNKNOWN_OID:
      case MBEDTLS_ERR_X509_INVALID_EXTENSIONS:
      case MBEDTLS_ERR_PK_UNKNOWN_PK_ALG:
      case MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE:
      case MBEDTLS_ERR_PK_UNKNOWN_NAMED_CURVE:
      case MBEDTLS_ERR_PK_INVALID_PUBKEY:
      case MBEDTLS_ERR_PK_KEY_INVALID_FORMAT:
        return true;
      default:
        break;
    }
  }
  return false;
}

bool is_certificate_label(std::string_view label) {
  return label == "CERTIFICATE" || label == "TRUSTED CERTIFICATE" || label == "X509 CERTIFICATE";
}

// "-----BEGIN X-----" -> "X" (likewise END); nullopt when the line is not one.
std::optional<std::string_view> pem_label(std::string_view line, std::string_view kind) {
  constexpr std::string_view kDashes = "-----";
  if (!line.starts_with(kDashes) || !line.ends_with(kDashes)) return std::nullopt;
  line = line.substr(kDashes.size(), line.size() - 2 * kDashes.size());
  if (!line.starts_with(kind) || line.size() <= kind.size() || line[kind.size()] != ' ') {
    return std::nullopt;
  }
  return line.substr(kind.size() + 1);
}

// Line breaks in text[from, to).
std::size_t count_line_breaks(std::string_view text, std::size_t from, std::size_t to) {
  std::size_t count = 0;
  const char* p = text.data() + from;
  const char* const end = text.data() + to;
  while ((p = static_cast<const char*>(std::memchr(p, '\n', end - p))) != nullptr) {
    ++count;
    ++p;
  }
  return count;
}

// Parses a DER certificate as far as its verdict and dates need: `out` gets
// the dates, the DER and partial_parse_reason, not the names or fingerprint.
// Returns an empty string on success, the reason otherwise.
std::string parse_undescribed(std::shared_ptr<const std::string> der, Certificate& out) {
  // What follows the certificate's outer SEQUENCE is not part of it (mbedTLS
  // ignores it too): `der` is shared as is unless there is such a tail.
  auto keep_certificate = [&der, &out](std::size_t size) {
    out.der = size == der->size() ? std::move(der)
                                  : std::make_shared<const std::string>(der->substr(0, size));
  };
  mbedtls_x509_crt crt;
  mbedtls_x509_crt_init(&crt);
  const int ret = mbedtls_x509_crt_parse_der_nocopy(
      &crt, reinterpret_cast<const unsigned char*>(der->data()), der->size());
  std::size_t size = 0;
  std::string reason;
  if (ret == 0) {
    auto not_before = to_utc(crt.valid_from);
    auto not_after = to_utc(crt.valid_to);
    if (not_before && not_after) {
      out.not_before = *not_before;
      out.not_after = *not_after;
      keep_certificate(crt.raw.len);
    } else {
      reason = "invalid validity dates";
    }
  } else if (is_unsupported_feature(ret) && read_names_and_dates(*der, out, false, size)) {
    out.partial_parse_reason = mbedtls_message(ret);
    keep_certificate(size);
  } else {
    reason = mbedtls_message(ret);
  }
  mbedtls_x509_crt_free(&crt);
  return reason;
}

// A certificate block's verdict from its decoded bytes.
DerParseMemo::Parsed parse_decoded(std::shared_ptr<const std::string> decoded) {
  DerParseMemo::Parsed parsed;
  parsed.reason = parse_undescribed(std::move(decoded), parsed.cert);
  return parsed;
}

}  // namespace

std::string parse_der_certificate(std::string_view der, Certificate& out) {
  std::string reason = parse_undescribed(std::make_shared<const std::string>(der), out);
  if (reason.empty()) describe_certificate(out);
  return reason;
}

void describe_certificate(Certificate& cert) {
  if (!cert.sha256.empty() || cert.der == nullptr) return;
  const std::string& der = *cert.der;
  const auto* bytes = reinterpret_cast<const unsigned char*>(der.data());
  // The names as the parse that accepted the certificate read them: mbedTLS's
  // for a full parse, pycheck's own walk for a partial one.
  mbedtls_x509_crt crt;
  mbedtls_x509_crt_init(&crt);
  if (cert.partial_parse_reason.empty() &&
      mbedtls_x509_crt_parse_der_nocopy(&crt, bytes, der.size()) == 0) {
    cert.subject = dn_string(crt.subject);
    cert.issuer = dn_string(crt.issuer);
  } else {
    Certificate names;
    std::size_t size = 0;
    if (read_names_and_dates(der, names, true, size)) {
      cert.subject = std::move(names.subject);
      cert.issuer = std::move(names.issuer);
    }
  }
  mbedtls_x509_crt_free(&crt);
  cert.sha256 = sha256_hex(bytes, der.size());
}

const DerParseMemo::Parsed& DerParseMemo::parse(std::shared_ptr<const std::string> decoded) {
  if (auto it = parsed_.find(*decoded); it != parsed_.end()) return it->second.parsed;
  const std::string_view key = *decoded;
  Entry entry{decoded, parse_decoded(decoded)};
  return parsed_.emplace(key, std::move(entry)).first->second.parsed;
}

PemBundle parse_pem_bundle(std::string_view text, DerParseMemo* memo, CertificateDetail detail) {
  PemBundle bundle;
  std::optional<std::string_view> open_label;  // label of the block being read
  bool open_is_certificate = false;
  std::size_t open_line = 0;
  std::size_t body_start = 0;

  auto garbage = [&](std::size_t line, std::string reason) {
    bundle.garbage.push_back({bundle.certificate_blocks - 1, line, std::move(reason)});
  };

  // Only lines starting with "-----" matter, and base64 has no '-': jump from
  // one '-' to the next (memchr), counting line breaks on the way.
  std::size_t pos = 0;          // always the start of a line
  std::size_t line_number = 0;  // 1-based number of the line before `pos`
  while (pos < text.size()) {
    const void* dash = std::memchr(text.data() + pos, '-', text.size() - pos);
    if (dash == nullptr) break;
    const std::size_t at = static_cast<std::size_t>(static_cast<const char*>(dash) - text.data());
    const std::size_t previous_break = text.rfind('\n', at);
    const std::size_t line_start =
        previous_break == std::string_view::npos || previous_break < pos ? pos : previous_break + 1;
    line_number += 1 + count_line_breaks(text, pos, line_start);
    std::size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = trim(text.substr(line_start, end - line_start));
    pos = end + 1;
    if (!line.starts_with("-----")) continue;

    if (auto begin = pem_label(line, "BEGIN")) {
      if (open_label && open_is_certificate) garbage(open_line, "no END line before next BEGIN");
      open_label = *begin;
      open_is_certificate = is_certificate_label(*begin);
      open_line = line_number;
      body_start = pos;
      if (open_is_certificate) ++bundle.certificate_blocks;
      continue;
    }
    auto end_label = pem_label(line, "END");
    if (!end_label || !open_label) continue;
    if (*end_label != *open_label) {
      if (open_is_certificate) garbage(open_line, "END line does not match BEGIN line");
      open_label.reset();
      continue;
    }
    open_label.reset();
    if (!open_is_certificate) {
      ++bundle.other_blocks;
      continue;
    }
    auto decoded = decode_pem_base64(text.substr(body_start, line_start - body_start));
    if (!decoded) {
      garbage(open_line, "invalid base64");
      continue;
    }
    auto der = std::make_shared<const std::string>(std::move(*decoded));
    DerParseMemo::Parsed unmemoized;
    if (memo == nullptr) unmemoized = parse_decoded(std::move(der));
    const DerParseMemo::Parsed& parsed = memo != nullptr ? memo->parse(std::move(der)) : unmemoized;
    if (!parsed.reason.empty()) {
      garbage(open_line, parsed.reason);
      continue;
    }
    Certificate& cert = bundle.certificates.emplace_back(parsed.cert);
    cert.block = bundle.certificate_blocks - 1;
    cert.line = open_line;
    if (detail == CertificateDetail::full) describe_certificate(cert);
  }
  if (open_label && open_is_certificate) garbage(open_line, "no END line (truncated)");
  return bundle;
}

bool is_expired(const Certificate& cert, std::chrono::system_clock::time_point now) {
  return cert.not_after < floor<seconds>(now);
}

bool is_not_yet_valid(const Certificate& cert, std::chrono::system_clock::time_point now) {
  return cert.not_before > floor<seconds>(now);
}

std::string format_utc(UtcSeconds time) {
  const sys_days date = floor<days>(time);
  const year_month_day ymd{date};
  const hh_mm_ss<seconds> clock{time - date};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
                static_cast<int>(clock.seconds().count()));
  return buf;
}

}  // namespace pycheck
