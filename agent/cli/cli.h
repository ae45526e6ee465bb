// The command line: parses arguments (CLI11), builds the run, prints, and
// returns the process exit code: 0 no failure, 1 a check failed or erred (or
// warned, with --fail-on warn), 2 a usage or config error or an --output not written.
#pragma once

namespace pycheck {

int run_cli(int argc, char** argv);

}  // namespace pycheck
