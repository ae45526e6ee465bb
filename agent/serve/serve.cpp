#include "agent/serve/serve.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "agent/core/duration.h"
#include "agent/serve/scheduler.h"  // reserve_descriptors_for_rootfs, through the runner

namespace pycheck {
namespace {

std::string system_error(std::string_view what) {
  return std::string(what) + ": " + std::strerror(errno);
}


std::string address_text(const sockaddr_storage& addr) {
  char host[INET6_ADDRSTRLEN] = "";
  if (addr.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(addr);
    ::inet_ntop(AF_INET6, &in6.sin6_addr, host, sizeof host);
    return "[" + std::string(host) + "]:" + std::to_string(ntohs(in6.sin6_port));
  }
  const auto& in4 = reinterpret_cast<const sockaddr_in&>(addr);
  ::inet_ntop(AF_INET, &in4.sin_addr, host, sizeof host);
  return std::string(host) + ":" + std::to_string(ntohs(in4.sin_port));
}

bool is_any_ipv6(const sockaddr_storage& addr) {
  if (addr.ss_family != AF_INET6) return false;
  const auto& in6 = reinterpret_cast<const sockaddr_in6&>(addr);
  return IN6_IS_ADDR_UNSPECIFIED(&in6.sin6_addr);
}

// The listening socket is ours, not libmicrohttpd's, so a bind failure is
// reported with its real reason ("Address already in use").
Result<int> bind_listener(ListenAddress& listen) {
  int fd = ::socket(listen.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Error{system_error("socket")};
  int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (listen.addr.ss_family == AF_INET6) {
    int v6only = is_any_ipv6(listen.addr) ? 0 : 1;  // [::] serves IPv4 too
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
  }
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&listen.addr), listen.length) != 0 ||
      ::listen(fd, SOMAXCONN) != 0) {
    Error error{system_error("cannot listen on " + listen.text)};
    ::close(fd);
    return error;
  }
  socklen_t length = sizeof listen.addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&listen.addr), &length) == 0) {
    listen.text = address_text(listen.addr);  // the real port when 0 was asked for
  }
  return fd;
}

MHD_Result collect_argument(void* cls, MHD_ValueKind, const char* key, const char* value) {
  auto* query = static_cast<decltype(HealthRequest::query)*>(cls);
  query->emplace_back(key, value != nullptr ? std::optional<std::string>(value) : std::nullopt);
  return MHD_YES;
}

bool has_body(MHD_Connection* connection) {
  if (MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
    return true;
  }
  const char* length =
      MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
  if (length == nullptr) return false;
  std::string_view text(length);
  return text.find_first_not_of("0 \t") != std::string_view::npos;
}

// Answers from the latest snapshot. libmicrohttpd calls this once the headers
// are in, then again when the request is complete: a bodyless request is
// answered on the second call, because a response queued on the first one
// closes the connection (no keep-alive). A request with a body is answered
// (413) on the first call, so its body is never read and the connection closes.
MHD_Result handle_request(void* cls, MHD_Connection* connection, const char* url,
                          const char* method, const char* /*version*/, const char* /*upload_data*/,
                          size_t* /*upload_data_size*/, void** request_state) {
  static int headers_seen;
  const bool body = has_body(connection);
  if (*request_state == nullptr && !body) {
    *request_state = &headers_seen;
    return MHD_YES;
  }
  const auto* runs = static_cast<const BackgroundRuns*>(cls);
  HealthRequest request;
  request.method = method;
  request.path = url;
  request.has_body = body;
  MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, collect_argument, &request.query);
  std::shared_ptr<const Snapshot> latest = runs->latest();
  HealthResponse answer = respond(request, latest.get());

  // No copy of the body: the response keeps what holds it (the snapshot, or
  // the generated string) until libmicrohttpd has sent it.
  MHD_Response* response;
  if (answer.snapshot_body != nullptr) {
    auto* keep = new std::shared_ptr<const Snapshot>(std::move(latest));
    response = MHD_create_response_from_buffer_with_free_callback_cls(
        answer.snapshot_body->size(), const_cast<char*>(answer.snapshot_body->data()),
        [](void* p) { delete static_cast<std::shared_ptr<const Snapshot>*>(p); }, keep);
    if (response == nullptr) delete keep;
  } else {
    auto* body = new std::string(std::move(answer.body));
    response = MHD_create_response_from_buffer_with_free_callback_cls(
        body->size(), body->data(), [](void* p) { delete static_cast<std::string*>(p); }, body);
    if (response == nullptr) delete body;
  }
  if (response == nullptr) return MHD_NO;
  MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, answer.content_type.c_str());
  for (const auto& [name, value] : answer.headers) {
    MHD_add_response_header(response, name.c_str(), value.c_str());
  }
  MHD_Result queued =
      MHD_queue_response(connection, static_cast<unsigned>(answer.status), response);
  MHD_destroy_response(response);
  return queued;
}

}  // namespace

void serve_log(const std::string& line) {
  std::string out = line + "\n";
  [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, out.data(), out.size());
}

Result<ListenAddress> parse_listen_address(std::string_view text) {
  const auto bad = [&](std::string_view why) {
    return Error{"--listen \"" + std::string(text) + "\": " + std::string(why)};
  };
  std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos)
    return bad("expected ADDR:PORT, e.g. 127.0.0.1:8079, [::1]:8079 or :8079");
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || port_text.size() > 5 || ec != std::errc() ||
      end != port_text.data() + port_text.size() || port > 65535) {
    return bad("the port must be a number from 0 to 65535");
  }
  ListenAddress listen;
  if (host.starts_with('[')) {
    if (!host.ends_with(']')) return bad("an IPv6 address needs a closing ']'");
    std::string ip(host.substr(1, host.size() - 2));
    auto& in6 = reinterpret_cast<sockaddr_in6&>(listen.addr);
    if (::inet_pton(AF_INET6, ip.c_str(), &in6.sin6_addr) != 1)
      return bad("\"" + ip + "\" is not an IPv6 address");
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(static_cast<uint16_t>(port));
    listen.length = sizeof in6;
  } else {
    if (host.find(':') != std::string_view::npos)
      return bad("write an IPv6 address in brackets: [::1]:8079");
    std::string ip = host.empty() ? "0.0.0.0" : std::string(host);
    auto& in4 = reinterpret_cast<sockaddr_in&>(listen.addr);
    if (::inet_pton(AF_INET, ip.c_str(), &in4.sin_addr) != 1) {
      return bad("\"" + ip +
                 "\" is not an IP address (no name lookup: use 127.0.0.1, [::1] or :PORT)");
    }
    in4.sin_family = AF_INET;
    in4.sin_port = htons(static_cast<uint16_t>(port));
    listen.length = sizeof in4;
  }
  listen.text = address_text(listen.addr);
  return listen;
}

int run_serve(const ListenAddress& address, BackgroundRuns& runs, const ServeLimits& limits) {
  // Every thread started from here on inherits the mask; only sigwait() below
  // takes the stop signals.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  reserve_descriptors_for_rootfs();  // before any thread starts

  ListenAddress listen = address;
  auto fd = bind_listener(listen);
  if (!fd) {
    std::fprintf(stderr, "pycheck: %s\n", fd.error().message.c_str());
    return 2;
  }
  runs.start();

  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO;
  MHD_Daemon* daemon = MHD_start_daemon(
      flags, 0, nullptr, nullptr, &handle_request, &runs, MHD_OPTION_LISTEN_SOCKET, *fd,
      MHD_OPTION_THREAD_POOL_SIZE, limits.threads, MHD_OPTION_CONNECTION_LIMIT,
      limits.max_connections, MHD_OPTION_CONNECTION_MEMORY_LIMIT, limits.connection_memory,
      MHD_OPTION_CONNECTION_TIMEOUT, limits.connection_timeout_seconds, MHD_OPTION_END);
  if (daemon == nullptr) {
    std::fprintf(stderr, "pycheck: the HTTP server (libmicrohttpd) did not start on %s\n",
                 listen.text.c_str());
    ::close(*fd);
    runs.stop_cleanly(std::chrono::milliseconds(500));
    std::fflush(nullptr);
    std::_Exit(2);  // a run may still be in progress: do not wait for it
  }
  serve_log("pycheck serve: listening on http://" + listen.text + " (" + runs.describe() + ")");

  int signal = 0;
  sigwait(&stop_signals, &signal);
  serve_log(std::string("pycheck serve: ") + (signal == SIGTERM ? "SIGTERM" : "SIGINT") +
           ", stopping");
  MHD_stop_daemon(daemon);  // closes the listening socket and every connection
  const bool clean = runs.stop_cleanly(std::chrono::milliseconds(500));
  if (!clean) {
    // A run or a stuck check thread is still going: do not wait for it, and do
    // not run destructors under it.
    std::fflush(nullptr);
    std::_Exit(0);
  }
  return 0;
}

}  // namespace pycheck
