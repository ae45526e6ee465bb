// Downloading a repository's InRelease and Packages indexes from the archive,
// the way apt does: each index is chosen from InRelease's SHA256 list (xz,
// then gz, then plain), fetched by-hash when the Release offers it, and
// checked for size and SHA-256 before it is decompressed. An index that does
// not verify is an error: there is no fallback to an unverified download.
// InRelease itself is fetched as bytes: the caller verifies its signature
// (apt_release_trust.h) before anything in it is used.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "agent/core/result.h"
#include "checks/formats/apt_release.h"

namespace pycheck {

class HttpClient;

struct FetchedRelease {
  std::string url;   // "<uri>/dists/<suite>/InRelease" as requested (credentials included)
  std::string body;  // as downloaded, not yet verified
};

// GETs <uri>/dists/<suite>/InRelease. Errors name the URL without credentials.
Result<FetchedRelease> fetch_release(const HttpClient& http, std::string_view uri,
                                     std::string_view suite);

struct FetchedIndex {
  std::string url;   // what was downloaded: the by-hash URL when offered
  std::string path;  // the Release's entry, e.g. "main/binary-amd64/Packages.xz"
  std::string text;  // the verified index, decompressed
};

// The Packages index of (component, architecture) named by `release` (read
// from the verified InRelease at `release_url`), checked against it and
// decompressed to at most max_bytes. Errors: not listed in the Release,
// HTTP failure, wrong size, wrong SHA-256, corrupt compression.
Result<FetchedIndex> fetch_packages_index(const HttpClient& http, const std::string& release_url,
                                          const AptRelease& release,
                                          std::string_view component, std::string_view architecture,
                                          std::size_t max_bytes);

}  // namespace pycheck
