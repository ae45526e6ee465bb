#include "agent/core/environment.h"

#include <unistd.h>

#include "agent/core/text.h"

extern char** environ;

namespace pycheck {
namespace {

bool valid_name(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string_view> Environment::get(std::string_view name) const {
  auto it = vars_.find(name);
  if (it == vars_.end()) return std::nullopt;
  return std::string_view(it->second);
}

Environment Environment::from_process() {
  Environment env;
  for (char** p = environ; p != nullptr && *p != nullptr; ++p) {
    std::string_view record(*p);
    std::size_t eq = record.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    env.vars_.emplace(std::string(record.substr(0, eq)), std::string(record.substr(eq + 1)));
  }
  return env;
}

Environment Environment::parse_environ_block(std::string_view block) {
  Environment env;
  std::size_t i = 0;
  while (i < block.size()) {
    std::size_t end = block.find('\0', i);
    if (end == std::string_view::npos) end = block.size();
    std::string_view record = block.substr(i, end - i);
    std::size_t eq = record.find('=');
    // The first definition wins, as getenv() finds it first.
    if (eq != std::string_view::npos && eq > 0) {
      env.vars_.emplace(std::string(record.substr(0, eq)), std::string(record.substr(eq + 1)));
    }
    i = end + 1;
  }
  return env;
}

Result<Environment> Environment::parse_env_file(std::string_view text) {
  Environment env;
  std::size_t line_no = 0;
  std::size_t i = 0;
  while (i <= text.size()) {
    std::size_t end = text.find('\n', i);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = trim_blanks(text.substr(i, end - i));
    ++line_no;
    i = end + 1;
    if (line.empty() || line.front() == '#') continue;
    if (line.starts_with("export ")) line = trim_blanks(line.substr(7));
    std::size_t eq = line.find('=');
    if (eq == std::string_view::npos || !valid_name(line.substr(0, eq))) {
      return Error{"line " + std::to_string(line_no) + ": expected KEY=VALUE, got \"" +
                   std::string(line.substr(0, 80)) + "\""};
    }
    std::string_view value = line.substr(eq + 1);
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    env.vars_[std::string(line.substr(0, eq))] = std::string(value);
  }
  return env;
}

}  // namespace pycheck
