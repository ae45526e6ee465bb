#include "agent/cli/cli.h"

// main sets no malloc option: each check thread keeps glibc's default arena of
// its own. One shared arena (M_ARENA_MAX 1) saved about 250 KiB of peak RSS but
// made the pool threads queue on its lock: a full run took 1-1.5 ms longer.
// The run's worker process sets its own thresholds (run_command in cli.cpp).
int main(int argc, char** argv) { return pycheck::run_cli(argc, argv); }
