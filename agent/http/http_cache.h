// HttpClient's revalidation cache: one file per URL in the cache directory,
// "<json metadata>\n<body>", replaced atomically. Only the client uses it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace pycheck {

struct HttpCacheEntry {
  long status = 200;
  std::string url, etag, last_modified, content_type, body;
};

// nullopt for a missing, foreign or damaged entry (or a body over max_body):
// the request then goes out unconditionally.
std::optional<HttpCacheEntry> load_http_cache(const std::string& dir, const std::string& url,
                                              std::size_t max_body);

// Best effort: a cache that cannot be written only costs a full download next time.
void store_http_cache(const std::string& dir, const HttpCacheEntry& entry);

}  // namespace pycheck
