// Small string helpers the readers and checks share.
#pragma once

#include <cctype>
#include <string>
#include <string_view>
#include <vector>

namespace pycheck {

// "a", "b" -> "a, b" (with separator ", ").
inline std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (const std::string& p : parts) {
    if (!out.empty()) out += separator;
    out += p;
  }
  return out;
}

// Without leading and trailing white space (C locale isspace).
inline std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace pycheck
