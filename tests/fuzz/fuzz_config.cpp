// The config file (--config, JSON) against a check table whose parameters have
// every ParamType the real checks declare, and untyped ones of every other JSON
// kind (the real table would pull in every check and libcurl). Whatever loads,
// effective_params() must give each declared parameter a value its type accepts.
#include <array>
#include <limits>

#include "agent/cli/config.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

bool one_word(std::string_view s) { return !s.empty() && s.find(' ') == std::string_view::npos; }

const std::array<pycheck::CheckInfo, 5>& checks() {
  using pycheck::ParamType;
  static const std::array<pycheck::CheckInfo, 5> table{{
      {"apt.security-updates",
       "t",
       "e",
       nullptr,
       {{"fail_above", "-1", "d", ParamType::integer(-1, std::numeric_limits<long long>::max())},
        {"pending_is", "\"warn\"", "d", ParamType::one_of({"warn", "fail"})}}},
      {"python.eol", "t", "e", nullptr, {{"warn_months", "6", "d", ParamType::integer(0, 60)}}},
      {"python.installs",
       "t",
       "e",
       nullptr,
       {{"extra_prefixes", "[]", "d", ParamType::string_list()},
        {"words", R"(["a"])", "d", ParamType::string_list("word", one_word)}}},
      {"tls.ca-certificates",
       "t",
       "e",
       nullptr,
       {{"expired_is", R"("pass")", "d", ParamType::one_of({"pass", "warn"})},
        {"ratio", "0.5", "d"},
        {"strict", "false", "d"},
        {"extra", "{}", "d"}}},
      {"locale", "t", "e", nullptr, {}},
  }};
  return table;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::as_view(data, size);
  auto config = pycheck::parse_config(in, checks());
  if (!config) {
    FUZZ_CHECK(config.error().message.starts_with("config"));
    return 0;
  }
  if (config->fail_on) {
    FUZZ_CHECK(*config->fail_on == pycheck::CheckStatus::warn ||
               *config->fail_on == pycheck::CheckStatus::fail);
  }
  if (config->timeout) FUZZ_CHECK(config->timeout->count() >= 1);
  for (const pycheck::CheckInfo& check : checks()) {
    pycheck::json params = pycheck::effective_params(check, *config);
    FUZZ_CHECK(params.size() == check.params.size());
    for (const pycheck::CheckParam& p : check.params) {
      const pycheck::json& value = params.at(std::string(p.name));
      FUZZ_CHECK(!pycheck::param_value_problem(p, value));
      (void)value.dump();  // must not throw (invalid UTF-8 would)
    }
  }
  return 0;
}
