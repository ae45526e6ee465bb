// The PEM bundle reader: splitting, base64, DER, dates, fingerprints; this
// machine's CA bundle (Debian package ca-certificates) checked against openssl.
#include "checks/formats/pem_bundle.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "cert_factory.h"

using namespace pycheck;
using namespace pycheck::test::certs;
using pycheck::test::FixtureRoot;

namespace {

constexpr const char* kHostBundle = "/etc/ssl/certs/ca-certificates.crt";

// "Dec 31 09:37:37 2030 GMT" (openssl's text dump) -> "2030-12-31T09:37:37Z".
std::string openssl_date_to_iso(const std::string& text) {
  static const std::string kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";
  std::istringstream in(text);
  std::string month, time, zone;
  int day = 0, year = 0;
  in >> month >> day >> time >> year >> zone;
  const std::size_t m = kMonths.find(month) / 3 + 1;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02zu-%02dT%sZ", year, m, day, time.c_str());
  return buf;
}

}  // namespace

TEST_CASE("PEM splitting: blocks, labels, text outside, garbage", "[tls]") {
  CertFactory factory;
  const std::string a = factory.make("Alpha Root", "20200101000000Z", "20600101000000Z");
  const std::string b = factory.make("Beta Root", "20200101000000Z", "20600101000000Z");
  std::string trusted = b;
  for (std::string_view tag : {"BEGIN ", "END "}) {
    const std::size_t at = trusted.find(tag) + tag.size();
    trusted.insert(at, "TRUSTED ");
  }
  std::string crlf;
  for (char c : a) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  struct Vector {
    std::string name;
    std::string text;
    std::size_t blocks, certificates, other;
    std::vector<std::string> reasons;  // prefixes of the garbage reasons
  };
  const std::vector<Vector> vectors = {
      {"empty", "", 0, 0, 0, {}},
      {"text only", "# ACCVRAIZ1\nhello\n", 0, 0, 0, {}},
      {"comments around blocks", "# Alpha\n" + a + "junk between\n" + b + "trailing", 2, 2, 0, {}},
      {"TRUSTED CERTIFICATE", trusted, 1, 1, 0, {}},
      {"CRLF line ends", crlf, 1, 1, 0, {}},
      {"other block types",
       "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n" + a,
       1,
       1,
       1,
       {}},
      {"invalid base64", a + kNotBase64 + b, 3, 2, 0, {"invalid base64"}},
      {"base64 but not DER", kNotDer + a, 2, 1, 0, {"X509 - "}},
      {"data after base64 padding",
       "-----BEGIN CERTIFICATE-----\nQQ==QQ==\n-----END CERTIFICATE-----\n",
       1,
       0,
       0,
       {"invalid base64"}},
      {"base64 length not whole quads",
       "-----BEGIN CERTIFICATE-----\nQUJDR\n-----END CERTIFICATE-----\n",
       1,
       0,
       0,
       {"invalid base64"}},
      {"empty block",
       "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
       1,
       0,
       0,
       {"invalid base64"}},
      {"truncated", a + "-----BEGIN CERTIFICATE-----\nMIIB\n", 2, 1, 0, {"no END line (trunc"}},
      {"BEGIN inside a block",
       "-----BEGIN CERTIFICATE-----\nMIIB\n" + a,
       2,
       1,
       0,
       {"no END line before next BEGIN"}},
      {"END of another type",
       "-----BEGIN CERTIFICATE-----\nMIIB\n-----END X509 CRL-----\n",
       1,
       0,
       0,
       {"END line does not match"}},
  };
  for (const Vector& v : vectors) {
    INFO(v.name);
    const PemBundle bundle = parse_pem_bundle(v.text);
    CHECK(bundle.certificate_blocks == v.blocks);
    CHECK(bundle.certificates.size() == v.certificates);
    CHECK(bundle.other_blocks == v.other);
    REQUIRE(bundle.garbage.size() == v.reasons.size());
    for (std::size_t i = 0; i < v.reasons.size(); ++i) {
      INFO(bundle.garbage[i].reason);
      CHECK(bundle.garbage[i].reason.starts_with(v.reasons[i]));
    }
    CHECK(bundle.certificate_blocks == bundle.certificates.size() + bundle.garbage.size());
  }
  const PemBundle two = parse_pem_bundle("# Alpha\n" + a + "junk\n" + b);
  CHECK(two.certificates[0].subject == "CN=Alpha Root");
  CHECK(two.certificates[0].line == 2);
  CHECK(two.certificates[1].block == 1);
  const PemBundle bad = parse_pem_bundle(a + kNotBase64 + b);
  CHECK(bad.garbage[0].block == 1);
  CHECK(bad.garbage[0].line == static_cast<std::size_t>(std::count(a.begin(), a.end(), '\n')) + 1);
}

TEST_CASE("Validity dates are exact, including GeneralizedTime and 9999", "[tls]") {
  CertFactory factory;
  struct Vector {
    std::string start, end, not_before, not_after;
  };
  const Vector vectors[] = {
      {"20100101000000Z", "20200101000000Z", "2010-01-01T00:00:00Z", "2020-01-01T00:00:00Z"},
      {"20240229123456Z", "20600315235959Z", "2024-02-29T12:34:56Z", "2060-03-15T23:59:59Z"},
      {"19991231235959Z", "99991231235959Z", "1999-12-31T23:59:59Z", "9999-12-31T23:59:59Z"},
  };
  for (const Vector& v : vectors) {
    INFO(v.start << " - " << v.end);
    const std::string pem = factory.make("Dated", v.start, v.end);
    const PemBundle bundle = parse_pem_bundle(pem);
    REQUIRE(bundle.certificates.size() == 1);
    const Certificate& cert = bundle.certificates[0];
    CHECK(format_utc(cert.not_before) == v.not_before);
    CHECK(format_utc(cert.not_after) == v.not_after);
    CHECK(cert.partial_parse_reason.empty());
    CHECK(cert.issuer == "CN=Dated");
  }
  const Certificate c =
      parse_pem_bundle(factory.make("E", "20100101000000Z", "20200101000000Z")).certificates.at(0);
  CHECK(is_expired(c, utc(2020, 1, 2)));
  CHECK_FALSE(is_expired(c, utc(2019, 12, 31)));
  CHECK(is_not_yet_valid(c, utc(2009, 12, 31)));
  CHECK_FALSE(is_not_yet_valid(c, utc(2015, 1, 1)));
}

TEST_CASE("Certificates mbedTLS cannot fully parse are read leniently", "[tls]") {
  CertFactory factory;
  const PemBundle bundle = parse_pem_bundle(factory.ed25519("Ed Root"));
  REQUIRE(bundle.certificates.size() == 1);
  CHECK(bundle.garbage.empty());
  const Certificate& cert = bundle.certificates[0];
  CHECK(cert.subject == "CN=Ed Root");
  CHECK_FALSE(cert.partial_parse_reason.empty());
  const std::string fingerprint = run_command(
      "openssl x509 -in '" + factory.dir().host_path("/ed.pem") + "' -noout -fingerprint -sha256");
  std::string hex;
  for (char ch : fingerprint.substr(fingerprint.find('=') + 1)) {
    if (std::isxdigit(static_cast<unsigned char>(ch))) hex += static_cast<char>(std::tolower(ch));
  }
  CHECK(cert.sha256 == hex);
}

TEST_CASE("This machine's CA bundle: counts, fingerprints and dates match openssl", "[tls]") {
  const std::string text = read_host_file(kHostBundle);
  const PemBundle bundle = parse_pem_bundle(text);
  const std::size_t grep_count =
      std::stoul(run_command(std::string("grep -c 'BEGIN CERTIFICATE' ") + kHostBundle));
  const std::size_t openssl_count =
      std::stoul(run_command(std::string("openssl crl2pkcs7 -nocrl -certfile ") + kHostBundle +
                             " | openssl pkcs7 -print_certs -noout | grep -c '^subject'"));
  REQUIRE(grep_count > 50);
  CHECK(bundle.certificate_blocks == grep_count);
  CHECK(bundle.certificates.size() == openssl_count);
  CHECK(bundle.garbage.empty());

  // Every certificate's notAfter, in file order, from one `openssl storeutl`
  // ("            Not After : Dec 31 09:37:37 2030 GMT", validity indentation only).
  std::vector<std::string> expected_dates;
  std::istringstream text_dump(
      run_command(std::string("openssl storeutl -certs -noout -text ") + kHostBundle));
  for (std::string line; std::getline(text_dump, line);) {
    const std::string prefix = "            Not After : ";
    if (line.starts_with(prefix))
      expected_dates.push_back(openssl_date_to_iso(line.substr(prefix.size())));
  }
  std::vector<std::string> our_dates;
  for (const Certificate& c : bundle.certificates) our_dates.push_back(format_utc(c.not_after));
  CHECK(our_dates == expected_dates);

  // The SHA-256 fingerprint and notAfter of every 10th certificate, one
  // `openssl x509` each (the whole bundle that way takes seconds).
  FixtureRoot scratch;
  const std::string listing = run_command(
      "cd '" + scratch.dir() + "' && awk '/BEGIN CERTIFICATE/{n++} {print > (\"c\" n \".pem\")}' " +
      kHostBundle + " && for n in $(seq 1 10 " + std::to_string(grep_count) +
      "); do openssl x509 -in c$n.pem "
      "-noout -fingerprint -sha256 -enddate -dateopt iso_8601 || exit 1; done");
  std::vector<std::string> expected;  // "fingerprint notAfter"
  std::istringstream in(listing);
  for (std::string fp, end; std::getline(in, fp) && std::getline(in, end);) {
    std::string hex;
    for (char ch : fp.substr(fp.find('=') + 1)) {
      if (ch != ':') hex += static_cast<char>(std::tolower(ch));
    }
    std::string date = end.substr(end.find('=') + 1);  // "2029-12-31 09:37:37Z"
    date[10] = 'T';
    expected.push_back(hex + " " + date);
  }
  std::vector<std::string> ours;
  for (std::size_t i = 0; i < bundle.certificates.size(); i += 10) {
    ours.push_back(bundle.certificates[i].sha256 + " " +
                   format_utc(bundle.certificates[i].not_after));
  }
  REQUIRE(expected.size() == (grep_count + 9) / 10);
  CHECK(ours == expected);
}

namespace {

// The base64 of a PEM certificate, on one line.
std::string base64_of(const std::string& pem) {
  std::string out;
  std::istringstream in(pem);
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("-----")) out += line;
  }
  return out;
}

std::string as_pem(const std::string& body) {
  return "-----BEGIN CERTIFICATE-----\n" + body + "\n-----END CERTIFICATE-----\n";
}

// `text` with `separator` after every `width` characters.
std::string wrapped(const std::string& text, std::size_t width, const std::string& separator) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); i += width) out += text.substr(i, width) + separator;
  return out;
}

}  // namespace

TEST_CASE("Minimal detail: names and fingerprint only when described, the same as full", "[tls]") {
  CertFactory factory;
  const std::string ec = factory.make("Lazy Root", "20200101000000Z", "20600101000000Z");
  const std::string ed = factory.ed25519("Ed Lazy");
  const std::string text = ec + ed;
  const PemBundle full = parse_pem_bundle(text);
  DerParseMemo memo;
  PemBundle minimal = parse_pem_bundle(text, &memo, CertificateDetail::minimal);
  REQUIRE(full.certificates.size() == 2);
  REQUIRE(minimal.certificates.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    Certificate& lazy = minimal.certificates[i];
    const Certificate& eager = full.certificates[i];
    CHECK(lazy.subject.empty());
    CHECK(lazy.issuer.empty());
    CHECK(lazy.sha256.empty());
    REQUIRE(lazy.der != nullptr);
    CHECK(*lazy.der == *eager.der);
    CHECK(lazy.not_after == eager.not_after);
    CHECK(lazy.partial_parse_reason == eager.partial_parse_reason);
    describe_certificate(lazy);
    CHECK(lazy.subject == eager.subject);
    CHECK(lazy.issuer == eager.issuer);
    CHECK(lazy.sha256 == eager.sha256);
  }
  CHECK(full.certificates[0].subject == "CN=Lazy Root");
  CHECK(full.certificates[1].subject == "CN=Ed Lazy");  // the partial parse's names
  CHECK_FALSE(full.certificates[1].partial_parse_reason.empty());
  // `der` is the certificate as openssl writes it in DER.
  const std::string der_file = factory.dir().host_path("/lazy.der");
  run_command("openssl x509 -in '" + factory.dir().host_path("/c1.pem") + "' -outform DER -out '" +
              der_file + "'");
  CHECK(*full.certificates[0].der == read_host_file(der_file));

  Certificate direct;
  REQUIRE(parse_der_certificate(*full.certificates[0].der, direct).empty());
  CHECK(direct.subject == "CN=Lazy Root");
  CHECK(direct.sha256 == full.certificates[0].sha256);
}

TEST_CASE("Base64 layouts OpenSSL reads give the same certificate", "[tls]") {
  CertFactory factory;
  const std::string pem = factory.make("Wrapped Root", "20200101000000Z", "20600101000000Z");
  const std::string body = base64_of(pem);
  const std::string fingerprint = parse_pem_bundle(pem).certificates.at(0).sha256;
  REQUIRE(fingerprint.size() == 64);
  const std::vector<std::pair<std::string, std::string>> layouts = {
      {"one line", body},
      {"76 columns", wrapped(body, 76, "\n")},
      {"CRLF, 64 columns", wrapped(body, 64, "\r\n")},
      {"quads split across lines", wrapped(body, 7, "\n")},
      {"one symbol a line", wrapped(body, 1, "\n")},
      {"blanks and tabs inside lines", wrapped(body, 5, " \t")},
  };
  DerParseMemo memo;
  for (const auto& [name, layout] : layouts) {
    INFO(name);
    for (DerParseMemo* with : {static_cast<DerParseMemo*>(nullptr), &memo}) {
      const PemBundle bundle = parse_pem_bundle(as_pem(layout), with);
      REQUIRE(bundle.certificates.size() == 1);
      CHECK(bundle.garbage.empty());
      CHECK(bundle.certificates[0].sha256 == fingerprint);
    }
  }
  // Not base64, whatever the layout: a symbol outside the alphabet, or after padding.
  for (const std::string& bad :
       {body.substr(0, 40) + "!" + body.substr(40), body.substr(0, 8) + "*" + body.substr(8),
        body + "=A", body.substr(0, body.size() - 1)}) {
    const PemBundle bundle = parse_pem_bundle(as_pem(wrapped(bad, 64, "\n")), &memo);
    REQUIRE(bundle.garbage.size() == 1);
    CHECK(bundle.garbage[0].reason == "invalid base64");
  }
}

TEST_CASE("Bytes after the certificate's DER are not part of it", "[tls]") {
  CertFactory factory;
  const std::string pem = factory.make("Tailed Root", "20200101000000Z", "20600101000000Z");
  const std::string dir = factory.dir().dir();
  // The DER with three zero bytes appended, base64-encoded by openssl.
  const std::string tailed =
      run_command("cd '" + dir +
                  "' && openssl x509 -in c1.pem -outform DER -out t.der "
                  "&& printf '\\0\\0\\0' >> t.der && openssl base64 -in t.der");
  const Certificate plain = parse_pem_bundle(pem).certificates.at(0);
  const PemBundle bundle = parse_pem_bundle(as_pem(tailed));
  REQUIRE(bundle.certificates.size() == 1);
  const Certificate& cert = bundle.certificates[0];
  CHECK(*cert.der == *plain.der);  // mbedTLS stops at the end of the outer SEQUENCE
  CHECK(cert.sha256 == plain.sha256);
  CHECK(cert.subject == "CN=Tailed Root");
}
