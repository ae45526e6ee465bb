// HttpClient against a local HTTP(S) server and proxy (tests/http/test_server.py):
// CA discovery, proxies from the environment, cache revalidation, several
// threads, redact_url. Nothing here talks to an address outside 127.0.0.1.
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "agent/http/http_client.h"
#include "tests/unit/fixture_root.h"
#include "tests/unit/http_client_test_support.h"
#include "tests/unit/local_server.h"

namespace pycheck {
namespace {

using namespace http_test;

TEST_CASE("CA discovery follows the environment, then the distro bundles", "[http]") {
  ScopedEnv env;
  env.set("SSL_CERT_FILE", std::nullopt).set("SSL_CERT_DIR", std::nullopt);
  // The build and CI machines are Debian with ca-certificates installed.
  REQUIRE(fs::is_regular_file("/etc/ssl/certs/ca-certificates.crt"));
  auto found = discover_ca_certificates();
  CHECK(found.file == "/etc/ssl/certs/ca-certificates.crt");
  CHECK(found.source == "/etc/ssl/certs/ca-certificates.crt");

  env.set("SSL_CERT_FILE", "/nonexistent/ca.pem");
  found = discover_ca_certificates();
  CHECK(found.file == "/etc/ssl/certs/ca-certificates.crt");
  CHECK(contains(found.source, "ignored SSL_CERT_FILE=/nonexistent/ca.pem: not found"));

  const auto explicit_file = discover_ca_certificates("/some/ca.pem");
  CHECK(explicit_file.file == "/some/ca.pem");
  CHECK(explicit_file.dir.empty());
}

TEST_CASE("HttpClient goes through the proxy of its own environment", "[http]") {
  auto env = without_proxies();
  const auto& certs = certificates();
  LocalServer origin({"origin"});
  LocalServer tls_origin({"origin", "--tls", certs.server_cert, certs.server_key});
  LocalServer proxy({"proxy"});
  const std::string proxy_url = "http://127.0.0.1:" + std::to_string(proxy.port());
  const std::string target = origin.url("http", "/ok");
  HttpClient client(trusting_test_ca());

  for (const char* name : {"http_proxy", "HTTP_PROXY"}) {
    DYNAMIC_SECTION(name << " routes http:// requests") {
      env.set(name, proxy_url);
      auto response = client.get(target);
      REQUIRE(response.ok());
      CHECK(response->body == "via-proxy " + target + "\n");
    }
  }
  SECTION("NO_PROXY bypasses it") {
    env.set("HTTP_PROXY", proxy_url).set("NO_PROXY", "127.0.0.1");
    auto response = client.get(target);
    REQUIRE(response.ok());
    CHECK(response->body == "hello from the pycheck test server\n");
  }
  SECTION("https_proxy tunnels https:// requests with CONNECT") {
    env.set("https_proxy", proxy_url);
    auto response = client.get(tls_origin.url("https", "/ok"));
    REQUIRE(response.ok());
    CHECK(response->body == "hello from the pycheck test server\n");
    env.set("https_proxy", std::nullopt);
    CHECK(stats(proxy)["connects"] == 1);
  }
}

TEST_CASE("HttpClient revalidates cached bodies", "[http]") {
  auto env = without_proxies();
  LocalServer server({"origin"});
  const std::string url = server.url("http", "/etag");

  SECTION("with a cache dir: If-None-Match, 304, cached body") {
    test::FixtureRoot cache;
    HttpClient::Options options;
    options.cache_dir = cache.dir() + "/http";
    HttpClient client(options);
    auto first = client.get(url);
    REQUIRE(first.ok());
    CHECK_FALSE(first->from_cache);
    CHECK(first->etag == "\"v1\"");
    auto second = client.get(url);
    REQUIRE(second.ok());
    CHECK(second->from_cache);
    CHECK(second->status == 200);
    CHECK(second->body == "versioned body v1\n");
    CHECK(second->etag == "\"v1\"");
    const auto counters = stats(server);
    CHECK(counters["conditional"] == 1);
    CHECK(counters["not_modified"] == 1);
    // Only the one entry; no temp files left behind.
    CHECK(std::distance(fs::directory_iterator(options.cache_dir), fs::directory_iterator()) == 1);
  }
  SECTION("a damaged cache entry is ignored and replaced") {
    test::FixtureRoot cache;
    HttpClient::Options options;
    options.cache_dir = cache.dir();
    HttpClient client(options);
    REQUIRE(client.get(url).ok());
    const auto entry = fs::directory_iterator(cache.dir())->path();
    const std::vector<std::string> damaged = {
        "not json\nbody", "{\"url\": \"" + url + "\", \"status\": \"two hundred\"}\nbody", ""};
    for (const auto& garbage : damaged) {
      std::ofstream(entry, std::ios::trunc) << garbage;
      auto response = client.get(url);
      REQUIRE(response.ok());
      CHECK_FALSE(response->from_cache);
      CHECK(response->body == "versioned body v1\n");
    }
    CHECK(stats(server)["conditional"] == 0);
    CHECK(client.get(url)->from_cache);  // the entry was written again
  }
  SECTION("without a cache dir nothing is cached or revalidated") {
    HttpClient client;
    REQUIRE(client.get(url).ok());
    auto second = client.get(url);
    REQUIRE(second.ok());
    CHECK_FALSE(second->from_cache);
    CHECK(stats(server)["conditional"] == 0);
  }
}

TEST_CASE("one HttpClient serves several threads at once", "[http]") {
  auto env = without_proxies();
  const auto& certs = certificates();
  LocalServer server({"origin", "--tls", certs.server_cert, certs.server_key});
  const HttpClient client(trusting_test_ca());
  std::atomic<int> successes{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 4; ++i) {
        auto response = client.get(server.url("https", "/ok"));
        if (response.ok() && response->body == "hello from the pycheck test server\n") ++successes;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(successes == 24);
}

TEST_CASE("redact_url hides credentials", "[http]") {
  CHECK(redact_url("https://user:secret@example.org/x?a=b") == "https://***@example.org/x?a=b");
  CHECK(redact_url("https://example.org/x@y") == "https://example.org/x@y");
  CHECK(redact_url("not a url") == "not a url");
}

}  // namespace
}  // namespace pycheck
