#include "checks/pem_bundle.h"

#include <mbedtls/asn1.h>
#include <mbedtls/error.h>
#include <mbedtls/platform.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509.h>
#include <mbedtls/x509_crt.h>
#include <string.h>  // memmem

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <optional>

namespace pycheck {
namespace {

using namespace std::chrono;

constexpr std::string_view kBlanks = " \t\r\f\v";

std::string_view trim(std::string_view s) {
  const std::size_t first = s.find_first_not_of(kBlanks);
  if (first == std::string_view::npos) return {};
  const std::size_t last = s.find_last_not_of(kBlanks);
  return s.substr(first, last - first + 1);
}

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
// refuses a well-formed certificate it does not fully support.
bool read_names_and_dates(std::string_view der, Certificate& out) {
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
    out.issuer = dn_string(issuer);
    out.subject = dn_string(subject);
    out.not_before = *not_before;
    out.not_after = *not_after;
    out.sha256 = sha256_hex(cert_start, static_cast<std::size_t>(cert_end - cert_start));
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

// One lookup per character: its 6-bit value, or one of these.
constexpr signed char kInvalid = -1;
constexpr signed char kBlank = -2;    // ignored, as OpenSSL's PEM reader does
constexpr signed char kPadding = -3;  // '='

constexpr std::array<signed char, 256> kBase64Values = [] {
  std::array<signed char, 256> table{};
  table.fill(kInvalid);
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<signed char>(i);
  }
  for (char c : std::string_view(" \n\t\r\f\v")) table[static_cast<unsigned char>(c)] = kBlank;
  table['='] = kPadding;
  return table;
}();

// Decodes the base64 body of a block, blanks and line breaks ignored, as
// OpenSSL's PEM reader does. Strict otherwise: an unknown character, data
// after padding, or a length that is not a whole number of quads fails.
// (Not mbedtls_base64_decode: its constant-time decoding, meant for secrets,
// was half the time spent on a 144-certificate bundle.)
std::optional<std::string> decode_base64(std::string_view body) {
  // Sized once and written by index: a push_back per byte was a third of the time.
  std::string out(body.size() / 4 * 3 + 3, '\0');
  std::size_t written = 0;
  std::uint32_t bits = 0;
  std::size_t symbols = 0;  // base64 characters and '=' seen
  std::size_t padding = 0;
  for (char c : body) {
    const signed char value = kBase64Values[static_cast<unsigned char>(c)];
    if (value >= 0) {
      if (padding > 0) return std::nullopt;
      bits = (bits << 6) | static_cast<std::uint32_t>(value);
      if (++symbols % 4 == 0) {
        out[written] = static_cast<char>(bits >> 16);
        out[written + 1] = static_cast<char>(bits >> 8);
        out[written + 2] = static_cast<char>(bits);
        written += 3;
        bits = 0;
      }
    } else if (value == kPadding) {
      ++symbols;
      ++padding;
    } else if (value != kBlank) {
      return std::nullopt;
    }
  }
  if (symbols == 0 || symbols % 4 != 0 || padding > 2) return std::nullopt;
  if (padding == 1) {  // the last quad held 3 symbols: 18 bits, 2 bytes
    out[written++] = static_cast<char>(bits >> 10);
    out[written++] = static_cast<char>(bits >> 2);
  } else if (padding == 2) {  // 2 symbols: 12 bits, 1 byte
    out[written++] = static_cast<char>(bits >> 4);
  }
  out.resize(written);
  return out;
}

}  // namespace

std::string parse_der_certificate(std::string_view der, Certificate& out) {
  mbedtls_x509_crt crt;
  mbedtls_x509_crt_init(&crt);
  const int ret = mbedtls_x509_crt_parse_der(
      &crt, reinterpret_cast<const unsigned char*>(der.data()), der.size());
  std::string reason;
  if (ret == 0) {
    auto not_before = to_utc(crt.valid_from);
    auto not_after = to_utc(crt.valid_to);
    if (not_before && not_after) {
      out.subject = dn_string(crt.subject);
      out.issuer = dn_string(crt.issuer);
      out.not_before = *not_before;
      out.not_after = *not_after;
      out.sha256 = sha256_hex(crt.raw.p, crt.raw.len);
    } else {
      reason = "invalid validity dates";
    }
  } else if (is_unsupported_feature(ret) && read_names_and_dates(der, out)) {
    out.partial_parse_reason = mbedtls_message(ret);
  } else {
    reason = mbedtls_message(ret);
  }
  mbedtls_x509_crt_free(&crt);
  return reason;
}

const DerParseMemo::Parsed& DerParseMemo::parse(const std::string& der) {
  if (auto it = parsed_.find(der); it != parsed_.end()) return it->second;
  Parsed parsed;
  parsed.reason = parse_der_certificate(der, parsed.cert);
  return parsed_.emplace(der, std::move(parsed)).first->second;
}

PemBundle parse_pem_bundle(std::string_view text, DerParseMemo* memo) {
  PemBundle bundle;
  std::optional<std::string_view> open_label;  // label of the block being read
  bool open_is_certificate = false;
  std::size_t open_line = 0;
  std::size_t body_start = 0;

  auto garbage = [&](std::size_t line, std::string reason) {
    bundle.garbage.push_back({bundle.certificate_blocks - 1, line, std::move(reason)});
  };

  // Only lines holding "-----" matter: jump from one to the next (memmem)
  // instead of trimming every base64 line, counting line breaks on the way.
  std::size_t pos = 0;          // always the start of a line
  std::size_t line_number = 0;  // 1-based number of the line before `pos`
  while (pos < text.size()) {
    const void* dashes = ::memmem(text.data() + pos, text.size() - pos, "-----", 5);
    if (dashes == nullptr) break;
    const std::size_t at = static_cast<std::size_t>(static_cast<const char*>(dashes) - text.data());
    const std::size_t previous_break = text.rfind('\n', at);
    const std::size_t line_start =
        previous_break == std::string_view::npos || previous_break < pos ? pos : previous_break + 1;
    line_number += 1 + static_cast<std::size_t>(
                           std::count(text.begin() + pos, text.begin() + line_start, '\n'));
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
    const auto der = decode_base64(text.substr(body_start, line_start - body_start));
    if (!der) {
      garbage(open_line, "invalid base64");
      continue;
    }
    Certificate cert;
    std::string reason;
    if (memo != nullptr) {
      const DerParseMemo::Parsed& parsed = memo->parse(*der);
      cert = parsed.cert;
      reason = parsed.reason;
    } else {
      reason = parse_der_certificate(*der, cert);
    }
    cert.block = bundle.certificate_blocks - 1;
    cert.line = open_line;
    if (!reason.empty()) {
      garbage(open_line, std::move(reason));
      continue;
    }
    bundle.certificates.push_back(std::move(cert));
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
