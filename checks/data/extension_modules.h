// Small pure tables for messages about CPython's extension modules
// (<stdlib>/lib-dynload/*.so): the module a file holds, what a user's code
// loses when it cannot be loaded, and which Debian package ships the
// libraries those modules need when dpkg no longer knows (a purged package
// leaves no .list file behind).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "checks/formats/os_release.h"

namespace pycheck {

// The module name in an extension module's file name: everything before the
// first '.' ("_sqlite3.cpython-311-x86_64-linux-gnu.so" -> "_sqlite3",
// "readline.abi3.so" -> "readline", "zlib.so" -> "zlib").
std::string extension_module_name(std::string_view file_name);

// What stops working when `module` cannot be loaded, as one phrase:
// "import sqlite3 fails", "import decimal falls back to the slower _pydecimal".
// Modules not in the table get "import <name without a leading '_'> fails".
std::string extension_module_impact(std::string_view module);

// How a Debian-family release names its libraries: Debian 13 (trixie) and
// Ubuntu 24.04 renamed several in the 64-bit time_t transition ("libssl3" is
// "libssl3t64" there), and their apt cannot mark the old names.
enum class LibraryNaming { before_t64, t64 };
// From os-release: t64 for Debian 13 and later (and testing/unstable, which
// have no VERSION_ID) and Ubuntu 24.04 and later; before_t64 otherwise.
LibraryNaming library_naming(const OsRelease& os);

// The binary package that ships the library with this soname, for the
// libraries the standard library's modules link to ("libsqlite3.so.0" ->
// "libsqlite3-0", "libssl.so.3" -> "libssl3" or, with t64 naming,
// "libssl3t64"); nullopt for sonames not in the table.
std::optional<std::string_view> debian_package_for_soname(
    std::string_view soname, LibraryNaming naming = LibraryNaming::before_t64);

}  // namespace pycheck
