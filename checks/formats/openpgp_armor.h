// OpenPGP ASCII armor (RFC 9580 section 6): base64 with an optional CRC24
// line. Pure: text in, bytes out.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/result.h"

namespace pycheck {

// The CRC24 of RFC 9580 section 6.1 (init 0xB704CE, polynomial 0x864CFB).
std::uint32_t openpgp_crc24(std::string_view bytes);

// The bytes of one armored block given its lines between the BEGIN and END
// lines: "Key: value" armor headers ended by an empty line (the empty line
// alone when there are none), base64 lines (blanks ignored), then an optional
// "=XXXX" CRC24 line that must match. Errors start with "armor: ".
Result<std::string> dearmor_block(const std::vector<std::string_view>& lines);

// Every "-----BEGIN PGP <label>-----" ... "-----END PGP <label>-----" block of
// a text (an .asc keyring, an armored Release.gpg), decoded and concatenated.
// Text outside the blocks is ignored, as gpg does. No block is an error.
Result<std::string> dearmor_all(std::string_view text, std::string_view label);

}  // namespace pycheck
