// The OpenPGP readers under the verifier: armor and CRC24, the clearsigned
// split, packet framing and keyrings (garbage ignored, duplicates merged,
// hostile sizes bounded).
#include <catch2/catch.hpp>
#include <chrono>

#include "checks/formats/clearsigned.h"
#include "checks/formats/openpgp_armor.h"
#include "checks/formats/openpgp_certificates.h"
#include "checks/formats/openpgp_packets.h"
#include "tests/unit/host_tools.h"

using namespace pycheck;

namespace {

std::string debian_keyring() {
  return test::host::read_host_file(std::string(PYCHECK_SOURCE_DIR) +
                                    "/tests/unit/data/debian-archive-keyring.gpg");
}

// A new-format packet header with a one- or two-octet length.
std::string packet(int tag, const std::string& body) {
  std::string out(1, static_cast<char>(0xC0 | tag));
  if (body.size() < 192) {
    out.push_back(static_cast<char>(body.size()));
  } else {
    const std::size_t n = body.size() - 192;
    out.push_back(static_cast<char>((n >> 8) + 192));
    out.push_back(static_cast<char>(n & 0xFF));
  }
  return out + body;
}

}  // namespace

TEST_CASE("openpgp: CRC24 and armor", "[openpgp]") {
  CHECK(openpgp_crc24("") == 0xB704CE);
  CHECK(openpgp_crc24("hello") == 0x47F58A);  // "R/WK" in armor
  auto good = dearmor_all("x\n-----BEGIN PGP SIGNATURE-----\n\naGVs\n bG8=\n-----END PGP SIGNATURE-----\ny\n",
                          "SIGNATURE");
  REQUIRE(good.ok());
  CHECK(*good == "hello");
  CHECK(*dearmor_block({"", "aGVsbG8=", "=R/WK"}) == "hello");
  CHECK_FALSE(dearmor_block({"", "aGVsbG8=", "=AAAA"}).ok());  // wrong CRC
  CHECK_FALSE(dearmor_block({"", "aGVsbG8=", "=AA"}).ok());
  CHECK_FALSE(dearmor_block({"aGVsbG8="}).ok());               // no empty line before the data
  CHECK(dearmor_block({"Comment: x", "", "aGVsbG8="}).ok());
  CHECK_FALSE(dearmor_block({"", "aGVsbG8=", "=AAAA", "more"}).ok());
  CHECK_FALSE(dearmor_block({"", "aGV*bG8="}).ok());
  CHECK_FALSE(dearmor_all("no armor here", "SIGNATURE").ok());
}

TEST_CASE("openpgp: the clearsigned split as apt does it", "[openpgp]") {
  const std::string sig = "-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----\n";
  // The signature blocks are views into the input: it must outlive `parts`.
  const std::string input =
      "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nA: b  \n- -C\n\n" + sig;
  auto parts = split_clearsigned(input);
  REQUIRE(parts.ok());
  CHECK(parts->message == "A: b\n-C\n\n");
  CHECK(canonical_cleartext(parts->message) == "A: b\r\n-C\r\n");
  REQUIRE(parts->signature_blocks.size() == 1);
  CHECK(parts->signature_blocks[0] == std::vector<std::string_view>{"", "abc"});
  // apt drops armor header lines unread, whatever they say; a dash starts no header.
  CHECK(split_clearsigned("-----BEGIN PGP SIGNED MESSAGE-----\nVersion: 1\nno colon\n\nA: b\n" + sig)
            ->message == "A: b\n");
  CHECK_FALSE(split_clearsigned("-----BEGIN PGP SIGNED MESSAGE-----\n-x: y\n\nA: b\n" + sig).ok());
  CHECK_FALSE(split_clearsigned("-----BEGIN PGP SIGNED MESSAGE-----\n\nA:\rb\n" + sig).ok());
  CHECK_FALSE(split_clearsigned(std::string("-----BEGIN PGP SIGNED MESSAGE-----\n\nA:\0b\n", 41) + sig).ok());
}

TEST_CASE("openpgp: packet framing", "[openpgp]") {
  const std::string stream = packet(13, "uid") + std::string("\xB4\x02hi", 4) +  // old format, tag 13
                             packet(2, std::string(300, 'x'));
  OpenPgpPacketReader reader(stream);
  OpenPgpPacket p;
  REQUIRE(reader.next(p));
  CHECK((p.tag == 13 && p.body == "uid"));
  REQUIRE(reader.next(p));
  CHECK((p.tag == 13 && p.body == "hi"));
  REQUIRE(reader.next(p));
  CHECK((p.tag == 2 && p.body.size() == 300));
  CHECK_FALSE(reader.next(p));
  CHECK(reader.error().empty());

  for (const std::string& bad : {std::string("\x42\x01x", 3), std::string("\xC2\xE0xx", 4),
                                std::string("\xC2\x05xx", 4), std::string("\xB7xx", 3)}) {
    OpenPgpPacketReader r(bad);
    CHECK_FALSE(r.next(p));
    CHECK_FALSE(r.error().empty());
  }
  CHECK_FALSE(parse_public_key(std::string("\x03\0\0\0\0\x01", 6)));
  CHECK_FALSE(parse_signature(std::string("\x04\x01\x01\x08\xFF\xFF", 6)));
}

TEST_CASE("openpgp: keyrings: Debian's, garbage, duplicates merged", "[openpgp]") {
  const std::string ring = debian_keyring();
  OpenPgpKeyrings once;
  read_openpgp_keyring(ring, "debian", once);
  CHECK(once.problems.empty());
  REQUIRE(once.certificates.size() >= 8);
  for (const OpenPgpCertificate& cert : once.certificates) {
    CHECK(cert.primary.fingerprint.size() == 40);
    CHECK(cert.primary.usable_algorithm());
    CHECK_FALSE(cert.user_ids.empty());
  }
  OpenPgpKeyrings twice;
  read_openpgp_keyring(ring, "a", twice);
  read_openpgp_keyring(ring + ring, "b", twice);
  REQUIRE(twice.certificates.size() == once.certificates.size());
  CHECK(twice.certificates[0].origin == "a");
  CHECK(twice.certificates[0].subkeys.size() == once.certificates[0].subkeys.size());

  OpenPgpKeyrings junk;
  read_openpgp_keyring("PK\x03\x04 a zip file", "junk", junk);
  read_openpgp_keyring("", "empty", junk);
  CHECK(junk.certificates.empty());
  CHECK(junk.problems.size() == 1);
  // A truncated keyring keeps what came before the break.
  OpenPgpKeyrings cut;
  read_openpgp_keyring(ring.substr(0, ring.size() - 10), "cut", cut);
  CHECK(cut.certificates.size() >= once.certificates.size() - 1);
  CHECK(cut.problems.size() == 1);
}

TEST_CASE("openpgp: a keyring of many packets reads in linear time", "[openpgp]") {
  OpenPgpKeyrings real;
  read_openpgp_keyring(debian_keyring(), "debian", real);
  const std::string key = packet(6, real.certificates.at(0).primary.body);
  std::string ring = key;
  for (int i = 0; i < 50000; ++i) ring += packet(13, "user " + std::to_string(i)) + packet(2, "\x04");
  for (int i = 0; i < 2000; ++i) ring += key;  // the same certificate again and again
  // Merging stays linear (no timing asserted here: speed belongs to benchmarks).
  OpenPgpKeyrings out;
  read_openpgp_keyring(ring, "big", out);
  CHECK(out.certificates.size() == 1);
}
