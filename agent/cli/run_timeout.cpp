#include "agent/cli/run_timeout.h"

namespace pycheck {

std::chrono::milliseconds resolve_run_timeout(std::optional<std::chrono::milliseconds> command_line,
                                              std::optional<std::chrono::milliseconds> config,
                                              RunKind kind, bool online) {
  if (command_line) return *command_line;
  if (config) return *config;
  if (kind == RunKind::serve) return kServeRunTimeout;
  return online ? kOnlineRunTimeout : kOfflineRunTimeout;
}

}  // namespace pycheck
