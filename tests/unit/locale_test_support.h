// Shared by the locale tests (locale_name_test.cpp, locale_archive_test.cpp,
// locale_check_test.cpp, locale_check_glibc_test.cpp): host files and commands,
// an archive made by localedef, and the locale check run on fixture roots.
#pragma once

#include <stdio.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "checks/check_table.h"
#include "tests/unit/fixture_root.h"
#include "tests/unit/outcome_text.h"

namespace pycheck::locale_test {

namespace fs = std::filesystem;
using test::FixtureRoot;

inline std::string read_host_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline int run_command(const std::string& command, std::string* output = nullptr) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  std::string text;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) text.append(buf, n);
  int status = ::pclose(pipe);
  if (output) *output = text;
  return status;
}

inline constexpr const char* kHostCUtf8 = "/usr/lib/locale/C.utf8";

// A real archive made by localedef, generated once per test run.
struct GeneratedArchive {
  FixtureRoot dir;
  std::string bytes;
  std::vector<std::string> listed;  // localedef --list-archive
};

inline const GeneratedArchive& generated_archive() {
  static GeneratedArchive g;  // its folder is removed at exit
  if (!g.bytes.empty()) return g;
  g.listed.clear();
  g.dir.mkdir("/usr/lib/locale");
  const std::string prefix = "localedef --prefix=" + g.dir.dir() + " ";
  for (const char* spec : {"-i en_US -f UTF-8 en_US.UTF-8", "-i de_DE -f UTF-8 de_DE.UTF-8",
                           "-i de_DE -f ISO-8859-15 de_DE@euro"}) {
    std::string out;
    int rc = run_command(prefix + spec, &out);
    INFO("localedef " << spec << " (needs Debian package `locales`): " << out);
    REQUIRE(rc == 0);
  }
  std::string list;
  REQUIRE(run_command(prefix + "--list-archive", &list) == 0);
  std::istringstream lines(list);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) g.listed.push_back(line);
  }
  std::string bytes = read_host_file(g.dir.host_path("/usr/lib/locale/locale-archive"));
  REQUIRE(bytes.size() > 4096);
  g.bytes = std::move(bytes);
  return g;
}

inline void copy_host_dir(const FixtureRoot& root, const std::string& from, std::string_view to) {
  INFO("copying " << from << " (Debian package libc-bin)");
  REQUIRE(fs::is_directory(from));
  fs::create_directories(root.host_path(to));
  fs::copy(from, root.host_path(to), fs::copy_options::recursive | fs::copy_options::copy_symlinks);
}

inline CheckOutcome run_check(const FixtureRoot& root,
                              std::map<std::string, std::string, std::less<>> vars) {
  RootFs rootfs = root.fs();
  Environment env(std::move(vars));
  json params = json::object();
  Context ctx{rootfs, env, params, std::chrono::system_clock::now(), false};
  return locale_check().run(ctx);
}

inline std::string status_of(const CheckOutcome& o) { return std::string(to_string(o.status)); }

inline void add_c_utf8(FixtureRoot& root) {
  copy_host_dir(root, kHostCUtf8, "/usr/lib/locale/C.utf8");
}
inline void add_archive(FixtureRoot& root) {
  root.file("/usr/lib/locale/locale-archive", generated_archive().bytes);
}
inline void add_aliases(FixtureRoot& root) {
  root.file("/etc/locale.alias",
            "# test aliases\nmyeng en_US.UTF-8\nmyde\tde_DE.ISO-8859-15@euro\n"
            "german de_DE.ISO-8859-1\n");
  root.symlink("/usr/share/locale/locale.alias", "/etc/locale.alias");  // as Debian has it
}
// A Debian image after `apt-get install locales` and locale-gen of three locales.
inline void debian_with_locales(FixtureRoot& root) {
  add_c_utf8(root);
  add_archive(root);
  add_aliases(root);
}

inline bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

}  // namespace pycheck::locale_test
