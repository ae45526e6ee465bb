// Helpers for the ELF, ld.so.cache and library resolver tests: running the
// real toolchain and loader, and building synthetic ELF files byte by byte.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace pycheck::test {

// Runs a shell command; returns its stdout and stderr together, and its exit status.
inline std::string run_command(const std::string& command, int* exit_status = nullptr) {
  std::string out;
  FILE* pipe = ::popen(("(" + command + ") 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    if (exit_status) *exit_status = -1;
    return out;
  }
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  int status = ::pclose(pipe);
  if (exit_status) *exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

inline std::string host_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_host_file(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(data.data(), data.size());
}

inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// What the real loader lists, as ldd does: LD_TRACE_LOADED_OBJECTS=1 and the
// root's own /lib64/ld-linux-x86-64.so.2, run chrooted into `root_dir`.
struct LoaderTrace {
  int exit_status = -1;
  std::map<std::string, std::string> found;  // name => path ("X (0x..)" lines: X => X)
  std::set<std::string> not_found;
  bool statically_linked = false;  // what ld.so says of an object without DT_NEEDED
  std::string errors;              // lines that are neither (error messages)
  std::string raw;
};

// Reads ldd-style lines ("\tname => path (0x..)", "\tname => not found",
// "\tpath (0x..)") from trace->raw into its fields.
inline void parse_trace_output(LoaderTrace* trace_out) {
  LoaderTrace& trace = *trace_out;
  std::istringstream lines(trace.raw);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.starts_with("\t")) {
      trace.errors += line + "\n";
      continue;
    }
    line.erase(0, 1);
    std::size_t arrow = line.find(" => ");
    if (arrow != std::string::npos) {
      std::string name = line.substr(0, arrow);
      std::string rest = line.substr(arrow + 4);
      if (rest == "not found") {
        trace.not_found.insert(name);
      } else {
        trace.found[name] = rest.substr(0, rest.rfind(" ("));
      }
    } else {
      if (line == "statically linked") {
        trace.statically_linked = true;
        continue;
      }
      std::string name = line.substr(0, line.rfind(" ("));
      if (name.starts_with("linux-vdso")) continue;
      trace.found[name] = name;
    }
  }
}

inline LoaderTrace trace_in_root(const std::string& root_dir, const std::string& path,
                                 const std::vector<std::string>& extra_env = {}) {
  LoaderTrace trace;
  std::vector<std::string> env = {"LD_TRACE_LOADED_OBJECTS=1", "PATH=/bin"};
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string loader = "/lib64/ld-linux-x86-64.so.2";
  std::string arg = path;
  char* argv[] = {loader.data(), arg.data(), nullptr};
  int fds[2];
  if (::pipe(fds) != 0) return trace;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    ::close(fds[0]);
    if (::chroot(root_dir.c_str()) != 0 || ::chdir("/") != 0) ::_exit(120);
    ::execve(loader.c_str(), argv, envp.data());
    ::_exit(121);
  }
  ::close(fds[1]);
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0)
    trace.raw.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  trace.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  parse_trace_output(&trace);
  return trace;
}

// A synthetic ELF file: one PT_LOAD mapping the file at kBase, optional
// PT_INTERP, and a PT_DYNAMIC whose DT_STRTAB lies inside the PT_LOAD.
struct SynthElf {
  static constexpr std::uint64_t kBase = 0x400000;
  bool is64 = true;
  bool big = false;
  std::uint16_t machine = 62;
  std::uint16_t type = 3;
  std::vector<std::string> needed;
  std::optional<std::string> soname, rpath, runpath, interp;
  std::uint64_t flags_1 = 0;
  std::uint32_t e_flags = 0;

  // Filled in by build(): where things ended up, for targeted corruption.
  std::uint64_t phoff = 0, interp_off = 0, strtab_off = 0, dyn_off = 0, dyn_size = 0;

  void put(std::string& out, std::uint64_t at, std::uint64_t v, int width) const {
    if (out.size() < at + width) out.resize(at + width, '\0');
    for (int i = 0; i < width; ++i) {
      int shift = big ? 8 * (width - 1 - i) : 8 * i;
      out[at + i] = static_cast<char>((v >> shift) & 0xff);
    }
  }

  std::string build() {
    const int w = is64 ? 8 : 4;
    const std::uint64_t ehsize = is64 ? 64 : 52, phentsize = is64 ? 56 : 32;
    const int phnum = interp ? 3 : 2;
    phoff = ehsize;
    std::uint64_t at = phoff + phnum * phentsize;
    std::string out(at, '\0');
    if (interp) {
      interp_off = at;
      out += *interp + '\0';
      at = out.size();
    }
    // String table: index 0 is the empty string.
    std::string strtab(1, '\0');
    auto add = [&](const std::string& s) {
      std::uint64_t idx = strtab.size();
      strtab += s + '\0';
      return idx;
    };
    std::vector<std::pair<std::int64_t, std::uint64_t>> dyn;
    for (const auto& n : needed) dyn.emplace_back(1, add(n));
    if (soname) dyn.emplace_back(14, add(*soname));
    if (rpath) dyn.emplace_back(15, add(*rpath));
    if (runpath) dyn.emplace_back(29, add(*runpath));
    if (flags_1) dyn.emplace_back(0x6ffffffb, flags_1);
    strtab_off = at;
    out += strtab;
    while (out.size() % 8) out += '\0';
    dyn_off = out.size();
    dyn.emplace_back(5, kBase + strtab_off);
    dyn.emplace_back(10, strtab.size());
    dyn.emplace_back(0, 0);
    dyn_size = dyn.size() * 2 * w;
    for (std::size_t i = 0; i < dyn.size(); ++i) {
      put(out, dyn_off + i * 2 * w, static_cast<std::uint64_t>(dyn[i].first), w);
      put(out, dyn_off + i * 2 * w + w, dyn[i].second, w);
    }
    const std::uint64_t file_size = out.size();
    // Header.
    out[0] = 0x7f, out[1] = 'E', out[2] = 'L', out[3] = 'F';
    out[4] = is64 ? 2 : 1;
    out[5] = big ? 2 : 1;
    out[6] = 1;
    put(out, 16, type, 2);
    put(out, 18, machine, 2);
    put(out, 20, 1, 4);
    put(out, 24 + w, phoff, w);        // e_phoff
    put(out, 24 + 3 * w, e_flags, 4);  // e_flags
    put(out, 28 + 3 * w, ehsize, 2);   // e_ehsize
    put(out, 30 + 3 * w, phentsize, 2);
    put(out, 32 + 3 * w, phnum, 2);
    auto phdr = [&](int i, std::uint32_t ptype, std::uint64_t off, std::uint64_t size) {
      std::uint64_t p = phoff + i * phentsize;
      put(out, p, ptype, 4);
      if (is64) {
        put(out, p + 4, 4, 4);
        put(out, p + 8, off, 8);
        put(out, p + 16, kBase + off, 8);
        put(out, p + 24, kBase + off, 8);
        put(out, p + 32, size, 8);
        put(out, p + 40, size, 8);
      } else {
        put(out, p + 4, off, 4);
        put(out, p + 8, kBase + off, 4);
        put(out, p + 12, kBase + off, 4);
        put(out, p + 16, size, 4);
        put(out, p + 20, size, 4);
        put(out, p + 24, 4, 4);
      }
    };
    int i = 0;
    phdr(i++, 1, 0, file_size);
    if (interp) phdr(i++, 3, interp_off, interp->size() + 1);
    phdr(i++, 2, dyn_off, dyn_size);
    return out;
  }
};

}  // namespace pycheck::test
