#include "agent/cli.h"

int main(int argc, char** argv) { return pycheck::run_cli(argc, argv); }
