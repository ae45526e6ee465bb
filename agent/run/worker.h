// The check worker: `pycheck run` does its checks in a forked child process.
//
// Why: a thread stuck in a filesystem request that the server already took
// (sshfs, s3fs, any hung FUSE mount: the kernel waits uninterruptibly, see
// fs/fuse/dev.c request_wait_answer) survives even exit_group and SIGKILL. A
// process holding such a thread never finishes exiting, so its caller (docker
// exec, a kubelet exec probe, HEALTHCHECK) waits forever although the report
// was complete on time. With the checks in a worker, the stuck thread is the
// worker's: the original process, which has no thread of its own stuck, prints
// the report and exits on time. The stuck worker stays behind until the
// filesystem answers (or forever): no process can end it, that is unavoidable.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "agent/core/result.h"
#include "agent/report/report.h"
#include "agent/run/runner.h"

namespace pycheck {

struct WorkerOutput {
  int exit_code = 0;
  std::string report;   // the rendered report, passed byte-exact
  std::string verdict;  // its one-line verdict (what --output prints on stdout)
  // work() is returning while some of its threads still run (checks abandoned
  // at the deadline). The worker then ends with _Exit and is not waited for.
  // On return from run_in_worker it is true only when work() ran in this very
  // process (no worker could start): the caller must then _Exit, not return.
  bool threads_left_behind = false;
};

// Runs `work` in a forked worker and returns its output. Waits (poll) until the
// output has arrived, the worker died, or `give_up_at`; meanwhile relays the
// worker's stderr to this process's stderr (so sanitizer reports still show).
// The worker's stdin is empty and its stdout goes to that relayed stderr: it
// never holds this process's stdin or stdout open. A worker that delivered is
// reaped before returning (no zombie is left to a container's init), unless it
// said threads_left_behind.
//
// Call it while this process has a single thread: fork copies only the calling
// thread, and a lock another thread holds would stay locked in the worker.
//
// Errors (this process then knows nothing of the checks): the worker crashed
// (names the signal), exited without output, or gave none by `give_up_at` (it
// is then left running). When no worker can be started at all (pipe or fork
// fails: a pids limit, out of file descriptors), `work` runs in this process
// after a note on stderr: a probe that cannot fork still answers.
Result<WorkerOutput> run_in_worker(const std::function<WorkerOutput()>& work,
                                   std::chrono::steady_clock::time_point give_up_at);

// For a caller that started pycheck with fd 0, 1 or 2 closed: a file opened
// later (the root, a config) would take that number, and the worker's own
// stdin/stdout/stderr would replace it. Holds each closed one with an O_PATH
// descriptor of "/" (reads and writes fail with EBADF, as on a closed one; no
// device file is needed). Call it before opening anything.
void hold_closed_stdio();

// The report of a run whose worker gave no output: every planned check is an
// `error` whose summary says `why`, so no format can read it as healthy.
Report worker_failure_report(const std::vector<PlannedCheck>& checks, const std::string& why);

}  // namespace pycheck
