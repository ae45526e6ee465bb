#include "checks/formats/netdb.h"

#include <charconv>
#include <optional>

#include "agent/core/text.h"

namespace pycheck {
namespace {

constexpr std::string_view kBlanks = " \t\r\f\v";

// The blank-separated words of a line, comment removed.
std::vector<std::string_view> words_of(std::string_view line) {
  const std::size_t hash = line.find('#');
  if (hash != std::string_view::npos) line = line.substr(0, hash);
  return split_at_any(line, kBlanks);
}

// A decimal number in [0, max], digits only.
std::optional<unsigned> parse_number(std::string_view text, unsigned max) {
  if (text.empty() || text.size() > 10) return std::nullopt;
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value > max) return std::nullopt;
  return value;
}

template <typename Table>
void note_malformed(Table& table, std::size_t line_number, std::string_view line) {
  ++table.malformed_count;
  if (table.malformed.size() < kMaxMalformedKept) {
    table.malformed.push_back({line_number, std::string(line.substr(0, 80))});
  }
}

// Calls `on_line(number, line)` for each line of `text`.
template <typename F>
void for_each_line(std::string_view text, F on_line) {
  std::size_t number = 0;
  for (std::string_view line : split_lines(text)) on_line(++number, line);
}

bool has_alias(const std::vector<std::string>& aliases, std::string_view name) {
  for (const std::string& alias : aliases) {
    if (alias == name) return true;
  }
  return false;
}

}  // namespace

ServicesTable parse_services(std::string_view text) {
  ServicesTable table;
  for_each_line(text, [&](std::size_t number, std::string_view line) {
    const std::vector<std::string_view> words = words_of(line);
    if (words.empty()) return;
    const std::string_view port_proto = words.size() >= 2 ? words[1] : std::string_view{};
    const std::size_t slash = port_proto.find('/');
    std::optional<unsigned> port;
    if (slash != std::string_view::npos) port = parse_number(port_proto.substr(0, slash), 65535);
    if (!port || slash + 1 >= port_proto.size()) {
      note_malformed(table, number, line);
      return;
    }
    ServiceEntry entry;
    entry.name = std::string(words[0]);
    entry.port = static_cast<std::uint16_t>(*port);
    entry.protocol = std::string(port_proto.substr(slash + 1));
    for (std::size_t i = 2; i < words.size(); ++i) entry.aliases.emplace_back(words[i]);
    entry.line = number;
    table.entries.push_back(std::move(entry));
  });
  return table;
}

ProtocolsTable parse_protocols(std::string_view text) {
  ProtocolsTable table;
  for_each_line(text, [&](std::size_t number, std::string_view line) {
    const std::vector<std::string_view> words = words_of(line);
    if (words.empty()) return;
    std::optional<unsigned> value;
    if (words.size() >= 2) value = parse_number(words[1], 2147483647u);
    if (!value) {
      note_malformed(table, number, line);
      return;
    }
    ProtocolEntry entry;
    entry.name = std::string(words[0]);
    entry.number = static_cast<int>(*value);
    for (std::size_t i = 2; i < words.size(); ++i) entry.aliases.emplace_back(words[i]);
    entry.line = number;
    table.entries.push_back(std::move(entry));
  });
  return table;
}

const ServiceEntry* ServicesTable::find(std::string_view name, std::string_view protocol) const {
  for (const ServiceEntry& entry : entries) {
    if (entry.protocol != protocol) continue;
    if (entry.name == name || has_alias(entry.aliases, name)) return &entry;
  }
  return nullptr;
}

const ProtocolEntry* ProtocolsTable::find(std::string_view name) const {
  for (const ProtocolEntry& entry : entries) {
    if (entry.name == name || has_alias(entry.aliases, name)) return &entry;
  }
  return nullptr;
}

}  // namespace pycheck
