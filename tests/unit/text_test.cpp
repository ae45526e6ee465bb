// agent/core/text.h: the string helpers the readers, checks and renderers share.
#include <catch2/catch.hpp>

#include "agent/core/text.h"

using namespace pycheck;
using Views = std::vector<std::string_view>;

TEST_CASE("join skips the separator while nothing is written yet", "[text]") {
  CHECK(join({}, ", ").empty());
  CHECK(join({"a", "b", "c"}, ", ") == "a, b, c");
  CHECK(join({"", "b"}, ", ") == "b");  // callers rely on it: an empty first part adds none
}

TEST_CASE("append_joined separates every item, empty ones too", "[text]") {
  std::string out = "v";
  const std::vector<int> numbers = {3, 12, 0};
  append_joined(out, numbers, ".", [](std::string& o, int n) { o += std::to_string(n); });
  CHECK(out == "v3.12.0");
  out.clear();
  const std::vector<std::string> parts = {"", "b"};
  append_joined(out, parts, ",", [](std::string& o, const std::string& s) { o += s; });
  CHECK(out == ",b");
}

TEST_CASE("split keeps every part, split_lines every line, split_at_any the words", "[text]") {
  CHECK(split("a.b..c", '.') == Views{"a", "b", "", "c"});
  CHECK(split("", '.') == Views{""});
  CHECK(split(".", '.') == Views{"", ""});
  CHECK(split_lines("a\n\nb\n") == Views{"a", "", "b"});
  CHECK(split_lines("a\nb") == Views{"a", "b"});
  CHECK(split_lines("").empty());
  CHECK(split_lines("\n") == Views{""});
  CHECK(split_at_any(" a,,b ", " ,") == Views{"a", "b"});
  CHECK(split_at_any(" \t", " \t").empty());
}

TEST_CASE("trim and lowercase", "[text]") {
  CHECK(trim(" \t a b \r\n") == "a b");
  CHECK(trim("   ").empty());
  CHECK(lowercase("Content-Type: ÄB") == "content-type: Äb");  // ASCII letters only
}
