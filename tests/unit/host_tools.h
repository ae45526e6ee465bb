// Host files and commands for tests that use this machine's real files and
// tools as oracles (dpkg-query, getent, openssl). Header-only, tests only:
// readers and checks never touch the host directly.
#pragma once

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace pycheck::test::host {

inline std::string read_host_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  INFO("reading " << path);
  REQUIRE(in.good());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

struct CommandResult {
  int status;
  std::string out;
};

// Runs a shell command and captures its standard output, whatever its exit status.
inline CommandResult run_status(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  return {::pclose(pipe), out};
}

// Its standard output; the test fails when it exits non-zero.
inline std::string run_command(const std::string& command) {
  CommandResult r = run_status(command);
  INFO("command: " << command << "\noutput: " << r.out);
  REQUIRE(r.status == 0);
  return r.out;
}

inline std::string without_trailing_newlines(std::string out) {
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// run_command without its trailing newlines: one-line answers compare as strings.
inline std::string run_trimmed(const std::string& command) {
  return without_trailing_newlines(run_command(command));
}

// The standard output without trailing newlines, whatever the exit status (the
// caller compares it with what it expects, "" included).
inline std::string output_of(const std::string& command) {
  return without_trailing_newlines(run_status(command).out);
}

}  // namespace pycheck::test::host
