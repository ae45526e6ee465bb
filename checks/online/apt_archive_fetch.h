// Downloading a repository's InRelease and Packages indexes from the archive,
// the way apt does: each index is chosen from InRelease's SHA256 list (xz,
// then gz, then plain), fetched by-hash when the Release offers it, and
// checked for size and SHA-256 before it is decompressed. An index that does
// not verify is an error: there is no fallback to an unverified download.
// InRelease's OpenPGP signature is NOT verified (see apt_release.h).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "agent/core/result.h"
#include "checks/formats/apt_release.h"

namespace pycheck {

class HttpClient;

struct FetchedRelease {
  std::string url;  // "<uri>/dists/<suite>/InRelease" as requested (credentials included)
  AptRelease release;
};

// GETs and parses <uri>/dists/<suite>/InRelease. Errors name the URL without credentials.
Result<FetchedRelease> fetch_release(const HttpClient& http, std::string_view uri,
                                     std::string_view suite);

struct FetchedIndex {
  std::string url;   // what was downloaded: the by-hash URL when offered
  std::string path;  // the Release's entry, e.g. "main/binary-amd64/Packages.xz"
  std::string text;  // the verified index, decompressed
};

// The Packages index of (component, architecture) named by `release`, verified
// and decompressed to at most max_bytes. Errors: not listed in the Release,
// HTTP failure, wrong size, wrong SHA-256, corrupt compression.
Result<FetchedIndex> fetch_packages_index(const HttpClient& http, const FetchedRelease& release,
                                          std::string_view component, std::string_view architecture,
                                          std::size_t max_bytes);

// Lowercase hex SHA-256 of `data`, as Release files list it.
std::string sha256_hex(std::string_view data);

}  // namespace pycheck
