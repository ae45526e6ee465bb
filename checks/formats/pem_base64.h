// Base64 decoding of a PEM block's body (pure: text in, bytes out).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pycheck {

// Decodes the base64 body of a block, blanks and line breaks ignored, as
// OpenSSL's PEM reader does. Strict otherwise: an unknown character, data
// after padding, or a length that is not a whole number of quads fails.
// (Not mbedtls_base64_decode: its constant-time decoding, meant for secrets,
// was half the time spent on a 144-certificate bundle, and it refuses blanks
// inside a line, which OpenSSL accepts.)
std::optional<std::string> decode_pem_base64(std::string_view body);

}  // namespace pycheck
