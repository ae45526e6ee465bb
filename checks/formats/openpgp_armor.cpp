#include "checks/formats/openpgp_armor.h"

#include <array>
#include <optional>

#include "checks/formats/pem_base64.h"

namespace pycheck {
namespace {

constexpr std::array<std::uint32_t, 256> kCrc24Table = [] {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t crc = i << 16;
    for (int bit = 0; bit < 8; ++bit) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x864CFB;
    }
    table[i] = crc & 0xFFFFFF;
  }
  return table;
}();

Error armor_error(std::string_view what) { return Error{"armor: " + std::string(what)}; }

std::string_view strip_blanks(std::string_view line) {
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) {
    line.remove_suffix(1);
  }
  return line;
}

bool is_armor_header(std::string_view line) {
  const std::size_t colon = line.find(": ");
  return colon != std::string_view::npos && colon > 0 &&
         line.substr(0, colon).find(' ') == std::string_view::npos;
}

}  // namespace

std::uint32_t openpgp_crc24(std::string_view bytes) {
  std::uint32_t crc = 0xB704CE;
  for (unsigned char c : bytes) crc = ((crc << 8) ^ kCrc24Table[((crc >> 16) ^ c) & 0xFF]) & 0xFFFFFF;
  return crc;
}

Result<std::string> dearmor_block(const std::vector<std::string_view>& lines) {
  std::size_t i = 0;
  // Headers up to the empty line that must follow them (RFC 9580 6.2).
  while (i < lines.size() && is_armor_header(strip_blanks(lines[i]))) ++i;
  if (i >= lines.size() || !strip_blanks(lines[i]).empty()) {
    return armor_error("no empty line after the armor headers");
  }
  ++i;
  std::string base64;
  std::string_view crc_text;
  for (; i < lines.size(); ++i) {
    const std::string_view line = strip_blanks(lines[i]);
    if (!line.empty() && line.front() == '=') {
      crc_text = line.substr(1);
      ++i;
      break;
    }
    base64.append(line);
  }
  for (; i < lines.size(); ++i) {
    if (!strip_blanks(lines[i]).empty()) return armor_error("text after the CRC line");
  }
  std::optional<std::string> bytes = decode_pem_base64(base64);
  if (!bytes) return armor_error("invalid base64");
  if (!crc_text.empty()) {  // optional (RFC 9580), but a wrong one is refused
    const std::optional<std::string> crc = decode_pem_base64(crc_text);
    if (crc_text.size() != 4 || !crc || crc->size() != 3) return armor_error("invalid CRC line");
    const auto byte = [&](std::size_t k) {
      return static_cast<std::uint32_t>(static_cast<unsigned char>((*crc)[k]));
    };
    if ((byte(0) << 16 | byte(1) << 8 | byte(2)) != openpgp_crc24(*bytes)) {
      return armor_error("CRC24 mismatch");
    }
  }
  return std::move(*bytes);
}

Result<std::string> dearmor_all(std::string_view text, std::string_view label) {
  const std::string begin = "-----BEGIN PGP " + std::string(label) + "-----";
  const std::string end = "-----END PGP " + std::string(label) + "-----";
  std::string out;
  std::vector<std::string_view> block;
  bool inside = false;
  bool found = false;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t next = text.find('\n', pos);
    if (next == std::string_view::npos) next = text.size();
    const std::string_view line = strip_blanks(text.substr(pos, next - pos));
    pos = next + 1;
    if (!inside) {
      if (line == begin) {
        inside = true;
        block.clear();
      }
    } else if (line == end) {
      auto bytes = dearmor_block(block);
      if (!bytes) return bytes.error();
      out += *bytes;
      inside = false;
      found = true;
    } else {
      block.push_back(line);
    }
  }
  if (inside) return armor_error("block not closed");
  if (!found) return armor_error("no '" + begin + "' block");
  return out;
}

}  // namespace pycheck
