// Names of the files apt keeps in /var/lib/apt/lists/ for a source entry
// (pure string functions, no I/O).
//
// apt names each downloaded file after its URI with URItoFileName
// (apt-pkg/contrib/strutl.cc): the scheme and any user:password are dropped,
// "host[:port]/path" is kept, the characters \|{}[]<>"^~_=!@#$%&* plus space,
// '%', control and non-ASCII bytes become lower-case %xx, and every '/'
// becomes '_'. So http://mirror.example:8080/debian-security/ bookworm-security main
// has mirror.example:8080_debian-security_dists_bookworm-security_InRelease and
// mirror.example:8080_debian-security_dists_bookworm-security_main_binary-amd64_Packages
// (plus a compression suffix when Acquire::GzipIndexes keeps it compressed).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "checks/formats/decompress.h"

namespace pycheck {

// apt's URItoFileName.
std::string uri_to_file_name(std::string_view uri);

// The URI of a file of the repository's metadata directory: uri + "dists/" +
// suite + "/" + name, or uri + suite + name for a flat repository (suite ending
// in '/'; suite "/" means the URI itself). `uri` is an AptSourceEntry::uri
// (ending in '/'). name: "InRelease", "Release", "Release.gpg".
std::string release_file_uri(std::string_view uri, std::string_view suite, std::string_view name);

// The URI of the uncompressed Packages index of (component, architecture):
// <dists dir>/<component>/binary-<arch>/Packages; for a flat repository the
// component and architecture are ignored: <uri><suite>Packages.
std::string packages_index_uri(std::string_view uri, std::string_view suite,
                               std::string_view component, std::string_view architecture);

// The list file names of those two (uncompressed names).
std::string release_list_file(std::string_view uri, std::string_view suite, std::string_view name);
std::string packages_list_file(std::string_view uri, std::string_view suite,
                               std::string_view component, std::string_view architecture);

struct ListFileCandidate {
  std::string name;
  Compression compression = Compression::none;
};

// Every name a Packages list file may have, in the order to probe: plain,
// then apt's cheapest-first compressors .lz4, .zst, .gz, .xz, and .bz2 (which
// pycheck cannot read, so that a caller can say so rather than "missing").
std::vector<ListFileCandidate> packages_list_candidates(std::string_view uri,
                                                        std::string_view suite,
                                                        std::string_view component,
                                                        std::string_view architecture);

}  // namespace pycheck
