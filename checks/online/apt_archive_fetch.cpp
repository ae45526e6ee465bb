#include "checks/online/apt_archive_fetch.h"

#include "agent/http/http_client.h"
#include "checks/formats/apt_list_files.h"
#include "checks/formats/decompress.h"

namespace pycheck {

Result<FetchedRelease> fetch_release(const HttpClient& http, std::string_view uri,
                                     std::string_view suite) {
  FetchedRelease fetched;
  fetched.url = release_file_uri(uri, suite, "InRelease");
  auto response = http.get(fetched.url);
  if (!response) return response.error();
  fetched.body = std::move(response->body);
  return fetched;
}

Result<FetchedIndex> fetch_packages_index(const HttpClient& http, const std::string& release_url,
                                          const AptRelease& release, std::string_view component,
                                          std::string_view architecture, std::size_t max_bytes) {
  auto choice = pick_packages_index(release, component, architecture);
  if (!choice) return Error{redact_url(release_url) + ": " + choice.error().message};
  // The index sits next to InRelease: <uri>/dists/<suite>/<path>.
  const std::string dists(release_url.substr(0, release_url.rfind('/') + 1));
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
