#include "agent/http/http_cache.h"

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace pycheck {
namespace {

std::string cache_path(const std::string& dir, const std::string& url) {
  std::uint64_t hash = 14695981039346656037ull;  // FNV-1a; the URL is stored and compared too
  for (unsigned char c : url) hash = (hash ^ c) * 1099511628211ull;
  char name[32];
  std::snprintf(name, sizeof name, "%016llx.http", static_cast<unsigned long long>(hash));
  return dir + "/" + name;
}

}  // namespace

std::optional<HttpCacheEntry> load_http_cache(const std::string& dir, const std::string& url,
                                              std::size_t max_body) try {
  std::ifstream in(cache_path(dir, url), std::ios::binary);
  std::string meta_line;
  if (!in || !std::getline(in, meta_line)) return std::nullopt;
  auto meta = nlohmann::json::parse(meta_line, nullptr, /*allow_exceptions=*/false);
  if (!meta.is_object() || meta.value("url", "") != url) return std::nullopt;
  HttpCacheEntry entry;
  entry.url = url;
  entry.status = meta.value("status", 200L);
  entry.etag = meta.value("etag", "");
  entry.last_modified = meta.value("last_modified", "");
  entry.content_type = meta.value("content_type", "");
  std::ostringstream body;
  body << in.rdbuf();
  entry.body = std::move(body).str();
  if (entry.body.size() > max_body) return std::nullopt;
  return entry;
} catch (const std::exception&) {  // a field of the wrong type in the metadata
  return std::nullopt;
}

void store_http_cache(const std::string& dir, const HttpCacheEntry& entry) {
  std::error_code ignored;
  std::filesystem::create_directories(dir, ignored);
  static std::atomic<unsigned> counter{0};
  const std::string path = cache_path(dir, entry.url);
  const std::string temp =
      path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1));
  nlohmann::json meta = {{"url", entry.url},
                         {"status", entry.status},
                         {"etag", entry.etag},
                         {"last_modified", entry.last_modified},
                         {"content_type", entry.content_type}};
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    // Header values need not be UTF-8; replace what JSON cannot hold rather than throw.
    out << meta.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n'
        << entry.body;
    if (!out.flush()) {
      std::remove(temp.c_str());
      return;
    }
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) std::remove(temp.c_str());
}

}  // namespace pycheck
