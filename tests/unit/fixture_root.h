// FixtureRoot: a throwaway root filesystem in a temporary folder, for tests.
// Paths are given as they appear inside the root ("/usr/local/bin/python3").
#pragma once

#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>

#include "agent/rootfs/rootfs.h"

namespace pycheck::test {

class FixtureRoot {
 public:
  FixtureRoot() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "pycheck-root-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
  }
  ~FixtureRoot() {
    std::error_code ec;
    // Restore permissions a test may have removed, so cleanup succeeds.
    for (auto it = std::filesystem::recursive_directory_iterator(
             dir_, std::filesystem::directory_options::skip_permission_denied, ec);
         it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_directory(ec) && !it->is_symlink(ec)) ::chmod(it->path().c_str(), 0755);
    }
    std::filesystem::remove_all(dir_, ec);
  }
  FixtureRoot(const FixtureRoot&) = delete;
  FixtureRoot& operator=(const FixtureRoot&) = delete;

  const std::string& dir() const { return dir_; }
  std::string host_path(std::string_view inside) const { return dir_ + "/" + std::string(strip(inside)); }

  // Writes a file (creating parent folders) and returns *this for chaining.
  FixtureRoot& file(std::string_view path, std::string_view content, mode_t mode = 0644) {
    std::string p = host_path(path);
    std::filesystem::create_directories(std::filesystem::path(p).parent_path());
    std::ofstream(p, std::ios::binary | std::ios::trunc).write(content.data(), content.size());
    ::chmod(p.c_str(), mode);
    return *this;
  }
  FixtureRoot& executable(std::string_view path, std::string_view content = "\x7f" "ELF") {
    return file(path, content, 0755);
  }
  FixtureRoot& mkdir(std::string_view path) {
    std::filesystem::create_directories(host_path(path));
    return *this;
  }
  FixtureRoot& symlink(std::string_view path, std::string_view target) {
    std::string p = host_path(path);
    std::filesystem::create_directories(std::filesystem::path(p).parent_path());
    std::filesystem::remove(p);
    std::filesystem::create_symlink(std::string(target), p);
    return *this;
  }
  FixtureRoot& fifo(std::string_view path) {
    std::string p = host_path(path);
    std::filesystem::create_directories(std::filesystem::path(p).parent_path());
    ::mkfifo(p.c_str(), 0644);
    return *this;
  }

  RootFs fs() const {
    auto r = RootFs::open(dir_);
    if (!r) throw std::runtime_error(r.error().message);
    return std::move(r).value();
  }

 private:
  static std::string_view strip(std::string_view p) {
    while (p.starts_with('/')) p.remove_prefix(1);
    return p;
  }
  std::string dir_;
};

}  // namespace pycheck::test
