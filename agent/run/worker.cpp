#include "agent/run/worker.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <optional>

namespace pycheck {
namespace {

using Clock = std::chrono::steady_clock;

// The worker's message: a fixed header (exit code, flags, the two lengths),
// then the report and verdict bytes. Framed, because a worker whose threads
// are stuck never closes its end: the parent cannot wait for EOF.
constexpr std::size_t kHeaderSize = 4 + 1 + 8 + 8;
constexpr std::uint8_t kThreadsLeftBehind = 1;
constexpr std::uint64_t kMaxPartSize = std::uint64_t{1} << 31;  // a sanity bound, not a limit
constexpr int kExitNoOutput = 70;  // the worker's own exit code when work() threw

struct Pipe {
  int read = -1;
  int write = -1;
};

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

bool make_pipe(Pipe& p) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  p.read = fds[0];
  p.write = fds[1];
  return true;
}

// Writes everything; false when the reader is gone or another error occurs.
bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

template <typename T>
void put(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

template <typename T>
T get(const std::string& in, std::size_t offset) {
  T value;
  std::memcpy(&value, in.data() + offset, sizeof value);
  return value;
}

std::string encode(const WorkerOutput& out) {
  std::string frame;
  frame.reserve(kHeaderSize + out.report.size() + out.verdict.size());
  put<std::int32_t>(frame, out.exit_code);
  put<std::uint8_t>(frame, out.threads_left_behind ? kThreadsLeftBehind : 0);
  put<std::uint64_t>(frame, out.report.size());
  put<std::uint64_t>(frame, out.verdict.size());
  frame += out.report;
  frame += out.verdict;
  return frame;
}

// nullopt while `frame` is incomplete; an Error when its header is garbage.
std::optional<Result<WorkerOutput>> decode(const std::string& frame) {
  if (frame.size() < kHeaderSize) return std::nullopt;
  const auto report_size = get<std::uint64_t>(frame, 5);
  const auto verdict_size = get<std::uint64_t>(frame, 13);
  if (report_size > kMaxPartSize || verdict_size > kMaxPartSize) {
    return Result<WorkerOutput>(Error{"the check worker sent a garbled answer"});
  }
  if (frame.size() < kHeaderSize + report_size + verdict_size) return std::nullopt;
  WorkerOutput out;
  out.exit_code = get<std::int32_t>(frame, 0);
  out.threads_left_behind = (get<std::uint8_t>(frame, 4) & kThreadsLeftBehind) != 0;
  out.report = frame.substr(kHeaderSize, report_size);
  out.verdict = frame.substr(kHeaderSize + report_size, verdict_size);
  return Result<WorkerOutput>(std::move(out));
}

// The child's side: never returns.
[[noreturn]] void worker_main(const std::function<WorkerOutput()>& work, pid_t parent,
                              Pipe& empty_stdin, Pipe& result, Pipe& errors) {
  // stdin: a pipe with no writer (reads see EOF at once); stdout and stderr:
  // the relayed pipe. The caller's descriptors are not held: once the parent
  // exits, whoever waits on them sees EOF even while this worker is stuck.
  // (Were fds 0-2 closed by the caller, the first pipes took them; only the
  // write ends are sure to be above 2. Keep 0-2 as set here.)
  ::dup2(empty_stdin.read, STDIN_FILENO);
  ::dup2(errors.write, STDOUT_FILENO);
  ::dup2(errors.write, STDERR_FILENO);
  for (int* fd : {&empty_stdin.read, &errors.write, &errors.read, &result.read}) {
    if (*fd > STDERR_FILENO) close_fd(*fd);
  }
  // Killed with the parent (a probe's timeout kills it): no orphaned work.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_Exit(kExitNoOutput);

  WorkerOutput out;
  try {
    out = work();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pycheck: check worker: internal error: %s\n", e.what());
    ::_Exit(kExitNoOutput);
  } catch (...) {
    std::fprintf(stderr, "pycheck: check worker: internal error\n");
    ::_Exit(kExitNoOutput);
  }
  const std::string frame = encode(out);
  write_all(result.write, frame.data(), frame.size());
  std::cout.flush();
  std::fflush(nullptr);
  // A stuck thread: exit without running destructors under it. Otherwise an
  // ordinary exit, so that leak checks (LSan's atexit) still run in CI.
  if (out.threads_left_behind) ::_Exit(out.exit_code);
  std::exit(out.exit_code);
}

int ms_until(Clock::time_point t) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(t - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 60'000));
}

// Copies what the worker wrote to stderr; false at EOF (or error).
bool relay_errors(int fd) {
  char buf[16384];
  ssize_t n = ::read(fd, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (n <= 0) return false;
  write_all(STDERR_FILENO, buf, static_cast<std::size_t>(n));  // a closed stderr is not our problem
  return true;
}

// Relays the worker's stderr until it closes it (the worker exited) or `until`.
void relay_until_eof(int& fd, Clock::time_point until) {
  while (fd >= 0) {
    pollfd p{fd, POLLIN, 0};
    int ready = ::poll(&p, 1, ms_until(until));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return;  // `until` has passed
    if (!relay_errors(fd)) close_fd(fd);
  }
}

// Reaps the worker if it has exited by `until`; nullopt when it has not.
std::optional<int> reap(pid_t pid, Clock::time_point until) {
  while (true) {
    int status = 0;
    pid_t got = ::waitpid(pid, &status, WNOHANG);
    if (got == pid) return status;
    if (got < 0 && errno != EINTR) return std::nullopt;
    if (Clock::now() >= until) return std::nullopt;
    timespec pause{0, 100'000};  // exit after the stderr EOF is a matter of microseconds
    ::nanosleep(&pause, nullptr);
  }
}

std::string describe_exit(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    // sigabbrev_np, not strsignal: no translation, so no locale file is opened.
    const char* name = ::sigabbrev_np(sig);
    return "crashed (signal " + std::to_string(sig) + (name ? ", SIG" + std::string(name) : "") +
           ")";
  }
  return "exited with code " + std::to_string(WEXITSTATUS(status)) + " without a report";
}

WorkerOutput run_here(const std::function<WorkerOutput()>& work, const char* why) {
  std::fprintf(stderr, "pycheck: cannot start the check worker (%s: %s); checking in-process\n",
               why, std::strerror(errno));
  return work();
}

}  // namespace

Result<WorkerOutput> run_in_worker(const std::function<WorkerOutput()>& work,
                                   Clock::time_point give_up_at) {
  Pipe empty_stdin, result, errors;
  if (!make_pipe(empty_stdin) || !make_pipe(result) || !make_pipe(errors)) {
    WorkerOutput out = run_here(work, "pipe");
    for (Pipe* p : {&empty_stdin, &result, &errors}) {
      close_fd(p->read);
      close_fd(p->write);
    }
    return out;
  }
  close_fd(empty_stdin.write);
  // A caller that ignores SIGCHLD would have the worker reaped behind our back
  // (SIG_IGN survives execve): then no exit status tells how it died.
  ::signal(SIGCHLD, SIG_DFL);
  std::cout.flush();
  std::fflush(nullptr);  // nothing buffered may be written twice
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) worker_main(work, parent, empty_stdin, result, errors);
  close_fd(empty_stdin.read);
  close_fd(result.write);
  close_fd(errors.write);
  if (pid < 0) {
    WorkerOutput out = run_here(work, "fork");
    close_fd(result.read);
    close_fd(errors.read);
    return out;
  }

  std::string frame;
  std::optional<Result<WorkerOutput>> answer;
  bool result_open = true;
  while (!answer && result_open) {
    pollfd fds[2] = {{result.read, POLLIN, 0}, {errors.read, POLLIN, 0}};
    int ready = ::poll(fds, errors.read >= 0 ? 2 : 1, ms_until(give_up_at));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) break;  // give_up_at has passed
    if (errors.read >= 0 && fds[1].revents != 0 && !relay_errors(errors.read)) {
      close_fd(errors.read);
    }
    if (fds[0].revents == 0) continue;
    char buf[65536];
    ssize_t n = ::read(result.read, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      result_open = false;  // the worker is gone (or going) without a complete answer
    } else {
      frame.append(buf, static_cast<std::size_t>(n));
      answer = decode(frame);
    }
  }
  close_fd(result.read);

  const bool left_behind = answer && *answer && (*answer)->threads_left_behind;
  if (left_behind) {
    relay_until_eof(errors.read, Clock::now());  // what is already there; then go
  } else {
    relay_until_eof(errors.read, give_up_at);
  }
  close_fd(errors.read);
  // Normally the worker has exited by now: reap it, or it would stay a zombie
  // under a container's init that never reaps (many python apps run as PID 1).
  std::optional<int> status = reap(pid, left_behind ? Clock::now() : give_up_at);

  if (answer) {
    if (*answer) (*answer)->threads_left_behind = false;  // they are the worker's, not ours
    return std::move(*answer);
  }
  if (status) return Error{"the check worker " + describe_exit(*status)};
  return Error{
      "the check worker gave no report by the deadline; it is left behind (a read "
      "stuck in a filesystem that does not answer?)"};
}

void hold_closed_stdio() {
  for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    // open() returns the lowest free number: this one, or a lower one still closed.
    const int held = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (held == fd) continue;
    if (held >= 0) ::close(held);  // another thread took the number: none should exist
    return;
  }
}

Report worker_failure_report(const std::vector<PlannedCheck>& checks, const std::string& why) {
  Report report;
  for (const PlannedCheck& planned : checks) {
    CheckResult r;
    r.id = std::string(planned.info->id);
    r.title = std::string(planned.info->title);
    r.status = CheckStatus::error;
    r.summary = "no result: " + why;
    r.findings.push_back(Finding{CheckStatus::error,
                                 "pycheck could not tell",
                                 "",
                                 "",
                                 "Run it again; if this repeats, report it with pycheck's stderr.",
                                 {}});
    report.checks.push_back(std::move(r));
  }
  return report;
}

}  // namespace pycheck
