#include "agent/core/check.h"

namespace pycheck {

std::string_view to_string(CheckStatus status) {
  switch (status) {
    case CheckStatus::pass: return "pass";
    case CheckStatus::warn: return "warn";
    case CheckStatus::fail: return "fail";
    case CheckStatus::skip: return "skip";
    case CheckStatus::error: return "error";
  }
  return "error";
}

std::optional<CheckStatus> parse_check_status(std::string_view text) {
  for (CheckStatus s : {CheckStatus::pass, CheckStatus::warn, CheckStatus::fail, CheckStatus::skip,
                        CheckStatus::error}) {
    if (to_string(s) == text) return s;
  }
  return std::nullopt;
}

}  // namespace pycheck
