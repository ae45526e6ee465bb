// HttpClient against a local HTTP(S) server and proxy (tests/http/test_server.py),
// with a throwaway CA and server certificate made by the openssl CLI. Nothing
// here talks to an address outside 127.0.0.1. Fetching, deadlines, body size and TLS;
// CA discovery, proxies, the cache and threads: http_client_env_cache_test.cpp.
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
#include "tests/unit/http_client_test_support.h"
#include "tests/unit/local_server.h"

namespace pycheck {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using namespace http_test;

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

}  // namespace
}  // namespace pycheck
