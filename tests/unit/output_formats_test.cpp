// The junit and tap renderers, checked with the parsers CI systems use:
// Python's xml.etree (expat) and Perl's TAP::Parser (core Perl). A missing
// parser makes these tests fail, not skip. Prometheus:
// prometheus_format_test.cpp.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "agent/report/escape.h"
#include "agent/report/report.h"
#include "tests/unit/output_formats_test_support.h"

using namespace pycheck;

namespace {

using namespace formats_test;

constexpr std::string_view kFffd = "\xef\xbf\xbd";

// What survives in XML: the same, minus the characters XML 1.0 forbids
// (U+0001, U+001B, NUL, U+FFFE); DEL is allowed.
std::string hostile_in_xml() {
  std::string r = "\xef\xbf\xbd";
  return std::string("q\"a'&<>]]>\\#\n\r\t|") + "\x7f|" + r + "|" + r + r + "|" + r + r + r + "|" +
         r + r + "x|" + "\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x90\x8d |end";
}

// Python script files are kept in the test binary: the parsers' verdicts as JSON.
const std::string kJunitParser = R"PY(
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
cases = []
for tc in root.findall("testcase"):
    kids = [{"tag": k.tag, "attrib": dict(k.attrib), "text": k.text or ""} for k in tc]
    cases.append({"attrib": dict(tc.attrib), "children": kids})
props = {p.get("name"): p.get("value") for p in root.find("properties")}
print(json.dumps({"tag": root.tag, "attrib": dict(root.attrib), "cases": cases, "properties": props}))
)PY";

const std::string kTapParser = R"PL(
use strict; use warnings; use TAP::Parser; use JSON::PP;
open(my $fh, '<:raw', $ARGV[0]) or die; my $tap = do { local $/; <$fh> };
my $p = TAP::Parser->new({ source => $tap });
my (@tests, $last);
while (my $r = $p->next) {
  if ($r->is_test) {
    $last = { number => $r->number, ok => ($r->is_actual_ok ? 1 : 0), description => $r->description,
              directive => $r->directive, explanation => $r->explanation };
    push @tests, $last;
  } elsif ($r->is_yaml) {
    $last->{yaml} = $r->data;
  }
}
print JSON::PP->new->canonical->encode({ version => $p->version, plan => $p->plan, tests => \@tests,
  passed => [ $p->passed ], failed => [ $p->failed ], skipped => [ $p->skipped ],
  parse_errors => [ $p->parse_errors ], is_good_plan => ($p->is_good_plan ? 1 : 0) });
)PL";

json parse_with_perl(const std::string& script, std::string_view input) {
  TempFile pl(script);
  return run_parser("perl '" + pl.path() + "'", input);
}

}  // namespace

TEST_CASE("sanitize_utf8: ill-formed sequences become U+FFFD, one per bad byte", "[formats]") {
  const std::string r(kFffd);
  struct Vector {
    std::string in, out;
  };
  const Vector vectors[] = {
      {"plain ascii", "plain ascii"},
      {"\xc3\xa9\xe2\x82\xac\xf0\x9f\x90\x8d", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x90\x8d"},  // é € 🐍
      {"\x80", r},                               // stray continuation byte
      {"a\xc3", "a" + r},                        // truncated at the end
      {"\xe2\x82x", r + r + "x"},                // truncated in the middle
      {"\xc0\x80", r + r},                       // overlong NUL
      {"\xe0\x80\xaf", r + r + r},               // overlong '/'
      {"\xed\xa0\x80", r + r + r},               // UTF-16 surrogate
      {"\xf4\x90\x80\x80", r + r + r + r},       // beyond U+10FFFF
      {"\xf5\x80", r + r},                       // never a lead byte
      {"\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"},  // U+10FFFF itself is fine
      {std::string("\x00", 1), std::string("\x00", 1)},
  };
  for (const Vector& v : vectors) {
    INFO(v.in);
    CHECK(sanitize_utf8(v.in) == v.out);
  }
  CHECK(sanitize_utf8(kHostile) == hostile_as_utf8());
  CHECK(sanitize_utf8(kHostile, is_xml_char) == hostile_in_xml());
}

TEST_CASE("format_number: shortest round-trip text", "[formats]") {
  CHECK(format_number(1) == "1");
  CHECK(format_number(0) == "0");
  CHECK(format_number(0.0125) == "0.0125");
  CHECK(format_number(1795867200.25) == "1795867200.25");
  CHECK(format_number(std::nan("")) == "NaN");
  CHECK(format_number(-HUGE_VAL) == "-Inf");
}

TEST_CASE("junit: one testsuite, a testcase per check, hostile text survives expat", "[formats]") {
  const Report report = every_status_report();
  const std::string xml = render_junit(report);
  CHECK(xml.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"pycheck\"", 0) ==
        0);
  CHECK(xml.find("]]>") == std::string::npos);  // escaped as ]]&gt;
  CHECK(xml.find('\x01') == std::string::npos);
  CHECK(xml.find(std::string(1, '\0')) == std::string::npos);

  const json parsed = parse_with_python(kJunitParser, xml);
  CHECK(parsed["tag"] == "testsuite");
  CHECK(parsed["attrib"]["name"] == "pycheck");
  CHECK(parsed["attrib"]["tests"] == "5");
  CHECK(parsed["attrib"]["failures"] == "1");
  CHECK(parsed["attrib"]["errors"] == "1");
  CHECK(parsed["attrib"]["skipped"] == "1");
  CHECK(parsed["attrib"]["time"] == "1.500");
  CHECK(parsed["attrib"]["timestamp"] == "2026-11-28T12:00:00.250Z");
  CHECK(parsed["properties"]["pycheck.version"] == "0.1.0");
  CHECK(parsed["properties"]["pycheck.status"] == "fail");
  const json& cases = parsed["cases"];
  REQUIRE(cases.size() == 5);
  for (const json& c : cases) {
    CHECK(c["attrib"]["classname"] == "pycheck");
    CHECK(c["attrib"]["time"] == "0.013");  // 12.5 ms, milliseconds precision
  }
  // pass: summary in system-out, no failure.
  CHECK(cases[0]["attrib"]["name"] == "a.pass");
  REQUIRE(cases[0]["children"].size() == 1);
  CHECK(cases[0]["children"][0]["tag"] == "system-out");
  CHECK(cases[0]["children"][0]["text"] == "all good");
  // warn: still a pass; WARN, fix and details in system-out.
  REQUIRE(cases[1]["children"].size() == 1);
  CHECK(cases[1]["children"][0]["tag"] == "system-out");
  const std::string warn_text = cases[1]["children"][0]["text"];
  CHECK(warn_text.rfind("WARN: a little off\n\n- wrong: a little off\nfix: fix it\n\ndetails:\n", 0) ==
        0);
  CHECK(warn_text.find("\"path\": \"/etc/x\"") != std::string::npos);
  // fail: message attribute and body keep every legal character, exactly.
  REQUIRE(cases[2]["children"].size() == 1);
  const json& failure = cases[2]["children"][0];
  CHECK(failure["tag"] == "failure");
  CHECK(failure["attrib"]["type"] == "fail");
  CHECK(failure["attrib"]["message"] == hostile_in_xml());
  const std::string body = failure["text"];
  CHECK(body.rfind(hostile_in_xml() + "\n\n- ", 0) == 0);  // then the finding, on one line
  CHECK(body.find("\nfix: ") != std::string::npos);
  // skip and error.
  REQUIRE(cases[3]["children"].size() == 1);
  CHECK(cases[3]["children"][0]["tag"] == "skipped");
  CHECK(cases[3]["children"][0]["attrib"]["message"] == "nothing to judge # here");
  REQUIRE(cases[4]["children"].size() == 1);
  CHECK(cases[4]["children"][0]["tag"] == "error");
  CHECK(cases[4]["children"][0]["attrib"]["message"] == "could not read /etc/y");
  CHECK(cases[4]["children"][0]["attrib"]["type"] == "error");
}

TEST_CASE("junit: a hostile check id and root stay well-formed", "[formats]") {
  Report report;
  report.root = kHostile;
  report.checks.push_back(result(kHostile, CheckStatus::pass, kHostile));
  const json parsed = parse_with_python(kJunitParser, render_junit(report));
  CHECK(parsed["cases"][0]["attrib"]["name"] == hostile_in_xml());
  CHECK(parsed["cases"][0]["children"][0]["text"] == hostile_in_xml());
  CHECK(parsed["properties"]["pycheck.root"] == hostile_in_xml());
}

TEST_CASE("tap: TAP::Parser reads the plan, ok/not ok, SKIP and YAML diagnostics", "[formats]") {
  const Report report = every_status_report();
  const std::string tap = render_tap(report);
  CHECK(tap.rfind("TAP version 13\n1..5\n# pycheck: FAIL", 0) == 0);
  CHECK(tap.find("ok 1 - a.pass: all good\n") != std::string::npos);
  CHECK(tap.find("ok 4 - d.skip # SKIP nothing to judge \\# here\n") != std::string::npos);
  CHECK(tap.find("not ok 5 - e.error: could not read /etc/y\n") != std::string::npos);

  const json parsed = parse_with_perl(kTapParser, tap);
  CHECK(parsed["parse_errors"] == json::array());
  CHECK(parsed["version"] == 13);
  CHECK(parsed["plan"] == "1..5");
  CHECK(parsed["is_good_plan"] == 1);
  CHECK(parsed["passed"] == json({1, 2, 4}));
  CHECK(parsed["failed"] == json({3, 5}));
  CHECK(parsed["skipped"] == json({4}));
  const json& tests = parsed["tests"];
  REQUIRE(tests.size() == 5);
  CHECK_FALSE(tests[0].contains("yaml"));  // a pass needs no diagnostics
  CHECK(tests[1]["yaml"]["severity"] == "warn");
  CHECK(tests[1]["yaml"]["message"] == "a little off");
  CHECK(tests[1]["yaml"]["fix"] == "fix it");
  CHECK(tests[1]["yaml"]["data"]["path"] == "/etc/x");
  // YAMLish: untyped scalars; "x: y" items must not turn into mappings.
  CHECK(tests[1]["yaml"]["data"]["list"] ==
        json({"1", "two", nullptr, "true", "/etc/x: bad data", "a : b", "http://x"}));
  CHECK(tests[1]["yaml"]["data"]["nested"]["k"]["x"] == "1");
  CHECK(tests[1]["yaml"]["data"]["nested"][".dot"]["-dash"] == "2");
  // The hostile summary: one line in the description ('#' and '\' escaped,
  // line ends folded, controls dropped), exact in the YAML block.
  const std::string r(kFffd);
  CHECK(tests[2]["description"] == "- c.fail: q\"a'&<>]]>\\\\\\#   ||" + r + "|" + r + r + "|" + r +
                                       r + r + "|" + r + r +
                                       "x|\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x90\x8d \xef\xbf\xbe|end");
  CHECK(tests[2]["ok"] == 0);
  CHECK(tests[2]["yaml"]["severity"] == "fail");
  CHECK(tests[2]["yaml"]["message"] == hostile_as_utf8());
  CHECK(tests[2]["yaml"]["fix"] == hostile_as_utf8() + "\n" + hostile_as_utf8());  // advice, command
  CHECK(tests[2]["yaml"]["findings"][0]["message"] == hostile_as_utf8());
  CHECK(tests[2]["yaml"]["findings"][0]["cause"] == hostile_as_utf8());
  CHECK(tests[2]["yaml"]["data"]["value"] == hostile_as_utf8());
  CHECK(tests[2]["yaml"]["data"][hostile_as_utf8()] == "hostile key");
  CHECK(tests[2]["yaml"]["data"]["empty"] == json::object());
  CHECK(tests[2]["yaml"]["data"]["none"] == json::array());
  CHECK(tests[3]["directive"] == "SKIP");
  CHECK(tests[4]["yaml"]["severity"] == "error");
}

TEST_CASE("tap: no checks is a skipped plan", "[formats]") {
  const json parsed = parse_with_perl(kTapParser, render_tap(Report{}));
  CHECK(parsed["parse_errors"] == json::array());
  CHECK(parsed["plan"] == "1..0");
  CHECK(parsed["tests"] == json::array());
}
