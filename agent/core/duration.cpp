#include "agent/core/duration.h"

#include <charconv>
#include <cmath>

namespace pycheck {

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  auto bad = [&] {
    return Error{"invalid duration \"" + std::string(text) +
                 "\": expected a number with a unit, e.g. 800ms, 2s, 5m, 6h"};
  };
  std::size_t unit_at = 0;
  while (unit_at < text.size() && ((text[unit_at] >= '0' && text[unit_at] <= '9') || text[unit_at] == '.')) {
    ++unit_at;
  }
  if (unit_at == 0) return bad();
  double number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + unit_at, number);
  if (ec != std::errc() || end != text.data() + unit_at || !std::isfinite(number)) return bad();
  std::string_view unit = text.substr(unit_at);
  double factor = 0;
  if (unit == "ms") factor = 1;
  else if (unit == "s") factor = 1000;
  else if (unit == "m") factor = 60'000;
  else if (unit == "h") factor = 3'600'000;
  else return bad();
  double ms = number * factor;
  if (ms < 1 || ms > 365.0 * 24 * 3'600'000) {
    return Error{"duration \"" + std::string(text) + "\" is out of range (1ms to 365 days)"};
  }
  return std::chrono::milliseconds(static_cast<long long>(std::llround(ms)));
}

std::string format_duration(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace pycheck
