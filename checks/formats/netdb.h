// Readers of /etc/services and /etc/protocols (pure: bytes in, entries out).
//
// Both follow the format glibc's nss_files and musl read:
//   services:  name port/protocol [alias...] [# comment]
//   protocols: name number [alias...] [# comment]
// '#' starts a comment anywhere on a line; fields are separated by blanks.
// A line that does not fit is counted as malformed and skipped, as the C
// libraries skip it; it never stops the parse.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pycheck {

struct MalformedLine {
  std::size_t line = 0;  // 1-based
  std::string text;      // the line, cut to 80 characters
};

struct ServiceEntry {
  std::string name;
  std::uint16_t port = 0;
  std::string protocol;  // "tcp", "udp", "sctp", "ddp", ...
  std::vector<std::string> aliases;
  std::size_t line = 0;
};

struct ProtocolEntry {
  std::string name;
  int number = 0;  // 0..INT_MAX, as glibc reads it (Linux lists mptcp 262)
  std::vector<std::string> aliases;
  std::size_t line = 0;
};

inline constexpr std::size_t kMaxMalformedKept = 20;

struct ServicesTable {
  std::vector<ServiceEntry> entries;
  std::size_t malformed_count = 0;
  std::vector<MalformedLine> malformed;  // the first kMaxMalformedKept of them

  // What getservbyname(name, protocol) returns: the first entry, in file
  // order, whose name or alias is `name` (case-sensitive) for `protocol`.
  const ServiceEntry* find(std::string_view name, std::string_view protocol) const;
};

struct ProtocolsTable {
  std::vector<ProtocolEntry> entries;
  std::size_t malformed_count = 0;
  std::vector<MalformedLine> malformed;

  // What getprotobyname(name) returns: the first entry whose name or alias is `name`.
  const ProtocolEntry* find(std::string_view name) const;
};

ServicesTable parse_services(std::string_view text);
ProtocolsTable parse_protocols(std::string_view text);

}  // namespace pycheck
