#include "agent/config.h"

#include "agent/duration.h"

namespace pycheck {
namespace {

std::string list_keys(std::initializer_list<std::string_view> keys) {
  std::string out;
  for (std::string_view k : keys) out += (out.empty() ? "" : ", ") + std::string(k);
  return out;
}

bool same_kind(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) {
    return !(a.is_number_integer() || a.is_number_unsigned()) || b.is_number_integer() ||
           b.is_number_unsigned();
  }
  return a.type() == b.type();
}

std::optional<CheckStatus> parse_severity(const json& value) {
  if (!value.is_string()) return std::nullopt;
  auto status = parse_check_status(value.get<std::string>());
  if (status != CheckStatus::warn && status != CheckStatus::fail) return std::nullopt;
  return status;
}

Result<CheckConfig> parse_check_config(const std::string& id, const json& value,
                                       const CheckInfo& info) {
  const std::string where = "config: checks.\"" + id + "\"";
  if (!value.is_object()) return Error{where + " must be an object"};
  CheckConfig cc;
  for (const auto& [key, v] : value.items()) {
    if (key == "enabled") {
      if (!v.is_boolean()) return Error{where + ".enabled must be true or false"};
      cc.enabled = v.get<bool>();
    } else if (key == "severity") {
      cc.severity = parse_severity(v);
      if (!cc.severity) return Error{where + ".severity must be \"warn\" or \"fail\""};
    } else if (key == "params") {
      if (!v.is_object()) return Error{where + ".params must be an object"};
      for (const auto& [pname, pvalue] : v.items()) {
        const CheckParam* param = nullptr;
        for (const CheckParam& p : info.params) {
          if (p.name == pname) param = &p;
        }
        if (param == nullptr) {
          std::string known;
          for (const CheckParam& p : info.params)
            known += (known.empty() ? "" : ", ") + std::string(p.name);
          return Error{where + ".params: unknown parameter \"" + pname +
                       "\" (known: " + (known.empty() ? "none" : known) + ")"};
        }
        json def = json::parse(param->default_json);
        if (!same_kind(def, pvalue)) {
          return Error{where + ".params." + pname + " must be of the same type as its default " +
                       std::string(param->default_json)};
        }
        cc.params[pname] = pvalue;
      }
    } else {
      return Error{where + ": unknown key \"" + key +
                   "\" (known: " + list_keys({"enabled", "severity", "params"}) + ")"};
    }
  }
  return cc;
}

}  // namespace

Result<Config> parse_config(std::string_view text, std::span<const CheckInfo> checks) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
  if (doc.is_discarded()) return Error{"config: not valid JSON"};
  if (!doc.is_object()) return Error{"config: the top level must be a JSON object"};
  Config config;
  for (const auto& [key, value] : doc.items()) {
    if (key == "fail_on") {
      config.fail_on = parse_severity(value);
      if (!config.fail_on) return Error{"config: fail_on must be \"warn\" or \"fail\""};
    } else if (key == "timeout") {
      if (!value.is_string()) return Error{"config: timeout must be a string such as \"800ms\""};
      auto d = parse_duration(value.get<std::string>());
      if (!d) return Error{"config: timeout: " + d.error().message};
      config.timeout = *d;
    } else if (key == "online") {
      if (!value.is_boolean()) return Error{"config: online must be true or false"};
      config.online = value.get<bool>();
    } else if (key == "checks") {
      if (!value.is_object()) return Error{"config: checks must be an object keyed by check id"};
      for (const auto& [id, check_value] : value.items()) {
        const CheckInfo* info = nullptr;
        for (const CheckInfo& c : checks) {
          if (c.id == id) info = &c;
        }
        if (info == nullptr) return Error{"config: checks: unknown check id \"" + id + "\""};
        auto cc = parse_check_config(id, check_value, *info);
        if (!cc) return cc.error();
        config.checks[id] = std::move(cc).value();
      }
    } else {
      return Error{"config: unknown key \"" + key +
                   "\" (known: " + list_keys({"fail_on", "timeout", "online", "checks"}) + ")"};
    }
  }
  return config;
}

json effective_params(const CheckInfo& check, const Config& config) {
  json params = json::object();
  for (const CheckParam& p : check.params)
    params[std::string(p.name)] = json::parse(p.default_json);
  auto it = config.checks.find(check.id);
  if (it != config.checks.end()) {
    for (const auto& [k, v] : it->second.params.items()) params[k] = v;
  }
  return params;
}

}  // namespace pycheck
