#include "agent/cli/config.h"

#include <limits>

#include "agent/core/duration.h"

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

// A value as the user wrote it, short enough for one line.
std::string shown(const json& value) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() <= 60) return text;
  std::size_t cut = 57;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // whole UTF-8
  return text.substr(0, cut) + "...";
}

bool in_range(const json& value, long long min, long long max) {
  if (value.is_number_unsigned()) {  // may not fit a long long
    const auto u = value.get<unsigned long long>();
    return max >= 0 && u <= static_cast<unsigned long long>(max) &&
           (min <= 0 || u >= static_cast<unsigned long long>(min));
  }
  const auto i = value.get<long long>();
  return i >= min && i <= max;
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
        if (auto problem = param_value_problem(*param, pvalue)) {
          return Error{where + ".params." + pname + ": " + *problem};
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

std::string describe_param_type(const CheckParam& param) {
  const ParamType& type = param.type;
  switch (type.kind) {
    case ParamType::Kind::one_of: {
      std::string out = "one of ";
      for (std::size_t i = 0; i < type.allowed.size(); ++i) {
        out += (i ? ", \"" : "\"") + std::string(type.allowed[i]) + "\"";
      }
      return out;
    }
    case ParamType::Kind::integer:
      if (type.max == std::numeric_limits<long long>::max()) {
        return "a whole number, " + std::to_string(type.min) + " or more";
      }
      return "a whole number from " + std::to_string(type.min) + " to " + std::to_string(type.max);
    case ParamType::Kind::string_list:
      return type.item_form.empty()
                 ? "a list of strings"
                 : "a list of strings, each \"" + std::string(type.item_form) + "\"";
    case ParamType::Kind::unspecified:
      break;
  }
  return "a JSON " + std::string(json::parse(param.default_json).type_name()) + ", as its default";
}

std::optional<std::string> param_value_problem(const CheckParam& param, const json& value) {
  const ParamType& type = param.type;
  const std::string is_not = shown(value) + " is not " + describe_param_type(param);
  switch (type.kind) {
    case ParamType::Kind::one_of:
      if (value.is_string()) {
        for (std::string_view allowed : type.allowed) {
          if (value.get_ref<const std::string&>() == allowed) return std::nullopt;
        }
      }
      return is_not;
    case ParamType::Kind::integer:
      if (value.is_number_integer() && in_range(value, type.min, type.max)) return std::nullopt;
      return is_not;
    case ParamType::Kind::string_list:
      if (!value.is_array()) return is_not;
      for (std::size_t i = 0; i < value.size(); ++i) {
        const json& item = value[i];
        const std::string which = "item " + std::to_string(i + 1) + " (" + shown(item) + ")";
        if (!item.is_string()) {
          return which + " is not a string: expected " + describe_param_type(param);
        }
        if (type.item_ok != nullptr && !type.item_ok(item.get_ref<const std::string&>())) {
          return which + " is not \"" + std::string(type.item_form) + "\"";
        }
      }
      return std::nullopt;
    case ParamType::Kind::unspecified:
      break;
  }
  if (same_kind(json::parse(param.default_json), value)) return std::nullopt;
  return is_not;
}

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
