// run_in_worker: the check worker process of `pycheck run` (agent/run/worker.h).
#include "agent/run/worker.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

#include "checks/check_table.h"
#include "tests/unit/runner_test_support.h"

using namespace pycheck;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

// A pipe through which the worker tells the test its pid (and, when it forks a
// grandchild, that one's too), so the test can look for it and clean up.
class PidChannel {
 public:
  PidChannel() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error("pipe2");
    read_ = fds[0];
    write_ = fds[1];
  }
  ~PidChannel() {
    ::close(read_);
    ::close(write_);
  }
  void send(pid_t pid) const { (void)!::write(write_, &pid, sizeof pid); }  // in the worker
  // Waits for it: a worker given up on may not have got to sending it yet.
  pid_t receive() const {
    pollfd ready{read_, POLLIN, 0};
    const auto wait_ms = std::chrono::milliseconds(test::kHangGuard).count();
    if (::poll(&ready, 1, static_cast<int>(wait_ms)) != 1) return 0;
    pid_t pid = 0;
    return ::read(read_, &pid, sizeof pid) == sizeof pid ? pid : 0;
  }

 private:
  int read_ = -1;
  int write_ = -1;
};

// Points this process's fd `target` (1 or 2) at a temporary file until take().
class Captured {
 public:
  explicit Captured(int target) : target_(target) {
    std::fflush(nullptr);
    saved_ = ::dup(target_);
    file_ = std::tmpfile();
    ::dup2(::fileno(file_), target_);
  }
  ~Captured() { restore(); }
  std::string take() {
    restore();
    std::string text;
    std::rewind(file_);
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, file_)) text.append(buf, n);
    return text;
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    std::fflush(nullptr);
    ::dup2(saved_, target_);
    ::close(saved_);
    saved_ = -1;
  }
  int target_;
  int saved_ = -1;
  std::FILE* file_ = nullptr;
};

bool process_exists(pid_t pid) { return ::kill(pid, 0) == 0; }

void kill_and_reap(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);  // no-op (ECHILD) for a grandchild: init reaps it
}

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

}  // namespace

TEST_CASE("worker: the output comes back byte-exact, larger than a pipe buffer", "[worker]") {
  std::string report;
  for (std::size_t i = 0; i < (1u << 20) + 3; ++i) report.push_back(static_cast<char>(i * 7 % 256));
  auto out = run_in_worker(
      [&] {
        return WorkerOutput{1, report, "pycheck: FAIL — 1 failed (x)", false};
      },
      Clock::now() + test::kHangGuard);
  REQUIRE(out.ok());
  CHECK(out->exit_code == 1);
  CHECK(out->report.size() == report.size());
  CHECK(out->report == report);  // includes NUL bytes: framed, not a C string
  CHECK(out->verdict == "pycheck: FAIL — 1 failed (x)");
  CHECK_FALSE(out->threads_left_behind);
}

TEST_CASE("worker: the exit code passes through; empty output is an output", "[worker]") {
  const int code = GENERATE(0, 1, 2, 255);
  auto out = run_in_worker(
      [&] {
        return WorkerOutput{code, "", "", false};
      },
      Clock::now() + test::kHangGuard);
  REQUIRE(out.ok());
  CHECK(out->exit_code == code);
  CHECK(out->report.empty());
}

TEST_CASE("worker: reaped after a normal run, no zombie", "[worker]") {
  PidChannel pids;
  auto out = run_in_worker(
      [&] {
        pids.send(::getpid());
        return WorkerOutput{0, "ok\n", "ok", false};
      },
      Clock::now() + test::kHangGuard);
  REQUIRE(out.ok());
  const pid_t worker = pids.receive();
  REQUIRE(worker > 0);
  CHECK(worker != ::getpid());
  errno = 0;
  CHECK(::waitpid(worker, nullptr, WNOHANG) == -1);
  CHECK(errno == ECHILD);  // already reaped by run_in_worker
  CHECK(::access(("/proc/" + std::to_string(worker)).c_str(), F_OK) != 0);
}

TEST_CASE("worker: a crash is a clear error naming the signal", "[worker]") {
  const auto give_up_at = Clock::now() + test::kHangGuard;
  auto out = run_in_worker(
      [] {
        ::prctl(PR_SET_DUMPABLE, 0);  // no core dump (a core_pattern handler would be slow)
        ::signal(SIGSEGV, SIG_DFL);   // not Catch2's (or a sanitizer's) handler
        ::raise(SIGSEGV);
        return WorkerOutput{0, "unreachable", "", false};
      },
      give_up_at);
  REQUIRE_FALSE(out.ok());
  CHECK(out.error().message == "the check worker crashed (signal 11, SIGSEGV)");
  // Told by the worker's death, not by give_up_at (that would take the whole guard).
  CHECK(Clock::now() < give_up_at - test::kHangGuard / 2);
}

TEST_CASE("worker: an exception in the work is an exit without a report", "[worker]") {
  Captured err(STDERR_FILENO);
  auto out = run_in_worker([]() -> WorkerOutput { throw std::runtime_error("boom"); },
                           Clock::now() + test::kHangGuard);
  const std::string relayed = err.take();
  REQUIRE_FALSE(out.ok());
  CHECK(out.error().message == "the check worker exited with code 70 without a report");
  CHECK_THAT(relayed, Catch::Contains("internal error: boom"));
}

TEST_CASE("worker: its stderr and stdout are relayed to our stderr", "[worker]") {
  Captured err(STDERR_FILENO);
  auto out = run_in_worker(
      [] {
        std::fprintf(stderr, "==1==ERROR: AddressSanitizer: a report\n");
        std::printf("stray stdout line\n");
        std::fflush(nullptr);
        return WorkerOutput{0, "the report\n", "v", false};
      },
      Clock::now() + test::kHangGuard);
  const std::string relayed = err.take();
  REQUIRE(out.ok());
  CHECK(out->report == "the report\n");  // the stray line is not in the report
  CHECK_THAT(relayed, Catch::Contains("==1==ERROR: AddressSanitizer: a report\n"));
  CHECK_THAT(relayed, Catch::Contains("stray stdout line\n"));
}

TEST_CASE("worker: a worker that never answers is given up at give_up_at", "[worker]") {
  PidChannel pids;
  const auto start = Clock::now();
  auto out = run_in_worker(
      [&] {
        pids.send(::getpid());
        char c;
        int fds[2];
        (void)!::pipe(fds);
        (void)!::read(fds[0], &c, 1);  // blocks: nobody ever writes
        return WorkerOutput{0, "unreachable", "", false};
      },
      start + milliseconds(300));
  const double took = ms_since(start);
  const pid_t worker = pids.receive();
  REQUIRE_FALSE(out.ok());
  CHECK_THAT(out.error().message, Catch::StartsWith("the check worker gave no report by the "
                                                    "deadline; it is left behind"));
  CHECK(took >= 299);
  // Soon after give_up_at, not after some longer wait (a poll is capped at 60 s).
  CHECK(took < 300 + std::chrono::milliseconds(test::kHangGuard).count());
  REQUIRE(worker > 0);
  CHECK(process_exists(worker));  // left behind, as promised
  kill_and_reap(worker);
}

TEST_CASE("worker: its stdin is empty, not ours", "[worker]") {
  // Our stdin is a pipe nobody writes to but that stays open: a worker reading
  // it would block; the worker's own stdin gives EOF at once.
  int in_pipe[2];
  REQUIRE(::pipe(in_pipe) == 0);
  const int saved_stdin = ::dup(STDIN_FILENO);
  ::dup2(in_pipe[0], STDIN_FILENO);
  ::close(in_pipe[0]);
  auto out = run_in_worker(
      [] {
        char c;
        return WorkerOutput{0, std::to_string(::read(STDIN_FILENO, &c, 1)), "", false};
      },
      Clock::now() + test::kHangGuard);
  ::dup2(saved_stdin, STDIN_FILENO);
  ::close(saved_stdin);
  ::close(in_pipe[1]);
  REQUIRE(out.ok());
  CHECK(out->report == "0");
}

TEST_CASE("worker: it does not hold our stdout", "[worker]") {
  // Our stdout is a pipe; while the worker still lives, closing our end must
  // give the reader EOF (a kubelet exec probe waits for exactly that).
  int out_pipe[2];
  REQUIRE(::pipe(out_pipe) == 0);
  std::fflush(nullptr);
  const int saved_stdout = ::dup(STDOUT_FILENO);
  ::dup2(out_pipe[1], STDOUT_FILENO);
  ::close(out_pipe[1]);
  PidChannel pids;
  auto out = run_in_worker(
      [&] {
        pids.send(::getpid());
        ::pause();
        return WorkerOutput{0, "unreachable", "", false};
      },
      Clock::now() + milliseconds(200));
  ::dup2(saved_stdout, STDOUT_FILENO);
  ::close(saved_stdout);
  const pid_t worker = pids.receive();  // sent from work(): the worker's stdio is set up
  REQUIRE(worker > 0);
  CHECK(process_exists(worker));
  pollfd p{out_pipe[0], POLLIN, 0};
  REQUIRE(::poll(&p, 1, 0) == 1);
  char c;
  CHECK(::read(out_pipe[0], &c, 1) == 0);  // EOF: no one else holds the write end
  ::close(out_pipe[0]);
  kill_and_reap(worker);
  CHECK_FALSE(out.ok());
}

TEST_CASE("worker: with threads left behind the parent does not wait for the worker's end",
          "[worker]") {
  // A grandchild that keeps the worker's stderr open stands in for a worker
  // that cannot finish exiting (a thread stuck in FUSE keeps its files open).
  // Without threads left behind it closes stderr once the worker has exited,
  // after a last line: the parent relays that line only if it waited.
  const bool left_behind = GENERATE(true, false);
  PidChannel pids;
  Captured err(STDERR_FILENO);
  const auto give_up_at = Clock::now() + test::kHangGuard;
  auto out = run_in_worker(
      [&] {
        int worker_alive[2];
        (void)!::pipe(worker_alive);
        const pid_t holder = ::fork();
        if (holder == 0) {
          ::close(worker_alive[1]);
          if (left_behind) {
            ::sleep(60);  // until the test kills it
          } else {
            char c;
            (void)!::read(worker_alive[0], &c, 1);  // EOF: the worker has exited
            constexpr std::string_view line = "holder: the worker has exited\n";
            (void)!::write(STDERR_FILENO, line.data(), line.size());
          }
          ::_exit(0);
        }
        ::close(worker_alive[0]);
        pids.send(holder);
        return WorkerOutput{1, "partial report\n", "v", left_behind};
      },
      give_up_at);
  const std::string relayed = err.take();
  kill_and_reap(pids.receive());
  REQUIRE(out.ok());
  CHECK(out->report == "partial report\n");
  CHECK_FALSE(out->threads_left_behind);  // the threads are the worker's, not ours
  if (left_behind) {
    // Returned with the report, did not wait for the worker's end (give_up_at).
    CHECK(Clock::now() < give_up_at - test::kHangGuard / 2);
  } else {
    CHECK_THAT(relayed, Catch::Contains("holder: the worker has exited"));
  }
}

TEST_CASE("worker: the failure report says every check is an error", "[worker]") {
  std::vector<PlannedCheck> planned;
  for (const CheckInfo& c : check_table()) planned.push_back(PlannedCheck{&c, json::object(), {}});
  Report report = worker_failure_report(planned, "the check worker crashed (signal 11, SIGSEGV)");
  REQUIRE(report.checks.size() == check_table().size());
  for (const CheckResult& r : report.checks) {
    CHECK(r.status == CheckStatus::error);
    CHECK(r.summary == "no result: the check worker crashed (signal 11, SIGSEGV)");
    CHECK_FALSE(r.remediation().empty());
  }
  CHECK(report.exit_code(CheckStatus::fail) == 1);
  CHECK_THAT(verdict_line(report), Catch::StartsWith("pycheck: ERROR"));
}

TEST_CASE("worker: a closed stdin is held, so no file takes fd 0", "[worker]") {
  const int saved = ::dup(STDIN_FILENO);
  ::close(STDIN_FILENO);
  hold_closed_stdio();
  const bool held = ::fcntl(STDIN_FILENO, F_GETFD) != -1;
  char c;
  errno = 0;
  const bool reads_fail = ::read(STDIN_FILENO, &c, 1) == -1 && errno == EBADF;  // as if closed
  const int next = ::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ::dup2(saved, STDIN_FILENO);
  ::close(saved);
  ::close(next);
  CHECK(held);
  CHECK(reads_fail);
  CHECK(next > STDERR_FILENO);
  hold_closed_stdio();  // open ones are left alone
  CHECK(::fcntl(STDIN_FILENO, F_GETFD) != -1);
}
