#include <malloc.h>

#include "agent/cli.h"

int main(int argc, char** argv) {
  // glibc gives each thread that allocates its own malloc arena (up to 8 per
  // core), each with its own heap pages: with a dozen short check threads that
  // was a third of the peak RSS. One shared arena costs a little lock traffic.
  ::mallopt(M_ARENA_MAX, 1);
  return pycheck::run_cli(argc, argv);
}
