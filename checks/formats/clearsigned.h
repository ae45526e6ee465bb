// The OpenPGP cleartext signature framework split as apt splits it
// (apt-pkg/contrib/gpgv.cc SplitClearSignedFile; RFC 9580 section 7). Pure:
// bytes in, the signed message and its signature blocks out; no crypto.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"

namespace pycheck {

inline constexpr std::string_view kPgpBeginSignedMessage = "-----BEGIN PGP SIGNED MESSAGE-----";
inline constexpr std::string_view kPgpBeginSignature = "-----BEGIN PGP SIGNATURE-----";
inline constexpr std::string_view kPgpEndSignature = "-----END PGP SIGNATURE-----";

struct ClearsignedParts {
  // The signed text as apt writes it out: trailing blanks and "\r" removed
  // from every line, "- " escapes removed, lines joined by "\n" with a final "\n".
  std::string message;
  // Each signature block's lines between BEGIN and END (armor headers, the
  // base64 and the CRC line), for the armor reader.
  std::vector<std::vector<std::string_view>> signature_blocks;
  std::size_t lines_before_body = 0;  // file line n of the body is n + this
};

// apt's strictness: the first line is the BEGIN line; armor headers are
// "Hash:" lines up to an empty line; in the text a line starting with '-' is
// a "- " escape or the BEGIN SIGNATURE line; a bare CR or a NUL in a line is
// refused; after the signature only further signature blocks (or blank
// lines). Errors start with "clearsigned message: ". The views point into `text`.
Result<ClearsignedParts> split_clearsigned(std::string_view text);

// What a type 0x01 signature hashes: the message with "\n" as "\r\n" and no
// final line ending.
std::string canonical_cleartext(std::string_view message);

// True when `text` starts as a clearsigned message.
bool starts_clearsigned(std::string_view text);

}  // namespace pycheck
