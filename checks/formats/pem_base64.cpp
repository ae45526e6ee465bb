#include "checks/formats/pem_base64.h"

#include <array>
#include <cstdint>

namespace pycheck {
namespace {

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

}  // namespace

std::optional<std::string> decode_pem_base64(std::string_view body) {
  // Sized once and written through a pointer: a push_back per byte was a
  // third of the time, and indexing `out` reloaded its buffer at every byte.
  std::string out(body.size() / 4 * 3 + 3, '\0');
  char* written = out.data();
  std::uint32_t bits = 0;
  std::size_t symbols = 0;  // base64 characters and '=' seen
  std::size_t padding = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(body.data());
  const auto* const end = p + body.size();
  while (p < end) {
    // Whole quads of base64 characters, the bulk of every line, at once; the
    // rest (line breaks, padding, a quad split across lines) one by one below.
    if (symbols % 4 == 0 && padding == 0) {
      while (end - p >= 4) {
        // A value that is not a symbol is negative and keeps its sign bit
        // through the shift, so a negative quad means "not four symbols".
        const std::int32_t quad = kBase64Values[p[0]] * (1 << 18) |
                                  kBase64Values[p[1]] * (1 << 12) | kBase64Values[p[2]] * (1 << 6) |
                                  kBase64Values[p[3]];
        if (quad < 0) break;
        written[0] = static_cast<char>(quad >> 16);
        written[1] = static_cast<char>(quad >> 8);
        written[2] = static_cast<char>(quad);
        written += 3;
        symbols += 4;
        p += 4;
      }
      if (p == end) break;
    }
    const signed char value = kBase64Values[*p++];
    if (value >= 0) {
      if (padding > 0) return std::nullopt;
      bits = (bits << 6) | static_cast<std::uint32_t>(value);
      if (++symbols % 4 == 0) {
        written[0] = static_cast<char>(bits >> 16);
        written[1] = static_cast<char>(bits >> 8);
        written[2] = static_cast<char>(bits);
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
    *written++ = static_cast<char>(bits >> 10);
    *written++ = static_cast<char>(bits >> 2);
  } else if (padding == 2) {  // 2 symbols: 12 bits, 1 byte
    *written++ = static_cast<char>(bits >> 4);
  }
  out.resize(static_cast<std::size_t>(written - out.data()));
  return out;
}

}  // namespace pycheck
