#include "checks/online/apt_archive_fetch.h"

#include <mbedtls/sha256.h>

#include <array>

#include "agent/http/http_client.h"
#include "checks/formats/apt_list_files.h"
#include "checks/formats/decompress.h"

namespace pycheck {

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, 32> digest{};
  mbedtls_sha256_ret(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
                     digest.data(), 0);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * digest.size());
  for (unsigned char b : digest) {
    hex.push_back(kHex[b >> 4]);
    hex.push_back(kHex[b & 0xf]);
  }
  return hex;
}

Result<FetchedRelease> fetch_release(const HttpClient& http, std::string_view uri,
                                     std::string_view suite) {
  FetchedRelease fetched;
  fetched.url = release_file_uri(uri, suite, "InRelease");
  auto response = http.get(fetched.url);
  if (!response) return response.error();
  auto release = parse_apt_release(response->body);
  if (!release) return Error{redact_url(fetched.url) + ": " + release.error().message};
  fetched.release = std::move(*release);
  return fetched;
}

Result<FetchedIndex> fetch_packages_index(const HttpClient& http, const FetchedRelease& release,
                                          std::string_view component, std::string_view architecture,
                                          std::size_t max_bytes) {
  auto choice = pick_packages_index(release.release, component, architecture);
  if (!choice) return Error{redact_url(release.url) + ": " + choice.error().message};
  // The index sits next to InRelease: <uri>/dists/<suite>/<path>.
  const std::string dists = release.url.substr(0, release.url.rfind('/') + 1);
  FetchedIndex fetched{dists + choice->fetch_path, choice->path, {}};
  auto got = http.get(fetched.url);
  if (!got) return got.error();
  const std::string& body = got->body;
  if (body.size() != choice->size) {
    return Error{redact_url(fetched.url) + ": got " + std::to_string(body.size()) +
                 " bytes, InRelease says " + std::to_string(choice->size)};
  }
  if (sha256_hex(body) != choice->sha256) {
    return Error{redact_url(fetched.url) + ": SHA-256 does not match InRelease's entry for " +
                 choice->path};
  }
  auto plain = decompress(body, choice->compression, max_bytes);
  if (!plain) return Error{redact_url(fetched.url) + ": " + plain.error().message};
  fetched.text = std::move(*plain);
  return fetched;
}

}  // namespace pycheck
