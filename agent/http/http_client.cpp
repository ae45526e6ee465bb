#include "agent/http/http_client.h"

#include <curl/curl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>

#include "agent/core/text.h"
#include "agent/http/http_cache.h"

namespace pycheck {
namespace {

using Clock = HttpClient::Clock;
using std::chrono::milliseconds;

// Go's crypto/x509 lists (root_linux.go): files first, then directories.
constexpr const char* kCaBundleFiles[] = {
    "/etc/ssl/certs/ca-certificates.crt",                 // Debian, Ubuntu, Gentoo, Arch
    "/etc/pki/tls/certs/ca-bundle.crt",                   // Fedora, RHEL 6
    "/etc/ssl/ca-bundle.pem",                             // openSUSE
    "/etc/pki/tls/cacert.pem",                            // OpenELEC
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  // CentOS, RHEL 7+
    "/etc/ssl/cert.pem",                                  // Alpine
};
constexpr const char* kCaDirs[] = {"/etc/ssl/certs", "/etc/pki/tls/certs"};

bool is_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool is_dir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

// curl_global_init is not thread-safe; run it once for the process.
void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string format_duration(milliseconds ms) {
  char text[32];
  if (ms.count() < 1000) {
    std::snprintf(text, sizeof text, "%lld ms", static_cast<long long>(ms.count()));
  } else {
    std::snprintf(text, sizeof text, "%.1f s", static_cast<double>(ms.count()) / 1000.0);
  }
  return text;
}

// ---------------------------------------------------------------------------
// One transfer.

struct Transfer {
  std::size_t max_body = 0;
  bool body_too_large = false;
  std::string body;
  std::string reason;  // of the last status line: "Not Found"
  std::map<std::string, std::string> headers;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t bytes = size * count;
  if (transfer->body.size() + bytes > transfer->max_body) {
    transfer->body_too_large = true;
    return 0;  // makes libcurl stop with CURLE_WRITE_ERROR
  }
  transfer->body.append(data, bytes);
  return bytes;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t bytes = size * count;
  const std::string_view line(data, bytes);
  if (line.starts_with("HTTP/")) {
    transfer->headers.clear();  // a new response (redirect, 100, proxy CONNECT): keep the last
    const auto code_start = line.find(' ');
    const auto reason_start =
        line.find(' ', code_start == std::string::npos ? line.size() : code_start + 1);
    transfer->reason =
        reason_start == std::string::npos ? "" : std::string(trim(line.substr(reason_start + 1)));
  } else if (auto colon = line.find(':'); colon != std::string::npos) {
    transfer->headers[lowercase(trim(line.substr(0, colon)))] = trim(line.substr(colon + 1));
  }
  return bytes;
}

struct CurlDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

// libcurl reads only the lowercase http_proxy (the CGI "httpoxy" guard); pycheck
// is no CGI, and Python, pip and most tools honour HTTP_PROXY too.
std::string uppercase_http_proxy_for(const std::string& url) {
  if (url.rfind("http://", 0) != 0 || std::getenv("http_proxy") != nullptr) return "";
  return env_or_empty("HTTP_PROXY");
}

bool is_tls_failure(CURLcode code) {
  switch (code) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
      return true;
    default:
      return false;
  }
}

// What the caller needs to word a failed transfer.
struct FailureContext {
  const std::string& shown_url;
  milliseconds budget;
  const std::string& limit_name;
  milliseconds elapsed;
  const HttpClientOptions& options;
  const std::string& ca_source;
};

// The run's deadline (HttpClientOptions::deadline, HttpRequest::deadline), as
// error messages name it.
constexpr const char* kDeadline = "the deadline";

Error transfer_error(CURL* curl, CURLcode code, const Transfer& transfer, const char* error_text,
                     const FailureContext& context) {
  const std::string& url = context.shown_url;
  const std::string detail = error_text[0] ? error_text : curl_easy_strerror(code);
  if (transfer.body_too_large || code == CURLE_FILESIZE_EXCEEDED) {
    return Error{"response from " + url + " is larger than the limit of " +
                 std::to_string(context.options.max_body_bytes) + " bytes"};
  }
  if (code == CURLE_OPERATION_TIMEDOUT) {
    // Never connected and the connect limit is the shorter one: that is what expired.
    curl_off_t connect_us = 0;
    curl_easy_getinfo(curl, CURLINFO_CONNECT_TIME_T, &connect_us);
    const bool connect_limit = connect_us == 0 && context.options.connect_timeout < context.budget;
    const std::string limit =
        connect_limit ? format_duration(context.options.connect_timeout) + ": the connect timeout"
                      : format_duration(context.budget) + ": " + context.limit_name;
    // Only the run's deadline is a deadline (Error::timed_out): a slow mirror
    // within the run's time is a network error the check reports as such.
    const bool run_deadline = !connect_limit && context.limit_name == kDeadline;
    return Error{"timed out after " + format_duration(context.elapsed) + " fetching " + url +
                     " (limit " + limit + ")",
                 run_deadline ? ETIMEDOUT : 0};
  }
  if (code == CURLE_COULDNT_RESOLVE_HOST)
    return Error{"DNS lookup failed for " + url + ": " + detail};
  if (code == CURLE_COULDNT_RESOLVE_PROXY) {
    return Error{"DNS lookup failed for the proxy of " + url + ": " + detail};
  }
  if (code == CURLE_COULDNT_CONNECT) {
    long os_errno = 0;
    curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
    // strerrordesc_np: English and thread-safe, unlike strerror.
    const char* reason = os_errno ? ::strerrordesc_np(static_cast<int>(os_errno)) : nullptr;
    return Error{"cannot connect for " + url + ": " + (reason ? reason : detail.c_str()) + " (" +
                     detail + ")",
                 static_cast<int>(os_errno)};
  }
  if (is_tls_failure(code)) {
    return Error{"TLS failure fetching " + url + ": " + detail +
                 " (CA certificates: " + context.ca_source + ")"};
  }
  return Error{"fetching " + url + " failed: " + detail};
}

}  // namespace

std::string redact_url(const std::string& url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return url;
  const auto authority = scheme_end + 3;
  const auto authority_end = url.find_first_of("/?#", authority);
  const auto at = url.rfind('@', authority_end == std::string::npos ? url.size() : authority_end);
  if (at == std::string::npos || at < authority) return url;
  return url.substr(0, authority) + "***" + url.substr(at);
}

CaCertificates discover_ca_certificates(const std::string& explicit_file,
                                        const std::string& explicit_dir) {
  CaCertificates ca;
  if (!explicit_file.empty() || !explicit_dir.empty()) {
    ca.file = explicit_file;
    ca.dir = explicit_dir;
    ca.source = !explicit_file.empty() ? "configured CA file " + explicit_file
                                       : "configured CA directory " + explicit_dir;
    if (!explicit_file.empty() && !explicit_dir.empty())
      ca.source += " and directory " + explicit_dir;
    return ca;
  }
  // As OpenSSL does: SSL_CERT_FILE and SSL_CERT_DIR of the process, together if both are set.
  const std::string env_file = env_or_empty("SSL_CERT_FILE");
  std::string env_dir = env_or_empty("SSL_CERT_DIR");
  env_dir = env_dir.substr(0, env_dir.find(':'));  // a list in OpenSSL; libcurl takes one
  if (!env_file.empty() && is_file(env_file)) {
    ca.file = env_file;
    ca.source = "SSL_CERT_FILE=" + env_file;
  }
  if (!env_dir.empty() && is_dir(env_dir)) {
    ca.dir = env_dir;
    ca.source += (ca.source.empty() ? "" : ", ") + std::string("SSL_CERT_DIR=") + env_dir;
  }
  if (!ca.source.empty()) return ca;
  // A variable that points nowhere is ignored, but said, so a typo is visible.
  std::vector<std::string> ignored;
  if (!env_file.empty()) ignored.push_back("SSL_CERT_FILE=" + env_file);
  if (!env_dir.empty()) ignored.push_back("SSL_CERT_DIR=" + env_dir);
  const std::string note =
      ignored.empty() ? "" : " (ignored " + join(ignored, ", ") + ": not found)";
  for (const char* file : kCaBundleFiles) {
    if (is_file(file)) {
      ca.file = file;
      ca.source = file + note;
      return ca;
    }
  }
  for (const char* dir : kCaDirs) {
    if (is_dir(dir)) {
      ca.dir = dir;
      ca.source = std::string("directory ") + dir + note;
      return ca;
    }
  }
  ca.source = "none found (looked at SSL_CERT_FILE, SSL_CERT_DIR, " +
              std::to_string(std::size(kCaBundleFiles)) + " bundle files such as " +
              kCaBundleFiles[0] + ", and " + std::to_string(std::size(kCaDirs)) + " directories)" +
              note;
  return ca;
}

HttpClient::HttpClient(Options options)
    : options_(std::move(options)),
      ca_(discover_ca_certificates(options_.ca_file, options_.ca_dir)) {
  init_curl_once();
}

Result<HttpResponse> HttpClient::get(const std::string& url, const RequestOptions& request) const {
  const std::string shown_url = redact_url(url);
  const bool https = lowercase(url.substr(0, 8)) == "https://";
  if (!https && lowercase(url.substr(0, 7)) != "http://") {
    return Error{"cannot fetch " + shown_url + ": only http:// and https:// URLs are supported"};
  }
  if (https && ca_.file.empty() && ca_.dir.empty()) {
    return Error{"cannot fetch " + shown_url + ": no CA certificates: " + ca_.source +
                 "; install ca-certificates or set SSL_CERT_FILE"};
  }

  // The tightest of: the run's deadline, this request's deadline, the per-request cap.
  const auto start = Clock::now();
  auto limit_end = start + options_.request_timeout;
  std::string limit_name = "the request timeout";
  for (const auto& deadline : {options_.deadline, request.deadline}) {
    if (deadline && *deadline <= limit_end) {
      limit_end = *deadline;
      limit_name = kDeadline;
    }
  }
  const auto budget = std::chrono::duration_cast<milliseconds>(limit_end - start);
  if (budget.count() <= 0) {
    return Error{"not fetching " + shown_url + ": " + limit_name + " has already passed",
                 limit_name == kDeadline ? ETIMEDOUT : 0};
  }

  std::optional<HttpCacheEntry> cached;
  const bool use_cache = request.use_cache && !options_.cache_dir.empty();
  if (use_cache) cached = load_http_cache(options_.cache_dir, url, options_.max_body_bytes);

  std::unique_ptr<CURL, CurlDeleter> handle(curl_easy_init());
  if (!handle) return Error{"cannot fetch " + shown_url + ": libcurl could not start a transfer"};
  CURL* curl = handle.get();
  Transfer transfer;
  transfer.max_body = options_.max_body_bytes;
  char error_text[CURL_ERROR_SIZE] = "";

  curl_slist* raw_headers = nullptr;
  for (const auto& header : request.headers)
    raw_headers = curl_slist_append(raw_headers, header.c_str());
  if (cached && !cached->etag.empty()) {
    raw_headers = curl_slist_append(raw_headers, ("If-None-Match: " + cached->etag).c_str());
  }
  if (cached && !cached->last_modified.empty()) {
    raw_headers =
        curl_slist_append(raw_headers, ("If-Modified-Since: " + cached->last_modified).c_str());
  }
  std::unique_ptr<curl_slist, SlistDeleter> headers(raw_headers);

  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_text);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, https ? "https" : "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // whatever this libcurl decodes
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(budget.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min(budget, options_.connect_timeout).count()));
  curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE,
                   static_cast<curl_off_t>(options_.max_body_bytes));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  // Always explicit: the build bakes in no CA path, and a blank option means "none".
  curl_easy_setopt(curl, CURLOPT_CAINFO, ca_.file.empty() ? nullptr : ca_.file.c_str());
  curl_easy_setopt(curl, CURLOPT_CAPATH, ca_.dir.empty() ? nullptr : ca_.dir.c_str());
  curl_easy_setopt(curl, CURLOPT_PROXY_CAINFO, ca_.file.empty() ? nullptr : ca_.file.c_str());
  curl_easy_setopt(curl, CURLOPT_PROXY_CAPATH, ca_.dir.empty() ? nullptr : ca_.dir.c_str());
  // Unset CURLOPT_PROXY: libcurl takes https_proxy/all_proxy/no_proxy from the environment.
  const std::string upper_proxy = uppercase_http_proxy_for(url);
  if (!upper_proxy.empty()) curl_easy_setopt(curl, CURLOPT_PROXY, upper_proxy.c_str());

  const CURLcode code = curl_easy_perform(curl);
  const auto elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - start);

  if (code != CURLE_OK) {
    return transfer_error(curl, code, transfer, error_text,
                          {shown_url, budget, limit_name, elapsed, options_, ca_.source});
  }

  HttpResponse response;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  if (const char* effective = nullptr;
      curl_easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &effective) == CURLE_OK && effective) {
    response.effective_url = effective;
  }
  response.headers = std::move(transfer.headers);
  const auto header = [&](const char* name) {
    auto it = response.headers.find(name);
    return it == response.headers.end() ? std::string() : it->second;
  };
  response.content_type = header("content-type");
  response.etag = header("etag");
  response.last_modified = header("last-modified");
  response.body = std::move(transfer.body);

  if (response.status == 304 && cached) {
    response.status = cached->status;
    response.body = std::move(cached->body);
    if (response.content_type.empty()) response.content_type = cached->content_type;
    if (response.etag.empty()) response.etag = cached->etag;
    if (response.last_modified.empty()) response.last_modified = cached->last_modified;
    response.from_cache = true;
    return response;
  }
  if (response.status >= 400 && !request.accept_error_status) {
    const std::string reason = transfer.reason.empty() ? "" : " " + transfer.reason;
    return Error{"HTTP " + std::to_string(response.status) + reason + " from " +
                 redact_url(response.effective_url.empty() ? url : response.effective_url)};
  }
  if (use_cache && response.status == 200 &&
      (!response.etag.empty() || !response.last_modified.empty())) {
    store_http_cache(options_.cache_dir,
                     HttpCacheEntry{response.status, url, response.etag, response.last_modified,
                                    response.content_type, response.body});
  }
  return response;
}

}  // namespace pycheck
