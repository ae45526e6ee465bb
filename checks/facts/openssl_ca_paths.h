// Where OpenSSL-based clients look for CA certificates in the inspected root:
// SSL_CERT_FILE / SSL_CERT_DIR when set (instead of the defaults, not in
// addition), else the distributions' default bundles and hashed directories.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/check.h"
#include "agent/core/environment.h"
#include "agent/core/result.h"
#include "agent/rootfs/rootfs.h"

namespace pycheck {

inline constexpr std::array<std::string_view, 6> kDefaultCaBundles = {
    "/etc/ssl/certs/ca-certificates.crt",                 // Debian, Ubuntu, Gentoo
    "/etc/pki/tls/certs/ca-bundle.crt",                   // Fedora, RHEL 6
    "/etc/ssl/ca-bundle.pem",                             // openSUSE
    "/etc/pki/tls/cacert.pem",                            // OpenELEC
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  // RHEL 7+, CentOS
    "/etc/ssl/cert.pem",                                  // Alpine
};
inline constexpr std::array<std::string_view, 2> kDefaultCaDirs = {"/etc/ssl/certs",
                                                                   "/etc/pki/tls/certs"};
inline constexpr std::string_view kOpensslDirCertPem = "/usr/lib/ssl/cert.pem";  // Debian's

// c_rehash / openssl rehash names: 8 lowercase hex digits, '.', a decimal suffix.
bool is_hash_link_name(std::string_view name);

struct CaDirectory {
  std::string path;
  std::string_view origin;  // "SSL_CERT_DIR" or "default"
};

// SSL_CERT_DIR's entries (colon-separated, as OpenSSL splits it) when set, else
// the default directories, which count only when they are directories.
std::vector<CaDirectory> ca_directories(const Environment& env);

// A hashed directory's links followed to their files, none of them read.
struct HashLinkTargets {
  std::size_t links = 0;  // hash-named entries looked at
  // Distinct regular files they reach (canonical paths inside the root, sorted).
  std::vector<std::string> files;
  struct Unusable {
    std::string name;   // the entry in the directory
    std::string error;  // dangling, a loop, not a regular file, ...
  };
  std::vector<Unusable> unusable;  // links that reach no regular file
  std::vector<std::string> empty;  // names whose file is empty: no certificate in it
};

// Follows the hash-named entries of `entries` (the listing of `dir`, at most
// `max_links` of them) through `fs`, which keeps every target inside the root,
// and stats what they reach. An Error only for the run's deadline.
Result<HashLinkTargets> resolve_hash_links(const RootFs& fs, std::string_view dir,
                                           const std::vector<DirEntry>& entries,
                                           std::size_t max_links);

// Whether OpenSSL's own cert.pem (kOpensslDirCertPem) is there, what it links
// to and whether that resolves to a file. An Error only for the run's deadline.
Result<json> openssl_dir_cert_pem(const RootFs& fs);

}  // namespace pycheck
