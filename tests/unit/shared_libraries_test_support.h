// Shared by the python.shared-libraries tests (shared_libraries_test.cpp,
// shared_libraries_inputs_test.cpp): ELF objects compiled once for them.
#pragma once

#include <catch2/catch.hpp>
#include <string>

#include "tests/unit/elf_test_support.h"
#include "tests/unit/fixture_root.h"

namespace pycheck::shlib_test {

using test::FixtureRoot;
using test::host_file;
using test::run_command;
using test::shell_quote;

inline constexpr const char* kSqliteModule = "_sqlite3.cpython-311-x86_64-linux-gnu.so";
inline constexpr const char* kJsonModule = "_json.cpython-311-x86_64-linux-gnu.so";
inline constexpr const char* kTkModule = "_tkinter.cpython-311-x86_64-linux-gnu.so";

// The objects every scenario uses, compiled once: a python3.11 needing
// libpython3.11.so.1.0 with and without RUNPATH $ORIGIN/../lib, the
// library, modules needing libsqlite3.so.0, libtk8.6.so or nothing, and a
// library the big-file read test needs.
class Built {
 public:
  static const Built& get() {
    static const Built built;
    return built;
  }
  std::string file(const std::string& name) const { return host_file(dir_.host_path(name)); }

 private:
  Built() {
    dir_.file("py.c", "int Py_BytesMain(int c, char** v) { (void)v; return c - 1; }\n")
        .file("main.c",
              "int Py_BytesMain(int, char**);\n"
              "int main(int c, char** v) { return Py_BytesMain(c, v); }\n")
        .file("lib.c", "int lib_function(void) { return 7; }\n")
        .file("mod.c", "int lib_function(void);\nint PyInit_mod(void) { return lib_function(); }\n")
        .file("plain.c", "int PyInit_plain(void) { return 0; }\n")
        .file("big.c",
              "const char big_table[1 << 20] = {1};\n"
              "int lib_function(void) { return big_table[7]; }\n");
    cc("-shared -fPIC py.c -Wl,-soname,libpython3.11.so.1.0 -o libpython3.11.so.1.0");
    cc("main.c ./libpython3.11.so.1.0 -Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN/../lib' "
       "-o python3.11");
    cc("main.c ./libpython3.11.so.1.0 -o python3.11-norpath");
    cc("-shared -fPIC lib.c -Wl,-soname,libsqlite3.so.0 -o libsqlite3.so.0");
    cc("-shared -fPIC lib.c -Wl,-soname,libtk8.6.so -o libtk8.6.so");
    cc("-shared -fPIC lib.c -Wl,-soname,libnothere.so.7 -o libnothere.so.7");
    cc(std::string("-shared -fPIC mod.c ./libsqlite3.so.0 -o ") + kSqliteModule);
    cc(std::string("-shared -fPIC mod.c ./libtk8.6.so -o ") + kTkModule);
    cc("-shared -fPIC mod.c ./libnothere.so.7 -o _custom.cpython-311-x86_64-linux-gnu.so");
    cc(std::string("-shared -fPIC plain.c -o ") + kJsonModule);
    cc("-shared -fPIC big.c -Wl,-soname,libbig.so.1 -Wl,-rpath,/opt/big -o libbig.so.1");
  }
  void cc(const std::string& args) {
    int status = 0;
    const std::string cmd =
        "cd " + shell_quote(dir_.dir()) + " && cc " + args + " -Wl,--allow-shlib-undefined";
    const std::string log = run_command(cmd, &status);
    INFO(cmd << "\n" << log);
    REQUIRE(status == 0);
  }
  FixtureRoot dir_;
};

}  // namespace pycheck::shlib_test
