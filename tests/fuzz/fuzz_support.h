// Helpers shared by the libFuzzer targets: the input as a string_view, ways to
// split one input into several, and an invariant check that aborts (so
// libFuzzer saves the input as a crash) with a message saying what broke.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <utility>
#include <vector>

namespace fuzz {

inline std::string_view as_view(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Splits at the first NUL when there is one (so text seeds "a\0b" say where),
// else in the middle.
inline std::pair<std::string_view, std::string_view> split_two(std::string_view in) {
  std::size_t cut = in.find('\0');
  if (cut == std::string_view::npos) {
    cut = in.size() / 2;
    return {in.substr(0, cut), in.substr(cut)};
  }
  return {in.substr(0, cut), in.substr(cut + 1)};
}

// Splits on NUL bytes into at most `max_parts` pieces (the last keeps the rest).
inline std::vector<std::string_view> split_nul(std::string_view in, std::size_t max_parts) {
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < max_parts) {
    std::size_t cut = in.find('\0');
    if (cut == std::string_view::npos) break;
    parts.push_back(in.substr(0, cut));
    in.remove_prefix(cut + 1);
  }
  parts.push_back(in);
  return parts;
}

[[noreturn]] inline void invariant_failed(const char* what, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: invariant failed: %s\n", file, line, what);
  std::abort();
}

}  // namespace fuzz

#define FUZZ_CHECK(cond) \
  ((cond) ? static_cast<void>(0) : ::fuzz::invariant_failed(#cond, __FILE__, __LINE__))
