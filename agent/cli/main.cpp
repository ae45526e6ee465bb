#include "agent/cli/cli.h"

// glibc's default malloc gives each check thread an arena of its own. One
// shared arena (M_ARENA_MAX 1) saved about 250 KiB of peak RSS but made the
// pool threads queue on its lock: a full run took 1-1.5 ms longer.
int main(int argc, char** argv) { return pycheck::run_cli(argc, argv); }
