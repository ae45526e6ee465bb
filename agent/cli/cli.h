// The command line: parses arguments (CLI11), builds the run, prints, and
// returns the process exit code (0 no failure, 1 a check failed, 2 usage/config error).
#pragma once

namespace pycheck {

int run_cli(int argc, char** argv);

}  // namespace pycheck
