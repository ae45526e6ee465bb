// The deadline of a run: what the user asked for, else a default that fits
// where the run happens and whether it uses the network.
#pragma once

#include <chrono>
#include <optional>

namespace pycheck {

// A one-shot run (`pycheck`, `pycheck run`: a person or a probe) or one of
// serve's background runs.
enum class RunKind { command, serve };

// Offline one-shot runs: under Kubernetes' default 1 s exec probe timeout.
inline constexpr std::chrono::milliseconds kOfflineRunTimeout{800};
// --online one-shot runs: fetching InRelease, the security indexes and pip's
// project page takes from a few hundred milliseconds to seconds, and no probe
// with a 1 s budget should go to the network anyway.
inline constexpr std::chrono::milliseconds kOnlineRunTimeout{10'000};
// serve: runs in the background, bounded by no probe's timeout.
inline constexpr std::chrono::milliseconds kServeRunTimeout{10'000};

// --timeout when given, else the config file's "timeout", else the default for
// `kind` and `online` (the constants above). An explicit value always wins.
std::chrono::milliseconds resolve_run_timeout(std::optional<std::chrono::milliseconds> command_line,
                                              std::optional<std::chrono::milliseconds> config,
                                              RunKind kind, bool online);

}  // namespace pycheck
