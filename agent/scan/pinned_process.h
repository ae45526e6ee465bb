// A process of the node, held by a descriptor of its /proc/PID directory.
//
// Every read goes through that descriptor (openat/readlinkat), never through
// "/proc/PID/..." again: once the process has exited, the kernel answers ESRCH
// on the descriptor even when another process has taken the same PID, so a
// reused PID can never pass one container's files off as another's.
#pragma once

#include <cstdint>
#include <string>

#include "agent/core/result.h"

namespace pycheck {

// How a read of a process failed, in the scan's terms.
enum class ProcessReadFailure { none, vanished, denied, other };
// ESRCH/ENOENT: the process exited; EACCES/EPERM: not allowed to read it;
// anything else (EMFILE, ENOMEM, a malformed file) is other: the scan could not tell.
ProcessReadFailure classify_process_error(const Error& error);

// What /proc/PID/stat, status, cgroup and ns say of a process; all but the
// namespaces are world-readable.
struct ProcessFacts {
  int pid = 0;
  int ppid = 0;
  char state = '?';
  bool kernel_thread = false;   // PF_KTHREAD in stat's flags
  std::uint64_t start_time = 0;  // clock ticks after boot (stat field 22)
  int innermost_pid = 0;        // the last NSpid value: its PID in its own pid namespace
  std::string cgroup;           // the text of /proc/PID/cgroup
  std::string command;          // stat's name (comm: the executable's, cut to 15 bytes)
  std::string arguments;        // cmdline, NULs turned into spaces: read for catatonit only
  std::string mount_namespace;  // "mnt:[4026531841]"; empty when denied
  std::string pid_namespace;    // "pid:[...]"; empty when denied
  ProcessReadFailure namespaces = ProcessReadFailure::none;  // why they are empty
  std::string namespace_error;  // the failed read, when namespaces is not none
};

class PinnedProcess {
 public:
  // Opens /proc/PID (relative to `proc_fd`, a descriptor of /proc).
  static Result<PinnedProcess> pin(int proc_fd, int pid);
  PinnedProcess(PinnedProcess&& other) noexcept;
  PinnedProcess& operator=(PinnedProcess&& other) noexcept;
  PinnedProcess(const PinnedProcess&) = delete;
  PinnedProcess& operator=(const PinnedProcess&) = delete;
  ~PinnedProcess();

  int pid() const { return pid_; }
  int fd() const { return fd_; }

  // stat, status, cgroup, cmdline and the ns links. Fails when stat, status or
  // cgroup cannot be read; a namespace that cannot be read is left empty.
  Result<ProcessFacts> read_facts() const;
  // A file under /proc/PID (environ, mountinfo), at most `max_bytes`.
  Result<std::string> read(const char* name, std::size_t max_bytes) const;
  // A descriptor (O_PATH) of the process's root directory; the caller owns it.
  Result<int> open_root() const;
  // Whether it still runs: not exited, not a zombie.
  bool alive() const;

 private:
  PinnedProcess(int pid, int fd) : pid_(pid), fd_(fd) {}
  int pid_ = 0;
  int fd_ = -1;
};

// Pure: /proc/PID/stat's text -> ppid, state, flags' PF_KTHREAD, starttime.
// The command name is in parentheses and may hold anything, ')' included.
bool parse_proc_stat(std::string_view text, ProcessFacts& facts);
// Pure: the last value of status's "NSpid:" line (0 when absent).
int parse_innermost_pid(std::string_view status);

}  // namespace pycheck
