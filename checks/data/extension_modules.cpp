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

// Sonames the standard library's modules link to on Debian 12, with the
// package shipping each (checked with dpkg -S in a python:3.11-slim-bookworm
// build; trixie renamed some after the 64-bit time_t transition, e.g. libssl3t64).
constexpr std::array kDebianPackages = {
    Pair{"libsqlite3.so.0", "libsqlite3-0"},
    Pair{"libssl.so.3", "libssl3"},
    Pair{"libcrypto.so.3", "libssl3"},
    Pair{"libffi.so.8", "libffi8"},
    Pair{"liblzma.so.5", "liblzma5"},
    Pair{"libbz2.so.1.0", "libbz2-1.0"},
    Pair{"libreadline.so.8", "libreadline8"},
    Pair{"libncursesw.so.6", "libncursesw6"},
    Pair{"libpanelw.so.6", "libncursesw6"},
    Pair{"libtinfo.so.6", "libtinfo6"},
    Pair{"libgdbm.so.6", "libgdbm6"},
    Pair{"libgdbm_compat.so.4", "libgdbm-compat4"},
    Pair{"libtk8.6.so", "libtk8.6"},
    Pair{"libtcl8.6.so", "libtcl8.6"},
    Pair{"libuuid.so.1", "libuuid1"},
    Pair{"libz.so.1", "zlib1g"},
    Pair{"libexpat.so.1", "libexpat1"},
    Pair{"libmpdec.so.3", "libmpdec3"},
    Pair{"libdb-5.3.so", "libdb5.3"},
    Pair{"libnsl.so.2", "libnsl2"},
    Pair{"libtirpc.so.3", "libtirpc3"},
    Pair{"libcrypt.so.1", "libcrypt1"},
    Pair{"libc.so.6", "libc6"},
    Pair{"libm.so.6", "libc6"},
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

std::optional<std::string_view> debian_package_for_soname(std::string_view soname) {
  for (const auto& [name, package] : kDebianPackages) {
    if (name == soname) return package;
  }
  return std::nullopt;
}

}  // namespace pycheck
