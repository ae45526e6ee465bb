// HttpClient against a local HTTP(S) server and proxy (tests/http/test_server.py),
// with a throwaway CA and server certificate made by the openssl CLI. Nothing
// here talks to an address outside 127.0.0.1.
#include "agent/http/http_client.h"

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

#include "tests/unit/fixture_root.h"
#include "tests/unit/local_server.h"

namespace pycheck {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

void run_or_throw(const std::string& command) {
  if (std::system((command + " >/dev/null 2>&1").c_str()) != 0) {
    throw std::runtime_error("test setup command failed: " + command);
  }
}

// A CA, a server certificate it signed (for 127.0.0.1 and localhost), and an
// unrelated CA that must not be trusted for that server.
struct Certificates {
  test::FixtureRoot dir;
  std::string ca, server_cert, server_key, other_ca, ca_dir;

  Certificates() {
    const std::string d = dir.dir();
    ca = d + "/ca.pem";
    server_cert = d + "/server.pem";
    server_key = d + "/server.key";
    other_ca = d + "/other-ca.pem";
    ca_dir = d + "/ca-dir";
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    run_or_throw("openssl req -x509" + ec + " -keyout " + d + "/ca.key -out " + ca +
                 " -days 2 -subj '/CN=pycheck test CA'"
                 " -addext basicConstraints=critical,CA:TRUE"
                 " -addext keyUsage=critical,keyCertSign,cRLSign");
    run_or_throw("openssl req -x509" + ec + " -keyout " + d + "/other-ca.key -out " + other_ca +
                 " -days 2 -subj '/CN=pycheck unrelated CA'"
                 " -addext basicConstraints=critical,CA:TRUE"
                 " -addext keyUsage=critical,keyCertSign,cRLSign");
    run_or_throw("openssl req" + ec + " -keyout " + server_key + " -out " + d +
                 "/server.csr -subj /CN=127.0.0.1");
    dir.file("/server.ext",
             "subjectAltName=IP:127.0.0.1,DNS:127.0.0.1,DNS:localhost\n"
             "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n");
    run_or_throw("openssl x509 -req -in " + d + "/server.csr -CA " + ca + " -CAkey " + d +
                 "/ca.key -CAcreateserial -days 2 -out " + server_cert + " -extfile " + d +
                 "/server.ext");
    dir.mkdir("/ca-dir");
    fs::copy_file(ca, ca_dir + "/pycheck-test-ca.pem");
    run_or_throw("openssl rehash " + ca_dir);  // OpenSSL-backed libcurl needs hashed names
  }
};

const Certificates& certificates() {
  static Certificates certs;
  return certs;
}

// One running test_server.py (origin or proxy mode).
class LocalServer : public test::LocalServer {
 public:
  explicit LocalServer(std::vector<std::string> args)
      : test::LocalServer("test_server.py", std::move(args)) {}
};

// Sets or unsets environment variables for one test, restoring them afterwards.
class ScopedEnv {
 public:
  ScopedEnv() = default;
  ScopedEnv(ScopedEnv&& other) noexcept : saved_(std::move(other.saved_)) { other.saved_.clear(); }
  ScopedEnv& operator=(ScopedEnv&&) = delete;
  ScopedEnv& set(const std::string& name, std::optional<std::string> value) {
    if (!saved_.count(name)) {
      const char* old = std::getenv(name.c_str());
      saved_[name] = old ? std::optional<std::string>(old) : std::nullopt;
    }
    if (value) {
      ::setenv(name.c_str(), value->c_str(), 1);
    } else {
      ::unsetenv(name.c_str());
    }
    return *this;
  }
  ~ScopedEnv() {
    for (auto& [name, value] : saved_) {
      if (value) {
        ::setenv(name.c_str(), value->c_str(), 1);
      } else {
        ::unsetenv(name.c_str());
      }
    }
  }

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

// No proxy from the machine running the tests may change where requests go.
ScopedEnv without_proxies() {
  ScopedEnv env;
  for (const char* name : {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                           "ALL_PROXY", "no_proxy", "NO_PROXY"}) {
    env.set(name, std::nullopt);
  }
  return env;
}

HttpClient::Options trusting_test_ca() {
  HttpClient::Options options;
  options.ca_file = certificates().ca;
  return options;
}

// A port on 127.0.0.1 with nothing listening on it.
int closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

nlohmann::json stats(const LocalServer& server, const std::string& scheme = "http") {
  HttpClient client(trusting_test_ca());
  auto response = client.get(server.url(scheme, "/stats"));
  REQUIRE(response.ok());
  return nlohmann::json::parse(response->body);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_CASE("HttpClient fetches over plain HTTP", "[http]") {
  auto env = without_proxies();
  LocalServer server({"origin"});
  HttpClient client;

  SECTION("200 with body, headers and effective URL") {
    auto response = client.get(server.url("http", "/ok"));
    REQUIRE(response.ok());
    CHECK(response->status == 200);
    CHECK(response->body == "hello from the pycheck test server\n");
    CHECK(response->content_type == "text/plain");
    CHECK(response->effective_url == server.url("http", "/ok"));
    CHECK_FALSE(response->from_cache);
  }
  SECTION("sends pycheck's user agent and extra headers") {
    HttpClient::RequestOptions request;
    request.headers = {"Accept: application/vnd.pypi.simple.v1+json"};
    auto response = client.get(server.url("http", "/headers"), request);
    REQUIRE(response.ok());
    auto sent = nlohmann::json::parse(response->body);
    CHECK(sent["User-Agent"] == std::string("pycheck/") + PYCHECK_VERSION);
    CHECK(sent["Accept"] == "application/vnd.pypi.simple.v1+json");
  }
  SECTION("404 and 500 are errors naming the status and URL") {
    auto not_found = client.get(server.url("http", "/status/404"));
    REQUIRE_FALSE(not_found.ok());
    CHECK(not_found.error().message ==
          "HTTP 404 Not Found from " + server.url("http", "/status/404"));
    auto server_error = client.get(server.url("http", "/status/500"));
    REQUIRE_FALSE(server_error.ok());
    CHECK(contains(server_error.error().message, "HTTP 500 Internal Server Error"));
  }
  SECTION("error statuses come back as responses when the caller accepts them") {
    HttpClient::RequestOptions request;
    request.accept_error_status = true;
    auto response = client.get(server.url("http", "/status/404"), request);
    REQUIRE(response.ok());
    CHECK(response->status == 404);
    CHECK(response->body == "status 404\n");
  }
  SECTION("redirects are followed") {
    auto response = client.get(server.url("http", "/redirect?to=/ok"));
    REQUIRE(response.ok());
    CHECK(response->body == "hello from the pycheck test server\n");
    CHECK(response->effective_url == server.url("http", "/ok"));
  }
  SECTION("connection refused is a clear error") {
    const std::string url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/";
    auto response = client.get(url);
    REQUIRE_FALSE(response.ok());
    CHECK(contains(response.error().message, "cannot connect for " + url));
    CHECK(contains(response.error().message, "Connection refused"));
  }
  SECTION("only http and https URLs") {
    auto response = client.get("ftp://127.0.0.1/x");
    REQUIRE_FALSE(response.ok());
    CHECK(contains(response.error().message, "only http:// and https://"));
  }
}

TEST_CASE("HttpClient never runs past the deadline", "[http]") {
  auto env = without_proxies();
  LocalServer server({"origin"});

  // The drip lasts 10 s, the request timeout 30 s: a deadline not applied
  // shows as a whole body or as "the request timeout", whatever the speed.
  SECTION("a body that drips slowly times out at the deadline, naming the limit") {
    const auto start = Clock::now();
    HttpClient::Options options;
    options.deadline = start + milliseconds(1000);
    HttpClient client(options);
    auto response = client.get(server.url("http", "/drip?bytes=100&interval=0.1"));
    const auto elapsed = Clock::now() - start;
    REQUIRE_FALSE(response.ok());
    CHECK(contains(response.error().message, "timed out after"));
    CHECK(contains(response.error().message, "the deadline"));
    CHECK(elapsed >= milliseconds(990));  // not before it either
  }
  SECTION("a tighter per-request deadline wins") {
    HttpClient client;  // the default 30 s request timeout
    HttpClient::RequestOptions request;
    request.deadline = Clock::now() + milliseconds(400);
    auto response = client.get(server.url("http", "/drip?bytes=100&interval=0.1"), request);
    REQUIRE_FALSE(response.ok());
    CHECK(contains(response.error().message, " ms: the deadline)"));
  }
  SECTION("the request timeout applies when it ends first") {
    HttpClient::Options options;
    options.request_timeout = milliseconds(300);
    options.deadline = Clock::now() + std::chrono::hours(1);
    HttpClient client(options);
    auto response = client.get(server.url("http", "/drip?bytes=100&interval=0.1"));
    REQUIRE_FALSE(response.ok());
    CHECK(contains(response.error().message, "the request timeout"));
  }
  SECTION("a deadline already past fails without a request") {
    HttpClient::Options options;
    options.deadline = Clock::now() - milliseconds(1);
    HttpClient client(options);
    auto response = client.get(server.url("http", "/ok"));
    REQUIRE_FALSE(response.ok());
    CHECK(contains(response.error().message, "has already passed"));
    CHECK(stats(server)["requests"] == 1);  // only the /stats request itself
  }
}

TEST_CASE("HttpClient caps the body size", "[http]") {
  auto env = without_proxies();
  LocalServer server({"origin"});
  HttpClient::Options options;
  options.max_body_bytes = 100'000;
  HttpClient client(options);

  CHECK(client.get(server.url("http", "/big?bytes=100000")).ok());
  for (const std::string path : {"/big?bytes=100001", "/big-unsized?bytes=300000"}) {
    auto response = client.get(server.url("http", path));
    REQUIRE_FALSE(response.ok());
    CHECK(response.error().message == "response from " + server.url("http", path) +
                                          " is larger than the limit of 100000 bytes");
  }
}

TEST_CASE("HttpClient verifies TLS against the CA it was given or found", "[http]") {
  auto env = without_proxies();
  const auto& certs = certificates();
  LocalServer server({"origin", "--tls", certs.server_cert, certs.server_key});
  const std::string url = server.url("https", "/ok");

  SECTION("trusted CA file: success") {
    HttpClient client(trusting_test_ca());
    auto response = client.get(url);
    REQUIRE(response.ok());
    CHECK(response->body == "hello from the pycheck test server\n");
    CHECK(client.ca_source() == "configured CA file " + certs.ca);
  }
  SECTION("trusted CA directory (CAPATH): success") {
    HttpClient::Options options;
    options.ca_dir = certs.ca_dir;
    HttpClient client(options);
    auto response = client.get(url);
    INFO((response.ok() ? "" : response.error().message));
    CHECK(response.ok());
  }
  SECTION("unknown CA: a TLS failure that names the CA source") {
    HttpClient::Options options;
    options.ca_file = certs.other_ca;
    HttpClient client(options);
    auto response = client.get(url);
    REQUIRE_FALSE(response.ok());
    CHECK(contains(response.error().message, "TLS failure fetching " + url));
    CHECK(contains(response.error().message,
                   "(CA certificates: configured CA file " + certs.other_ca + ")"));
  }
  SECTION("the machine's own CAs do not trust a private CA") {
    env.set("SSL_CERT_FILE", std::nullopt).set("SSL_CERT_DIR", std::nullopt);
    HttpClient client;
    REQUIRE_FALSE(client.get(url).ok());
  }
  SECTION("SSL_CERT_FILE and SSL_CERT_DIR of the process are used") {
    env.set("SSL_CERT_FILE", certs.ca).set("SSL_CERT_DIR", std::nullopt);
    HttpClient by_file;
    CHECK(by_file.ca_source() == "SSL_CERT_FILE=" + certs.ca);
    CHECK(by_file.get(url).ok());
    env.set("SSL_CERT_FILE", std::nullopt).set("SSL_CERT_DIR", certs.ca_dir);
    HttpClient by_dir;
    CHECK(by_dir.ca_source() == "SSL_CERT_DIR=" + certs.ca_dir);
    CHECK(by_dir.get(url).ok());
  }
  SECTION("no redirect from https down to http") {
    LocalServer plain({"origin"});
    HttpClient client(trusting_test_ca());
    auto response = client.get(server.url("https", "/redirect?to=" + plain.url("http", "/ok")));
    REQUIRE_FALSE(response.ok());
    CHECK(stats(plain)["requests"] == 1);  // only the /stats request itself
  }
}

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
