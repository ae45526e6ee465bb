#include "checks/data/extension_modules.h"

#include <array>
#include <utility>

namespace pycheck {
namespace {

using Pair = std::pair<std::string_view, std::string_view>;

// What breaks, for the modules whose loss is not simply "import <name> fails"
// (CPython 3.8-3.13 Lib/ and Modules/: which pure-Python module imports which
// accelerator, and which ones fall back).
constexpr std::array kImpact = {
    Pair{"_sqlite3", "import sqlite3 fails"},
    Pair{"_ssl", "import ssl fails (and with it https in urllib, pip and requests)"},
    Pair{"_hashlib",
         "import hashlib works only partly: the OpenSSL algorithms and pbkdf2 are gone, the "
         "built-in md5/sha*/blake2 remain"},
    Pair{"_ctypes", "import ctypes fails"},
    Pair{"_lzma", "import lzma fails (and .xz in tarfile and shutil)"},
    Pair{"_bz2", "import bz2 fails (and .bz2 in tarfile and shutil)"},
    Pair{"readline", "import readline fails (the interactive prompt loses editing and history)"},
    Pair{"_curses", "import curses fails"},
    Pair{"_curses_panel", "import curses.panel fails"},
    Pair{"_dbm", "import dbm.ndbm fails"},
    Pair{"_gdbm", "import dbm.gnu fails"},
    Pair{"_tkinter", "import tkinter fails"},
    Pair{"_uuid", "import uuid falls back to a slower uuid1 without the libuuid generator"},
    Pair{"zlib", "import zlib fails (and gzip, zipfile compression, pip)"},
    Pair{"pyexpat", "import xml.parsers.expat fails (and xml.etree, xml.dom, plistlib)"},
    Pair{"_elementtree", "import xml.etree.ElementTree falls back to the pure-Python parser"},
    Pair{"_decimal", "import decimal falls back to the slower _pydecimal"},
    Pair{"_json", "import json falls back to the pure-Python encoder and decoder"},
    Pair{"_pickle", "import pickle falls back to the slower pure-Python pickler"},
    Pair{"_datetime", "import datetime falls back to the pure-Python implementation"},
    Pair{"_heapq", "import heapq falls back to the pure-Python implementation"},
    Pair{"_bisect", "import bisect falls back to the pure-Python implementation"},
    Pair{"_asyncio", "import asyncio falls back to the pure-Python event loop parts"},
    Pair{"_socket", "import socket fails"},
    Pair{"_multiprocessing", "multiprocessing's locks, queues and pools fail"},
    Pair{"_posixshmem", "import multiprocessing.shared_memory fails"},
    Pair{"_posixsubprocess", "import subprocess fails"},
    Pair{"_crypt", "import crypt fails"},
    Pair{"_blake2", "hashlib loses blake2b and blake2s"},
    Pair{"_sha3", "hashlib loses sha3_* and shake_*"},
    Pair{"_md5", "hashlib.md5 needs OpenSSL's"},
    Pair{"_sha1", "hashlib.sha1 needs OpenSSL's"},
    Pair{"_sha256", "hashlib.sha256 needs OpenSSL's"},
    Pair{"_sha512", "hashlib.sha512 needs OpenSSL's"},
    Pair{"_zoneinfo", "import zoneinfo falls back to the pure-Python implementation"},
    Pair{"_statistics", "import statistics falls back to the pure-Python normal_dist_inv_cdf"},
};

// Sonames the standard library's modules link to, with the package shipping
// each: checked with dpkg -S in the python:3.11-slim-bookworm and
// python:3.13-slim-trixie stand-ins; the third name, when not empty, is the
// package after the 64-bit time_t transition (trixie, Ubuntu 24.04).
struct SonamePackage {
  std::string_view soname;
  std::string_view package;
  std::string_view t64_package;
};
constexpr std::array kDebianPackages = {
    SonamePackage{"libsqlite3.so.0", "libsqlite3-0", ""},
    SonamePackage{"libssl.so.3", "libssl3", "libssl3t64"},
    SonamePackage{"libcrypto.so.3", "libssl3", "libssl3t64"},
    SonamePackage{"libffi.so.8", "libffi8", ""},
    SonamePackage{"liblzma.so.5", "liblzma5", ""},
    SonamePackage{"libbz2.so.1.0", "libbz2-1.0", ""},
    SonamePackage{"libreadline.so.8", "libreadline8", "libreadline8t64"},
    SonamePackage{"libncursesw.so.6", "libncursesw6", ""},
    SonamePackage{"libpanelw.so.6", "libncursesw6", ""},
    SonamePackage{"libtinfo.so.6", "libtinfo6", ""},
    SonamePackage{"libgdbm.so.6", "libgdbm6", "libgdbm6t64"},
    SonamePackage{"libgdbm_compat.so.4", "libgdbm-compat4", "libgdbm-compat4t64"},
    SonamePackage{"libtk8.6.so", "libtk8.6", ""},
    SonamePackage{"libtcl8.6.so", "libtcl8.6", ""},
    SonamePackage{"libuuid.so.1", "libuuid1", ""},
    SonamePackage{"libz.so.1", "zlib1g", ""},
    SonamePackage{"libzstd.so.1", "libzstd1", ""},
    SonamePackage{"libexpat.so.1", "libexpat1", ""},
    SonamePackage{"libmpdec.so.3", "libmpdec3", ""},
    SonamePackage{"libmpdec.so.4", "libmpdec4", ""},
    SonamePackage{"libdb-5.3.so", "libdb5.3", "libdb5.3t64"},
    SonamePackage{"libnsl.so.2", "libnsl2", ""},
    SonamePackage{"libtirpc.so.3", "libtirpc3", "libtirpc3t64"},
    SonamePackage{"libcrypt.so.1", "libcrypt1", ""},
    SonamePackage{"libc.so.6", "libc6", ""},
    SonamePackage{"libm.so.6", "libc6", ""},
};

}  // namespace

std::string extension_module_name(std::string_view file_name) {
  return std::string(file_name.substr(0, file_name.find('.')));
}

std::string extension_module_impact(std::string_view module) {
  for (const auto& [name, impact] : kImpact) {
    if (name == module) return std::string(impact);
  }
  std::string_view plain = module;
  if (plain.starts_with('_')) plain.remove_prefix(1);
  return "import " + std::string(plain) + " fails";
}

LibraryNaming library_naming(const OsRelease& os) {
  const std::string version = os.version_id();
  int major = 0;
  for (char c : version.substr(0, version.find('.'))) {
    if (c < '0' || c > '9') return LibraryNaming::before_t64;
    major = major * 10 + (c - '0');
  }
  if (os.id() == "debian") {
    return version.empty() || major >= 13 ? LibraryNaming::t64 : LibraryNaming::before_t64;
  }
  if (os.id() == "ubuntu" && major >= 24) return LibraryNaming::t64;
  return LibraryNaming::before_t64;
}

std::optional<std::string_view> debian_package_for_soname(std::string_view soname,
                                                          LibraryNaming naming) {
  for (const SonamePackage& entry : kDebianPackages) {
    if (entry.soname != soname) continue;
    if (naming == LibraryNaming::t64 && !entry.t64_package.empty()) return entry.t64_package;
    return entry.package;
  }
  return std::nullopt;
}

}  // namespace pycheck
