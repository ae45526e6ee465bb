#include "agent/scan/pinned_process.h"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <utility>

#include "agent/core/text.h"

namespace pycheck {
namespace {

constexpr unsigned kPfKthread = 0x00200000;

Error process_error(int pid, const char* name, int err) {
  return Error{"/proc/" + std::to_string(pid) + "/" + name + ": " + std::strerror(err), err};
}

template <typename T>
bool parse_number(std::string_view text, T& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

ProcessReadFailure classify_process_error(const Error& error) {
  switch (error.errno_value) {
    case ESRCH:
    case ENOENT: return ProcessReadFailure::vanished;
    case EACCES:
    case EPERM: return ProcessReadFailure::denied;
    default: return ProcessReadFailure::other;
  }
}

bool parse_proc_stat(std::string_view text, ProcessFacts& facts) {
  const std::size_t open = text.find('(');
  const std::size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open ||
      close + 2 > text.size()) {
    return false;
  }
  facts.command = std::string(text.substr(open + 1, close - open - 1));
  // Fields from 3 (state) on, space-separated.
  std::vector<std::string_view> fields = split(text.substr(close + 2), ' ');
  // state=0 ppid=1 ... flags=6 ... starttime=19
  if (fields.size() < 20 || fields[0].size() != 1) return false;
  unsigned flags = 0;
  if (!parse_number(fields[1], facts.ppid) || !parse_number(fields[6], flags) ||
      !parse_number(fields[19], facts.start_time)) {
    return false;
  }
  facts.state = fields[0][0];
  facts.kernel_thread = (flags & kPfKthread) != 0;
  return true;
}

int parse_innermost_pid(std::string_view status) {
  for (std::string_view line : split_lines(status)) {
    if (!line.starts_with("NSpid:")) continue;
    std::vector<std::string_view> values = split_at_any(line.substr(6), " \t");
    int pid = 0;
    if (!values.empty() && parse_number(values.back(), pid) && pid > 0) return pid;
  }
  return 0;
}

Result<PinnedProcess> PinnedProcess::pin(int proc_fd, int pid) {
  const std::string name = std::to_string(pid);
  int fd = ::openat(proc_fd, name.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{"/proc/" + name + ": " + std::strerror(errno), errno};
  return PinnedProcess(pid, fd);
}

PinnedProcess::PinnedProcess(PinnedProcess&& other) noexcept
    : pid_(other.pid_), fd_(std::exchange(other.fd_, -1)) {}

PinnedProcess& PinnedProcess::operator=(PinnedProcess&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    pid_ = other.pid_;
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

PinnedProcess::~PinnedProcess() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::string> PinnedProcess::read(const char* name, std::size_t max_bytes) const {
  int fd = ::openat(fd_, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return process_error(pid_, name, errno);
  std::string out;
  char buffer[8192];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return process_error(pid_, name, err);
    }
    if (n == 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
    if (out.size() > max_bytes) {
      ::close(fd);
      return Error{"/proc/" + std::to_string(pid_) + "/" + name + ": larger than " +
                       std::to_string(max_bytes) + " bytes",
                   EFBIG};
    }
  }
  ::close(fd);
  return out;
}

Result<ProcessFacts> PinnedProcess::read_facts() const {
  ProcessFacts facts;
  facts.pid = pid_;
  auto stat = read("stat", 4096);
  if (!stat) return stat.error();
  if (!parse_proc_stat(*stat, facts))
    return Error{"/proc/" + std::to_string(pid_) + "/stat: unexpected format", EINVAL};
  if (facts.kernel_thread || facts.state == 'Z') return facts;  // nothing more to read
  // Both world-readable: a failure is the process gone, or the scan out of
  // descriptors or memory, never a fact to go on without.
  auto status = read("status", 64 * 1024);
  if (!status) return status.error();
  facts.innermost_pid = parse_innermost_pid(*status);
  auto cgroup = read("cgroup", 64 * 1024);
  if (!cgroup) return cgroup.error();
  facts.cgroup = std::move(*cgroup);
  // cmdline waits for the process's memory lock, which a process stuck in
  // the kernel may hold for good: read only where stat's name cannot tell.
  if (facts.command == "catatonit") {
    if (auto cmdline = read("cmdline", 64 * 1024)) {
      for (char& c : *cmdline) c = c == '\0' ? ' ' : c;
      facts.arguments = std::string(trim(*cmdline));
    }
  }
  for (auto [name, out] : {std::pair{"ns/mnt", &facts.mount_namespace},
                           std::pair{"ns/pid", &facts.pid_namespace}}) {
    char link[64];
    ssize_t n = ::readlinkat(fd_, name, link, sizeof link - 1);
    if (n < 0) {
      if (facts.namespaces == ProcessReadFailure::none) {  // the first failure says why
        const Error error = process_error(pid_, name, errno);
        facts.namespaces = classify_process_error(error);
        facts.namespace_error = error.message;
      }
      out->clear();
      continue;
    }
    out->assign(link, static_cast<std::size_t>(n));
  }
  return facts;
}

Result<int> PinnedProcess::open_root() const {
  int fd = ::openat(fd_, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return process_error(pid_, "root", errno);
  return fd;
}

bool PinnedProcess::alive() const {
  auto stat = read("stat", 4096);
  if (!stat) return false;
  ProcessFacts facts;
  return parse_proc_stat(*stat, facts) && facts.state != 'Z' && facts.state != 'X';
}

}  // namespace pycheck
