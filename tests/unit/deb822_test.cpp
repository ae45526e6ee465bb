// deb822 stanzas: fields, continuation lines, comments, problems with line
// numbers; checked on tables, on garbage, and on this machine's dpkg status.
#include "checks/formats/deb822.h"

#include <catch2/catch.hpp>
#include <random>
#include <set>

#include "tests/unit/apt_test_support.h"

using namespace pycheck;

TEST_CASE("deb822: stanzas, case-insensitive names, trimmed values, line numbers",
          "[apt][deb822]") {
  const std::string text =
      "\n"
      "Package: curl\n"
      "version:   7.88.1-10+deb12u5  \n"
      "Architecture:amd64\n"
      "\n"
      "\n"
      "Package: zlib1g\n"
      "Empty:\n";
  auto stanzas = parse_deb822(text);
  REQUIRE(stanzas.size() == 2);
  const Deb822Stanza& curl = stanzas[0];
  CHECK(curl.line == 2);
  CHECK(curl.problems.empty());
  REQUIRE(curl.fields.size() == 3);
  CHECK(curl.value("VERSION") == "7.88.1-10+deb12u5");
  CHECK(curl.value("architecture") == "amd64");
  CHECK(curl.find("Version")->name == "version");
  CHECK(curl.find("Version")->line == 3);
  CHECK_FALSE(curl.value("Source").has_value());
  CHECK(curl.find("Source") == nullptr);
  CHECK(stanzas[1].line == 7);
  CHECK(stanzas[1].value("Empty") == "");
  // Views point into the caller's text: nothing was copied.
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  CHECK(curl.find("Package")->value.data() >= begin);
  CHECK(curl.find("Package")->value.data() < end);
}

TEST_CASE("deb822: continuation lines, folded and multi-line values", "[apt][deb822]") {
  const std::string text =
      "Package: x\n"
      "Description: short text\n"
      " first line\n"
      " .\n"
      "  indented\n"
      "\tTabbed\n"
      "Depends: a,\n"
      "  b (>= 1),\n"
      "\n";
  auto stanzas = parse_deb822(text);
  REQUIRE(stanzas.size() == 1);
  const Deb822Field* description = stanzas[0].find("Description");
  REQUIRE(description != nullptr);
  CHECK(description->multiline());
  CHECK(description->value == "short text");
  auto lines = description->continuation_lines();
  REQUIRE(lines.size() == 4);
  CHECK(lines[0].text == " first line");
  CHECK(lines[0].line == 3);
  CHECK(lines[3].line == 6);
  CHECK(description->multiline_text() == "short text\nfirst line\n\n indented\nTabbed");
  CHECK(description->folded() == "short text first line . indented Tabbed");
  CHECK(stanzas[0].find("Depends")->folded() == "a, b (>= 1),");
  CHECK_FALSE(stanzas[0].find("Package")->multiline());
}

TEST_CASE("deb822: comments between and inside stanzas", "[apt][deb822]") {
  const std::string text =
      "# header comment\n"
      "# more\n"
      "\n"
      "Types: deb\n"
      "# a comment inside the stanza\n"
      "URIs: http://mirror.example/debian\n"
      "Signed-By:\n"
      "# a comment inside a multi-line value\n"
      " -----BEGIN PGP PUBLIC KEY BLOCK-----\n"
      "# another\n"
      " .\n"
      " mQINBGRk\n"
      " -----END PGP PUBLIC KEY BLOCK-----\n"
      "\n"
      "# trailing comment only\n";
  auto stanzas = parse_deb822(text);
  REQUIRE(stanzas.size() == 1);
  const Deb822Stanza& s = stanzas[0];
  CHECK(s.line == 4);
  CHECK(s.problems.empty());
  CHECK(s.fields.size() == 3);
  const Deb822Field* key = s.find("signed-by");
  REQUIRE(key != nullptr);
  CHECK(key->multiline_text() ==
        "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBGRk\n-----END PGP PUBLIC KEY BLOCK-----");
  auto lines = key->continuation_lines();
  REQUIRE(lines.size() == 4);
  CHECK(lines[0].line == 9);  // comment lines are counted, not returned
  CHECK(lines[1].line == 11);

  // Without comment support (Packages, status) '#' lines are fields or problems.
  auto plain = parse_deb822("A: 1\n# no colon here\n#B: 2\n", Deb822Options{.comments = false});
  REQUIRE(plain.size() == 1);
  CHECK(plain[0].fields.size() == 2);
  CHECK(plain[0].value("#B") == "2");
  REQUIRE(plain[0].problems.size() == 1);
  CHECK(plain[0].problems[0].line == 2);
}

TEST_CASE("deb822: CRLF, blank lines with blanks, no final newline", "[apt][deb822]") {
  auto stanzas = parse_deb822("A: 1\r\nB: two\r\n words\r\n \t\r\nC: 3");
  REQUIRE(stanzas.size() == 2);
  CHECK(stanzas[0].value("A") == "1");
  CHECK(stanzas[0].find("B")->folded() == "two words");
  CHECK(stanzas[0].find("B")->multiline_text() == "two\nwords");
  CHECK(stanzas[1].value("C") == "3");
  CHECK(stanzas[1].line == 5);
  CHECK(parse_deb822("").empty());
  CHECK(parse_deb822("\n\n  \n").empty());
  CHECK(parse_deb822("# only\n# comments\n").empty());
}

TEST_CASE("deb822: malformed lines are problems with their line numbers", "[apt][deb822]") {
  struct Case {
    std::string text;
    std::size_t fields;
    std::size_t problem_line;
    const char* message;
  };
  const Case cases[] = {
      {"A: 1\nno colon\nB: 2\n", 2, 2, "not a 'Field: value' line: 'no colon'"},
      {"A: 1\n: empty name\n", 1, 2, "not a 'Field: value' line"},
      {"A: 1\n-Dash: x\n", 1, 2, "not a 'Field: value' line"},
      {"A: 1\nTwo Words: x\n", 1, 2, "not a 'Field: value' line"},
      {"\n continuation first\nA: 1\n", 1, 2, "continuation line without a field"},
      {"A: 1\nbad\n continued bad\n", 1, 2, "not a 'Field: value' line"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    auto stanzas = parse_deb822(c.text);
    REQUIRE(stanzas.size() == 1);
    CHECK(stanzas[0].fields.size() == c.fields);
    REQUIRE(stanzas[0].problems.size() == 1);  // a bad line's continuations are not re-reported
    CHECK(stanzas[0].problems[0].line == c.problem_line);
    CHECK(stanzas[0].problems[0].message.find(c.message) != std::string::npos);
  }
  // "Name : value" is accepted, as dpkg does.
  CHECK(parse_deb822("Name : value\n")[0].value("Name") == "value");
  // A stanza made only of a bad line is still returned, so its problem is seen.
  auto bad = parse_deb822("garbage\n\nA: 1\n");
  REQUIRE(bad.size() == 2);
  CHECK(bad[0].fields.empty());
  CHECK(bad[0].problems.size() == 1);
}

TEST_CASE("deb822: the pull reader reuses one stanza and reports its position", "[apt][deb822]") {
  Deb822Reader reader("A: 1\n\nB: 2\nC: 3\n\n\n");
  Deb822Stanza stanza;
  REQUIRE(reader.next(stanza));
  CHECK(stanza.fields.size() == 1);
  REQUIRE(reader.next(stanza));
  CHECK(stanza.fields.size() == 2);
  CHECK(stanza.value("A") == std::nullopt);
  CHECK_FALSE(reader.next(stanza));
  CHECK(stanza.fields.empty());
  CHECK_FALSE(reader.next(stanza));
}

TEST_CASE("deb822: helpers for apt booleans and word lists", "[apt][deb822]") {
  for (const char* yes : {"yes", "YES", "true", "with", "on", "enable", "1", " yes "}) {
    CHECK(parse_apt_bool(yes) == true);
  }
  for (const char* no : {"no", "No", "false", "without", "off", "disable", "0"}) {
    CHECK(parse_apt_bool(no) == false);
  }
  for (const char* neither : {"", "maybe", "2", "yes please"}) CHECK_FALSE(parse_apt_bool(neither));
  CHECK(split_words(" a\tb\n c  ") == std::vector<std::string_view>{"a", "b", "c"});
  CHECK(split_words("amd64,i386 arm64", true) ==
        std::vector<std::string_view>{"amd64", "i386", "arm64"});
  CHECK(split_words("a,b") == std::vector<std::string_view>{"a,b"});
  CHECK(split_words("").empty());
  CHECK(deb822_name_equals("Signed-By", "signed-by"));
  CHECK_FALSE(deb822_name_equals("Signed-By", "Signed-Bx"));
}

TEST_CASE("deb822: random garbage never crashes and views stay inside the input", "[apt][deb822]") {
  std::mt19937 random(42);
  const std::string alphabet = "ab:: \t\n\n\n\r#.-";
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    const std::size_t length = random() % 400;
    for (std::size_t i = 0; i < length; ++i) text.push_back(alphabet[random() % alphabet.size()]);
    if (round % 10 == 0) text.push_back(static_cast<char>(random() & 0xff));
    const std::size_t total_lines =
        static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
    const char* begin = text.data();
    const char* end = begin + text.size();
    for (const Deb822Stanza& stanza :
         parse_deb822(text, Deb822Options{.comments = round % 2 == 0})) {
      CHECK((stanza.line >= 1 && stanza.line <= total_lines));
      for (const Deb822Field& field : stanza.fields) {
        CHECK((field.name.data() >= begin && field.name.data() + field.name.size() <= end));
        CHECK((field.continuation.empty() ||
               (field.continuation.data() >= begin &&
                field.continuation.data() + field.continuation.size() <= end)));
        for (const Deb822Line& line : field.continuation_lines()) CHECK(line.line <= total_lines);
        (void)field.multiline_text();
      }
      for (const Deb822Problem& problem : stanza.problems) CHECK(problem.line <= total_lines);
    }
  }
}

TEST_CASE("deb822: this machine's dpkg status file, checked against dpkg-query", "[apt][deb822]") {
  // Needs dpkg (dpkg-query); fails without it.
  REQUIRE(pycheck::test::have_command("dpkg-query"));
  const std::string status = pycheck::test::read_host_file("/var/lib/dpkg/status");
  std::set<std::string> ours;
  Deb822Reader reader(status, Deb822Options{.comments = false});
  Deb822Stanza stanza;
  std::size_t stanzas = 0;
  while (reader.next(stanza)) {
    ++stanzas;
    CHECK(stanza.problems.empty());
    REQUIRE(stanza.value("Package").has_value());
    ours.insert(std::string(*stanza.value("Package")) + ":" +
                std::string(stanza.value("Architecture").value_or("")));
  }
  const auto query = pycheck::test::run_command("dpkg-query -W -f='${Package}:${Architecture}\\n'");
  REQUIRE(query.exit_code == 0);
  std::set<std::string> theirs;
  std::istringstream in(query.output);
  for (std::string line; std::getline(in, line);) theirs.insert(line);
  CHECK(stanzas > 20);
  CHECK(ours == theirs);
}
