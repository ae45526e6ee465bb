// The config file: known keys only, named when unknown. Check parameters: typed,
// validated when the config loads, defaults declared once in the check table; a
// check then runs with valid and complete params.
#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

#include "agent/cli/config.h"
#include "checks/check_table.h"

using namespace pycheck;
using namespace std::chrono_literals;

namespace {

bool is_word(std::string_view s) { return !s.empty() && s.find(' ') == std::string_view::npos; }

const std::vector<CheckInfo>& demo_checks() {
  static const std::vector<CheckInfo> checks{
      {"demo",
       "Demo",
       "",
       nullptr,
       {{"mode", "\"warn\"", "", ParamType::one_of({"warn", "fail"})},
        {"months", "6", "", ParamType::integer(0, 60)},
        {"above", "-1", "", ParamType::integer(-1, std::numeric_limits<long long>::max())},
        {"names", "[]", "", ParamType::string_list()},
        {"words", R"(["a"])", "", ParamType::string_list("word", is_word)},
        {"legacy", "3", ""}}}};
  return checks;
}

// The error parse_config gives for `params` of the demo check; "" when it loads.
std::string error_for(const std::string& params) {
  auto config = parse_config(R"({"checks":{"demo":{"params":)" + params + "}}}", demo_checks());
  return config ? "" : config.error().message;
}

}  // namespace

TEST_CASE("config params: one_of names the check, the key and the allowed values", "[config]") {
  CHECK(error_for(R"({"mode":"fail"})").empty());
  CHECK(error_for(R"({"mode":"fial"})") ==
        R"(config: checks."demo".params.mode: "fial" is not one of "warn", "fail")");
  CHECK(error_for(R"({"mode":1})") ==
        R"(config: checks."demo".params.mode: 1 is not one of "warn", "fail")");
  CHECK(error_for(R"({"mode":"WARN"})") != "");  // exact, as the checks compare
}

TEST_CASE("config params: integers are whole and in range", "[config]") {
  CHECK(error_for(R"({"months":0})").empty());
  CHECK(error_for(R"({"months":60})").empty());
  CHECK(error_for(R"({"months":61})") ==
        "config: checks.\"demo\".params.months: 61 is not a whole number from 0 to 60");
  CHECK(error_for(R"({"months":-1})") ==
        "config: checks.\"demo\".params.months: -1 is not a whole number from 0 to 60");
  for (const char* wrong : {"6.5", "\"6\"", "true", "null", "[6]", "18446744073709551615"}) {
    INFO(wrong);
    CHECK_THAT(error_for(std::string(R"({"months":)") + wrong + "}"),
               Catch::Contains("params.months: ") &&
                   Catch::EndsWith(" is not a whole number from 0 to 60"));
  }
  // Without an upper bound.
  CHECK(error_for(R"({"above":-1})").empty());
  CHECK(error_for(R"({"above":9223372036854775807})").empty());
  CHECK(error_for(R"({"above":-2})") ==
        "config: checks.\"demo\".params.above: -2 is not a whole number, -1 or more");
  CHECK(error_for(R"({"above":18446744073709551615})") != "");
}

TEST_CASE("config params: lists of strings, item by item", "[config]") {
  CHECK(error_for(R"({"names":[]})").empty());
  CHECK(error_for(R"({"names":["/opt/a","/opt/b"]})").empty());
  CHECK(error_for(R"({"names":"/opt/a"})") ==
        R"(config: checks."demo".params.names: "/opt/a" is not a list of strings)");
  CHECK(error_for(R"({"names":["/opt/a",5]})") ==
        "config: checks.\"demo\".params.names: item 2 (5) is not a string: expected a list of "
        "strings");
  CHECK(error_for(R"({"words":["one","two words"]})") ==
        R"(config: checks."demo".params.words: item 2 ("two words") is not "word")");
  CHECK(error_for(R"({"words":[null]})") ==
        "config: checks.\"demo\".params.words: item 1 (null) is not a string: expected a list "
        "of strings, each \"word\"");
}

TEST_CASE("config params: an untyped parameter takes its default's JSON type", "[config]") {
  CHECK(error_for(R"({"legacy":5})").empty());
  CHECK(error_for(R"({"legacy":"5"})") ==
        R"(config: checks."demo".params.legacy: "5" is not a JSON number, as its default)");
}

TEST_CASE("config params: long values are cut in messages", "[config]") {
  const std::string message = error_for(R"({"mode":")" + std::string(500, 'x') + "\"}");
  CHECK_THAT(message, Catch::Contains("xxx...\" is not one of") || Catch::Contains("x... is not"));
  CHECK(message.size() < 160);
  // Cut between characters, never inside one ("é" is two bytes in UTF-8).
  std::string accents;
  for (int i = 0; i < 40; ++i) accents += "\u00e9";
  const std::string cut = error_for(R"({"mode":"x)" + accents + "\"}");
  CHECK_THAT(cut, Catch::Contains("\u00e9...") && Catch::Contains("is not one of"));
  CHECK_NOTHROW(json(cut).dump());  // throws on invalid UTF-8
}

TEST_CASE("config params: defaults come from the declaration, config overrides", "[config]") {
  const CheckInfo& demo = demo_checks().front();
  json defaults = effective_params(demo, Config{});
  CHECK(defaults == json::parse(R"({"mode":"warn","months":6,"above":-1,"names":[],)"
                                R"("words":["a"],"legacy":3})"));
  auto config = parse_config(R"({"checks":{"demo":{"params":{"months":12}}}})", demo_checks());
  REQUIRE(config);
  CHECK(effective_params(demo, *config)["months"] == 12);
  CHECK(effective_params(demo, *config)["mode"] == "warn");
}

TEST_CASE("check table: every parameter is typed and its default is valid", "[config]") {
  // python.shared-libraries is being reworked elsewhere; its parameter gets
  // ParamType::string_list() then and leaves this list.
  const std::set<std::string> untyped_for_now{};
  for (const CheckInfo& check : check_table()) {
    for (const CheckParam& param : check.params) {
      const std::string name = std::string(check.id) + "." + std::string(param.name);
      INFO(name);
      const json def = json::parse(param.default_json, nullptr, false);
      REQUIRE_FALSE(def.is_discarded());
      CHECK_FALSE(param_value_problem(param, def));
      CHECK_FALSE(param.description.empty());
      if (!untyped_for_now.contains(name)) {
        CHECK(param.type.kind != ParamType::Kind::unspecified);
      }
    }
  }
}

TEST_CASE("check table: bad values are refused when the config loads", "[config]") {
  struct Bad {
    const char* check;
    const char* params;
    const char* message;
  };
  for (
      const Bad& bad : {
          Bad{"apt.security-updates", R"({"pending_is":"fial"})",
              R"(params.pending_is: "fial" is not one of "warn", "fail")"},
          Bad{"apt.security-updates", R"({"fail_above":"x"})",
              R"(params.fail_above: "x" is not a whole number, -1 or more)"},
          Bad{"os.eol", R"({"warn_months":99})",
              "params.warn_months: 99 is not a whole number from 0 to 60"},
          Bad{"python.eol", R"({"warn_months":"6"})",
              R"(params.warn_months: "6" is not a whole number from 0 to 60)"},
          Bad{"pip.version", R"({"behind_is":"maybe"})",
              R"(params.behind_is: "maybe" is not one of "warn", "pass")"},
          Bad{"tls.ca-certificates", R"({"expired_is":"fail"})",
              R"(params.expired_is: "fail" is not one of "pass", "warn")"},
          Bad{"python.installs", R"({"extra_prefixes":["/opt/py",1]})",
              "params.extra_prefixes: item 2 (1) is not a string: expected a list of strings"},
          Bad{"net.services", R"({"required_services":["postgresql"]})",
              R"(params.required_services: item 1 ("postgresql") is not "name port/protocol")"},
          Bad{"net.services", R"({"required_protocols":"tcp 6"})",
              R"(params.required_protocols: "tcp 6" is not a list of strings, each "name number")"},
      }) {
    const std::string text =
        std::string(R"({"checks":{")") + bad.check + R"(":{"params":)" + bad.params + "}}}";
    INFO(text);
    auto config = parse_config(text, check_table());
    REQUIRE_FALSE(config);
    CHECK(config.error().message ==
          "config: checks.\"" + std::string(bad.check) + "\"." + bad.message);
  }
  // And good ones load.
  auto good = parse_config(
      R"({"checks":{"net.services":{"params":{"required_services":["postgresql 5432/tcp"],)"
      R"("required_protocols":["icmp 1"]}},"apt.security-updates":{"params":)"
      R"({"fail_above":3,"pending_is":"fail"}}}})",
      check_table());
  CHECK(good);
}

TEST_CASE("explain's words for each parameter type", "[config]") {
  const auto& params = demo_checks().front().params;
  CHECK(describe_param_type(params[0]) == R"(one of "warn", "fail")");
  CHECK(describe_param_type(params[1]) == "a whole number from 0 to 60");
  CHECK(describe_param_type(params[2]) == "a whole number, -1 or more");
  CHECK(describe_param_type(params[3]) == "a list of strings");
  CHECK(describe_param_type(params[4]) == R"(a list of strings, each "word")");
  CHECK(describe_param_type(params[5]) == "a JSON number, as its default");
}

TEST_CASE("config: known keys only, named when unknown", "[core]") {
  auto checks = check_table();
  auto ok = parse_config(R"({"fail_on":"warn","timeout":"2s","online":false,
      "checks":{"locale":{"enabled":false},"python.path":{"severity":"fail"}}})",
                         checks);
  REQUIRE(ok.ok());
  CHECK(ok->fail_on == CheckStatus::warn);
  CHECK(ok->timeout == 2000ms);
  CHECK_FALSE(ok->checks.at("locale").enabled);
  CHECK(ok->checks.at("python.path").severity == CheckStatus::fail);

  struct Bad {
    const char* text;
    const char* names;
  };
  for (Bad bad :
       {Bad{R"({"fail-on":"warn"})", "fail-on"}, Bad{R"({"checks":{"nope":{}}})", "nope"},
        Bad{R"({"checks":{"locale":{"enabeld":true}}})", "enabeld"},
        Bad{R"({"checks":{"locale":{"params":{"x":1}}}})", "\"x\""},
        Bad{R"({"checks":{"locale":{"severity":"skip"}}})", "severity"},
        Bad{R"({"timeout":"800"})", "timeout"}, Bad{"[1,2]", "object"}, Bad{"{not json", "JSON"}}) {
    INFO(bad.text);
    auto r = parse_config(bad.text, checks);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find(bad.names) != std::string::npos);
  }
}

TEST_CASE("config params: declared names and types, defaults merged", "[core]") {
  CheckInfo info{
      "demo", "Demo", "", nullptr, {{"limit", "3", "a number"}, {"name", "\"x\"", "a string"}}};
  std::vector<CheckInfo> checks{info};
  auto ok = parse_config(R"({"checks":{"demo":{"params":{"limit":5}}}})", checks);
  REQUIRE(ok.ok());
  json params = effective_params(info, *ok);
  CHECK(params["limit"] == 5);
  CHECK(params["name"] == "x");
  auto wrong_type = parse_config(R"({"checks":{"demo":{"params":{"limit":"5"}}}})", checks);
  REQUIRE_FALSE(wrong_type.ok());
  CHECK(wrong_type.error().message.find("limit") != std::string::npos);
}
