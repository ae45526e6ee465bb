// Shared by the HttpClient tests (http_client_test.cpp,
// http_client_env_cache_test.cpp): a throwaway CA and server certificate made
// by the openssl CLI, the local test_server.py, and the environment around them.
#pragma once

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "agent/http/http_client.h"
#include "tests/unit/fixture_root.h"
#include "tests/unit/local_server.h"

namespace pycheck::http_test {

namespace fs = std::filesystem;

inline void run_or_throw(const std::string& command) {
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

inline const Certificates& certificates() {
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
inline ScopedEnv without_proxies() {
  ScopedEnv env;
  for (const char* name : {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                           "ALL_PROXY", "no_proxy", "NO_PROXY"}) {
    env.set(name, std::nullopt);
  }
  return env;
}

inline HttpClient::Options trusting_test_ca() {
  HttpClient::Options options;
  options.ca_file = certificates().ca;
  return options;
}

inline nlohmann::json stats(const LocalServer& server, const std::string& scheme = "http") {
  HttpClient client(trusting_test_ca());
  auto response = client.get(server.url(scheme, "/stats"));
  REQUIRE(response.ok());
  return nlohmann::json::parse(response->body);
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace pycheck::http_test
