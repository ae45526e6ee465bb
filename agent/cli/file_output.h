// Files pycheck itself writes (--output) and reads from its command line
// (--config, --env-file): never in the inspected root.
#pragma once

#include <string>
#include <string_view>

#include "agent/core/result.h"

namespace pycheck {

// Writes `content` to `path` atomically: a temporary file in the same folder,
// fsync, then rename, so a reader (node_exporter's textfile collector, a
// script) never sees half a report. The temporary file is removed on failure.
Result<bool> write_file_atomically(const std::string& path, std::string_view content);

// Reads a file given on pycheck's own command line (config, env file), at most
// `max_bytes` (more is an error that says so). Regular files and pipes: the
// user named them, so `--env-file <(cmd)` and `--config /dev/stdin` fed by a
// pipe are what they mean (unlike FIFOs inside an inspected root, which RootFs
// refuses so that a probe cannot hang). A named FIFO waits for its writer.
// Terminals (reading one waits for Ctrl-D: a probe would hang), other devices,
// sockets and directories are errors.
Result<std::string> read_host_file(const std::string& path, std::size_t max_bytes = 4u << 20);

}  // namespace pycheck
