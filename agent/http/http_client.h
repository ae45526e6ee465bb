// HttpClient: the one way pycheck talks to the network (libcurl underneath).
//
// Every online check fetches through the Context's `const HttpClient*`. The
// client applies the run's deadline (no request goes on past it), a cap on the
// body size, the proxy settings of pycheck's own process environment
// (http_proxy/HTTP_PROXY, https_proxy/HTTPS_PROXY, all_proxy, no_proxy/NO_PROXY)
// and the CA certificates found on the machine pycheck runs on. TLS
// verification is never turned off. Failures are Error values whose message
// names the URL and what went wrong: DNS, refused connection, TLS (with the CA
// source), HTTP status, timeout (with the limit), body too large.
//
// get() is const and thread-safe: each request uses its own libcurl handle.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/result.h"

namespace pycheck {

struct HttpResponse {
  long status = 0;                             // final HTTP status, after redirects
  std::map<std::string, std::string> headers;  // final response's headers, names lowercased
  std::string content_type;
  std::string etag;
  std::string last_modified;
  std::string body;
  std::string effective_url;  // the URL after redirects
  bool from_cache = false;    // the server said 304 and the body came from the cache dir
};

// Where TLS trust comes from. Empty file and dir: nothing was found.
struct CaCertificates {
  std::string file;    // PEM bundle for CURLOPT_CAINFO
  std::string dir;     // directory of PEM files for CURLOPT_CAPATH
  std::string source;  // for humans: "SSL_CERT_FILE=/x", "/etc/ssl/certs/ca-certificates.crt", ...
};

// Finds the CA certificates of the machine pycheck runs on (this process's
// environment and the real filesystem, since pycheck itself makes the request):
// explicit file/dir if given, else SSL_CERT_FILE and/or SSL_CERT_DIR, else the
// first distro bundle that exists (Debian, Fedora/RHEL, openSUSE, Alpine, ...),
// else the first certificate directory.
CaCertificates discover_ca_certificates(const std::string& explicit_file = {},
                                        const std::string& explicit_dir = {});

// Options of an HttpClient (outside the class so `= {}` defaults work).
struct HttpClientOptions {
  // Nothing runs past this point; connect and total timeouts derive from it.
  std::optional<std::chrono::steady_clock::time_point> deadline;
  // Caps for one request when they end before the deadline.
  std::chrono::milliseconds request_timeout{30'000};
  std::chrono::milliseconds connect_timeout{10'000};
  std::size_t max_body_bytes = std::size_t{64} << 20;
  std::string user_agent = "pycheck/" PYCHECK_VERSION;
  // When set: bodies with an ETag or Last-Modified are stored here and
  // revalidated with If-None-Match/If-Modified-Since. Empty: nothing is written.
  std::string cache_dir;
  // Explicit CA bundle/directory; when both are empty they are discovered.
  std::string ca_file;
  std::string ca_dir;
};

struct HttpRequestOptions {
  std::optional<std::chrono::steady_clock::time_point>
      deadline;                      // an earlier deadline for this request
  bool accept_error_status = false;  // 4xx/5xx come back as responses
  std::vector<std::string> headers;  // extra "Name: value" request headers
  bool use_cache = true;             // consult/update the cache dir, if any
};

class HttpClient {
 public:
  using Clock = std::chrono::steady_clock;
  using Options = HttpClientOptions;
  using RequestOptions = HttpRequestOptions;

  explicit HttpClient(Options options = {});

  // GETs `url` (http or https; redirects followed, never from https to http).
  Result<HttpResponse> get(const std::string& url, const RequestOptions& request = {}) const;

  // Where the CA certificates come from, e.g. "/etc/ssl/certs/ca-certificates.crt".
  const std::string& ca_source() const { return ca_.source; }
  const Options& options() const { return options_; }

 private:
  Options options_;
  CaCertificates ca_;
};

// "https://user:secret@host/x" -> "https://***@host/x": URLs in messages never carry secrets.
std::string redact_url(const std::string& url);

}  // namespace pycheck
