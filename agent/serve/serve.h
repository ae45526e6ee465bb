// `pycheck serve`: an HTTP health endpoint (libmicrohttpd) in front of the
// background runs of agent/serve/scheduler.h. The endpoints themselves are the
// pure function in agent/serve/health_endpoints.h.
#pragma once

#include <sys/socket.h>

#include <string>
#include <string_view>

#include "agent/core/result.h"
#include "agent/serve/background_runs.h"

namespace pycheck {

inline constexpr std::string_view kDefaultListen = "127.0.0.1:8079";

// A numeric address to listen on. No name lookup: the static build must not
// call getaddrinfo (NSS), and a probe address is an IP anyway.
struct ListenAddress {
  sockaddr_storage addr{};
  socklen_t length = 0;
  std::string text;  // normalised: "127.0.0.1:8079", "[::1]:8079", "0.0.0.0:8079"
};

// "IPv4:PORT", "[IPv6]:PORT" or ":PORT" (all IPv4 interfaces, e.g. to be
// reachable on a pod IP; "[::]:PORT" for all interfaces, IPv4 and IPv6).
// PORT is 0..65535; 0 picks a free port (logged at startup).
Result<ListenAddress> parse_listen_address(std::string_view text);

struct ServeLimits {
  unsigned max_connections = 64;
  std::size_t connection_memory = 16 * 1024;  // request line + headers, per connection
  unsigned connection_timeout_seconds = 3;    // idle time before a client is dropped
  unsigned threads = 2;                       // libmicrohttpd worker threads (epoll each)
};

// Serves until SIGTERM or SIGINT, then stops within a second and returns 0.
// Returns 2 (after printing why) when the address cannot be bound. Must be
// called before any other thread exists: it blocks the stop signals for all
// threads and waits for them itself.
// One write(2) to stderr per line, so lines from the background and main
// threads never interleave: serve's log.
void serve_log(const std::string& line);

// `runs` is not started yet; run_serve starts it.
int run_serve(const ListenAddress& listen, BackgroundRuns& runs, const ServeLimits& limits = {});

}  // namespace pycheck
