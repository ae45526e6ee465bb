// LocalServer: a Python test server (tests/http/*.py) on 127.0.0.1, started for
// a test and stopped (SIGTERM) when the object goes away. The script prints
// "PORT <n>" on its first line once it listens; nothing but loopback is used.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace pycheck::test {

class LocalServer {
 public:
  // Runs `python3 <script> <args...>`; `script` is relative to tests/http/.
  LocalServer(const std::string& script, std::vector<std::string> args)
      : LocalServer(with_script(script, std::move(args)), "PORT ") {}

  // Runs `argv` and takes the port from the number after `port_marker` on the
  // first line it prints (python3 -m http.server says "... port 41235 ...").
  LocalServer(std::vector<std::string> argv, const std::string& port_marker) {
    int out[2];
    if (::pipe(out) != 0) throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      const int null_fd = ::open("/dev/null", O_WRONLY);
      ::dup2(null_fd, STDERR_FILENO);
      ::close(out[0]);
      ::close(out[1]);
      std::vector<char*> args;
      for (auto& arg : argv) args.push_back(arg.data());
      args.push_back(nullptr);
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
    ::close(out[1]);
    std::string line;
    pollfd pfd{out[0], POLLIN, 0};
    char c;
    while (line.find('\n') == std::string::npos && ::poll(&pfd, 1, 15'000) == 1 &&
           ::read(out[0], &c, 1) == 1) {
      line += c;
    }
    ::close(out[0]);
    const auto at = line.find(port_marker);
    if (at == std::string::npos) {
      stop();
      std::string command;
      for (const auto& arg : argv) command += (command.empty() ? "" : " ") + arg;
      throw std::runtime_error("test server did not start (" + command + "): got '" + line + "'");
    }
    port_ = std::stoi(line.substr(at + port_marker.size()));
  }
  ~LocalServer() { stop(); }
  LocalServer(const LocalServer&) = delete;
  LocalServer& operator=(const LocalServer&) = delete;

  int port() const { return port_; }
  static std::string python3() {
    return std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
  }
  std::string url(const std::string& scheme, const std::string& path) const {
    return scheme + "://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  static std::vector<std::string> with_script(const std::string& script,
                                              std::vector<std::string> args) {
    args.insert(args.begin(), {python3(), PYCHECK_SOURCE_DIR "/tests/http/" + script});
    return args;
  }
  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace pycheck::test
