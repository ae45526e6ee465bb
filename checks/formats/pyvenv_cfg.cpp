#include "checks/formats/pyvenv_cfg.h"
#include "agent/core/text.h"

#include <cctype>
#include <vector>

namespace pycheck {
namespace {

std::optional<std::string> get(const std::map<std::string, std::string>& values,
                               const std::string& key) {
  auto it = values.find(key);
  if (it == values.end()) return std::nullopt;
  return it->second;
}

// "3.12.1.final.0" -> "3.12.1"; "3.13.0.beta.2" -> "3.13.0b2"; nullopt otherwise.
std::optional<std::string> version_from_version_info(std::string_view info) {
  const std::vector<std::string_view> parts = split(info, '.');
  if (parts.size() < 3) return std::nullopt;
  for (std::size_t i = 0; i < 3; ++i) {
    if (parts[i].empty()) return std::nullopt;
    for (char c : parts[i]) {
      if (c < '0' || c > '9') return std::nullopt;
    }
  }
  std::string version =
      std::string(parts[0]) + "." + std::string(parts[1]) + "." + std::string(parts[2]);
  if (parts.size() >= 5) {
    std::string_view level = parts[3];
    std::string serial(parts[4]);
    if (level == "alpha") version += "a" + serial;
    if (level == "beta") version += "b" + serial;
    if (level == "candidate") version += "rc" + serial;
  }
  return version;
}

}  // namespace

Result<PyvenvCfg> parse_pyvenv_cfg(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) return Error{"binary data, not a pyvenv.cfg"};
  PyvenvCfg cfg;
  for (std::string_view line : split_lines(text)) {
    std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    cfg.values[lowercase(trim(line.substr(0, eq)))] = std::string(trim(line.substr(eq + 1)));
  }
  auto home = get(cfg.values, "home");
  if (!home || home->empty()) return Error{"no \"home = <dir>\" line"};
  cfg.home = *home;
  cfg.version = get(cfg.values, "version");
  if (!cfg.version) {
    if (auto info = get(cfg.values, "version_info")) cfg.version = version_from_version_info(*info);
  }
  if (auto include = get(cfg.values, "include-system-site-packages")) {
    cfg.include_system_site_packages =
        lowercase(*include) == "true";  // "True", "false", "no": as site.py
  }
  cfg.executable = get(cfg.values, "executable");
  cfg.command = get(cfg.values, "command");
  cfg.prompt = get(cfg.values, "prompt");
  cfg.implementation = get(cfg.values, "implementation");
  cfg.virtualenv_version = get(cfg.values, "virtualenv");
  return cfg;
}

}  // namespace pycheck
