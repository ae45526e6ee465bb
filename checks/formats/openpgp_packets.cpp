#include "checks/formats/openpgp_packets.h"

#include <mbedtls/md.h>

namespace pycheck {
namespace {

// A bounded reader over bytes: every read checks what is left.
class Bytes {
 public:
  explicit Bytes(std::string_view data) : data_(data) {}
  bool u8(std::uint32_t& out) {
    if (data_.empty()) return false;
    out = static_cast<unsigned char>(data_.front());
    data_.remove_prefix(1);
    return true;
  }
  bool be(std::size_t n, std::uint32_t& out) {
    if (data_.size() < n) return false;
    out = 0;
    for (std::size_t i = 0; i < n; ++i) out = out << 8 | static_cast<unsigned char>(data_[i]);
    data_.remove_prefix(n);
    return true;
  }
  bool take(std::size_t n, std::string_view& out) {
    if (data_.size() < n) return false;
    out = data_.substr(0, n);
    data_.remove_prefix(n);
    return true;
  }
  // An MPI: its bit count, then the bytes; leading zero bytes dropped.
  bool mpi(std::string& out, unsigned& bits) {
    std::uint32_t count = 0;
    std::string_view value;
    if (!be(2, count) || count > pgp::kMaxMpiBits || !take((count + 7) / 8, value)) return false;
    while (!value.empty() && value.front() == '\0') value.remove_prefix(1);
    out.assign(value);
    bits = count;
    return true;
  }
  bool mpi(std::string& out) {
    unsigned bits = 0;
    return mpi(out, bits);
  }
  std::string_view rest() const { return data_; }
  bool empty() const { return data_.empty(); }

 private:
  std::string_view data_;
};

unsigned bit_length(std::string_view big_endian) {
  if (big_endian.empty()) return 0;
  unsigned bits = static_cast<unsigned>(big_endian.size() - 1) * 8;
  for (auto top = static_cast<unsigned char>(big_endian.front()); top != 0; top >>= 1) ++bits;
  return bits;
}

// Subpacket types gpg and Sequoia know; a critical one outside this list
// makes the signature invalid (RFC 9580 5.2.3.7). Notations (20) are not
// understood here, so a critical notation is refused too, as gpg does.
bool known_subpacket(std::uint32_t type) {
  switch (type) {
    case 2: case 3: case 4: case 5: case 6: case 7: case 9: case 11: case 12: case 16:
    case 21: case 22: case 23: case 24: case 25: case 26: case 27: case 28: case 29:
    case 30: case 31: case 32: case 33: case 34: case 35: case 39:
      return true;
    default:
      return false;
  }
}

bool read_subpackets(std::string_view area, bool hashed, OpenPgpSignature& sig) {
  Bytes in(area);
  while (!in.empty()) {
    std::uint32_t first = 0, length = 0;
    if (!in.u8(first)) return false;
    if (first < 192) {
      length = first;
    } else if (first < 255) {
      std::uint32_t second = 0;
      if (!in.u8(second)) return false;
      length = ((first - 192) << 8) + second + 192;
    } else if (!in.be(4, length)) {
      return false;
    }
    std::string_view data;
    if (length == 0 || !in.take(length, data)) return false;
    const auto type_byte = static_cast<unsigned char>(data.front());
    const std::uint32_t type = type_byte & 0x7F;
    data.remove_prefix(1);
    if ((type_byte & 0x80) && !known_subpacket(type)) sig.unknown_critical = true;
    Bytes value(data);
    std::uint32_t number = 0;
    switch (type) {
      case 2:  // creation time: only trusted when hashed
        if (hashed && value.be(4, number)) sig.created = number;
        break;
      case 3:
        if (hashed && value.be(4, number)) sig.expires_after = number;
        break;
      case 9:
        if (hashed && value.be(4, number)) sig.key_expires_after = number;
        break;
      case 27:
        if (hashed && value.u8(number)) sig.key_flags = static_cast<std::uint8_t>(number);
        break;
      case 25:
        if (hashed && value.u8(number)) sig.primary_user_id = number != 0;
        break;
      case 16:  // issuer key id: a hint, hashed or not
        if (data.size() == 8 && sig.issuer_key_id.empty()) sig.issuer_key_id = openpgp_hex(data);
        break;
      case 33:
        if (data.size() == 21 && data.front() == 4 && sig.issuer_fingerprint.empty()) {
          sig.issuer_fingerprint = openpgp_hex(data.substr(1));
        }
        break;
      case 32:  // the backsig of a signing subkey: itself signed, so either area is fine
        if (sig.embedded.empty()) sig.embedded.assign(data);
        break;
      default:
        break;
    }
  }
  return true;
}

}  // namespace

std::string openpgp_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xF]);
  }
  return out;
}

bool OpenPgpPacketReader::next(OpenPgpPacket& packet) {
  if (pos_ >= bytes_.size() || !error_.empty()) return false;
  Bytes in(bytes_.substr(pos_));
  std::uint32_t header = 0, length = 0;
  in.u8(header);
  if (!(header & 0x80)) {
    error_ = "not a packet header (byte " + std::to_string(pos_) + ")";
    return false;
  }
  bool ok = true;
  if (header & 0x40) {  // new format
    packet.tag = static_cast<int>(header & 0x3F);
    std::uint32_t first = 0;
    ok = in.u8(first);
    if (ok && first < 192) {
      length = first;
    } else if (ok && first < 224) {
      std::uint32_t second = 0;
      ok = in.u8(second);
      length = ((first - 192) << 8) + second + 192;
    } else if (ok && first == 255) {
      ok = in.be(4, length);
    } else if (ok) {
      error_ = "partial body lengths are not supported";
      return false;
    }
  } else {
    packet.tag = static_cast<int>((header >> 2) & 0x0F);
    const std::uint32_t type = header & 3;
    if (type == 3) {
      error_ = "indeterminate packet length";
      return false;
    }
    ok = in.be(std::size_t{1} << type, length);
  }
  std::string_view body;
  if (!ok || !in.take(length, body)) {
    error_ = "packet truncated (byte " + std::to_string(pos_) + ")";
    return false;
  }
  packet.body = body;
  pos_ = bytes_.size() - in.rest().size();
  return true;
}

std::optional<OpenPgpPublicKey> parse_public_key(std::string_view body) {
  if (body.size() > 0xFFFF) return std::nullopt;  // the fingerprint's length field is 16 bits
  Bytes in(body);
  std::uint32_t version = 0, algorithm = 0;
  OpenPgpPublicKey key;
  if (!in.u8(version) || version != 4 || !in.be(4, key.created) || !in.u8(algorithm)) {
    return std::nullopt;
  }
  key.algorithm = static_cast<int>(algorithm);
  key.body.assign(body);
  if (algorithm == pgp::kAlgoRsa || algorithm == 2 || algorithm == pgp::kAlgoRsaSignOnly) {
    if (!in.mpi(key.rsa_n) || !in.mpi(key.rsa_e) || key.rsa_n.empty() || key.rsa_e.empty()) {
      return std::nullopt;
    }
    key.bits = bit_length(key.rsa_n);
    // Real exponents are small (65537); a huge one would make every check slow.
    if (key.rsa_e.size() > 8) key.rsa_n.clear();
  } else if (algorithm == pgp::kAlgoEdDsaLegacy) {
    static constexpr std::string_view kEd25519Oid = "\x09\x2B\x06\x01\x04\x01\xDA\x47\x0F\x01";
    std::string_view oid;
    std::string point;
    if (!in.take(kEd25519Oid.size(), oid) || !in.mpi(point)) return std::nullopt;
    if (oid == kEd25519Oid && point.size() == 33 && point.front() == '\x40') {
      key.ed25519 = point.substr(1);
      key.bits = 256;
    }
  }
  std::string prefixed = "\x99";
  prefixed.push_back(static_cast<char>(body.size() >> 8));
  prefixed.push_back(static_cast<char>(body.size() & 0xFF));
  prefixed.append(body);
  unsigned char digest[20];
  if (mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA1),
                 reinterpret_cast<const unsigned char*>(prefixed.data()), prefixed.size(),
                 digest) != 0) {
    return std::nullopt;
  }
  key.fingerprint = openpgp_hex(std::string_view(reinterpret_cast<const char*>(digest), 20));
  key.key_id = key.fingerprint.substr(24);
  return key;
}

std::optional<OpenPgpSignature> parse_signature(std::string_view body) {
  Bytes in(body);
  std::uint32_t version = 0, type = 0, pk = 0, hash = 0, hashed_len = 0, unhashed_len = 0;
  std::string_view hashed, unhashed;
  if (!in.u8(version) || version != 4 || !in.u8(type) || !in.u8(pk) || !in.u8(hash) ||
      !in.be(2, hashed_len) || !in.take(hashed_len, hashed) || !in.be(2, unhashed_len) ||
      !in.take(unhashed_len, unhashed)) {
    return std::nullopt;
  }
  OpenPgpSignature sig;
  sig.type = static_cast<int>(type);
  sig.pk_algorithm = static_cast<int>(pk);
  sig.hash_algorithm = static_cast<int>(hash);
  sig.hashed_block.assign(body.substr(0, 6 + hashed_len));
  std::uint32_t left = 0;
  if (!in.be(2, left)) return std::nullopt;
  sig.left16 = static_cast<std::uint16_t>(left);
  if (!read_subpackets(hashed, true, sig) || !read_subpackets(unhashed, false, sig)) {
    return std::nullopt;
  }
  if (sig.issuer_key_id.empty() && sig.issuer_fingerprint.size() == 40) {
    sig.issuer_key_id = sig.issuer_fingerprint.substr(24);
  }
  if (pk == pgp::kAlgoRsa || pk == pgp::kAlgoRsaSignOnly) {
    if (!in.mpi(sig.mpi1)) return std::nullopt;
  } else if (pk == pgp::kAlgoEdDsaLegacy) {
    if (!in.mpi(sig.mpi1) || !in.mpi(sig.mpi2)) return std::nullopt;
  }
  return sig;
}

}  // namespace pycheck
