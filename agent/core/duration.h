// Durations on the command line and in config: "800ms", "2s", "1.5s", "5m", "6h".
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "agent/core/result.h"

namespace pycheck {

// Parses a positive duration with a unit (ms, s, m, h). A bare number is an
// error: "800" could mean seconds or milliseconds, and a probe timeout off by
// 1000x is worse than a usage error.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);
std::string format_duration(std::chrono::milliseconds d);

}  // namespace pycheck
