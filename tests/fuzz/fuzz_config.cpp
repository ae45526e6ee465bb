// The config file (--config, JSON) against a check table whose parameters have
// every JSON kind the real checks declare (the real table would pull in every
// check and libcurl). effective_params() must keep each declared parameter's type.
#include <array>

#include "agent/config.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

const std::array<pycheck::CheckInfo, 5>& checks() {
  static const std::array<pycheck::CheckInfo, 5> table{{
      {"apt.security-updates",
       "t",
       "e",
       nullptr,
       {{"fail_above", "-1", "d"}, {"pending_is", "\"warn\"", "d"}}},
      {"python.eol", "t", "e", nullptr, {{"warn_months", "6", "d"}}},
      {"python.installs", "t", "e", nullptr, {{"extra_prefixes", "[]", "d"}}},
      {"tls.ca-certificates",
       "t",
       "e",
       nullptr,
       {{"expired_is", R"("pass")", "d"},
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
      pycheck::json def = pycheck::json::parse(p.default_json);
      const pycheck::json& value = params.at(std::string(p.name));
      FUZZ_CHECK(value.is_number() == def.is_number());
      if (!def.is_number()) FUZZ_CHECK(value.type() == def.type());
      (void)value.dump();  // must not throw (invalid UTF-8 would)
    }
  }
  return 0;
}
