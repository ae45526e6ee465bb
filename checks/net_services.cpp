// net.services: /etc/services and /etc/protocols, which the C library reads
// for socket.getservbyname(), getaddrinfo() with a service name, and
// socket.getprotobyname().
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/findings.h"
#include "checks/check_table.h"
#include "checks/facts/dpkg_database.h"
#include "checks/formats/netdb.h"

namespace pycheck {
namespace {

constexpr std::string_view kExplain =
    "Python resolves service and protocol names through the C library, which reads /etc/services "
    "(socket.getservbyname(\"https\"), socket.getaddrinfo(host, \"https\"), getservbyport) and "
    "/etc/protocols (socket.getprotobyname(\"tcp\")). Without them these calls raise OSError "
    "(\"service/proto not found\"). Debian's minimal images do not ship the files: they come from "
    "the netbase package, which the official python image installs since 2018 (commit b8c94a31, "
    "\"so that /etc/{protocols,rpc,services} exists\"). Images rebuilt FROM debian:*-slim or "
    "trimmed by hand lose it.\n\n"
    "pycheck reads both files (a missing one fails; so does one that cannot be read as a regular "
    "file, such as a FIFO or a directory, or that has no valid entry at all, naming it), parses "
    "them as glibc and musl do (malformed lines are skipped and counted), and warns when a "
    "required entry is missing or maps to another number. The required entries are http 80/tcp and "
    "https 443/tcp, and the protocols tcp 6 and udp 17: the names Python code and its libraries "
    "look up in practice. The standard library's own clients (urllib, http.client, smtplib, "
    "ftplib, imaplib) use numeric default ports, so other services are not required by default; "
    "add what your application resolves by name through the required_services / required_protocols "
    "parameters, in the files' own syntax (\"postgresql 5432/tcp\", \"icmp 1\").\n\n"
    "Fix: apt-get update && apt-get install -y --no-install-recommends netbase. The files are "
    "conffiles of netbase, so if the package is installed but a file was deleted, a plain "
    "reinstall does not restore it: use apt-get install --reinstall -o "
    "Dpkg::Options::=--force-confmiss netbase.";

constexpr std::string_view kServicesPath = "/etc/services";
constexpr std::string_view kProtocolsPath = "/etc/protocols";

// Forms of the required_services / required_protocols items, checked when the
// config loads: exactly one entry in the file's own syntax.
bool one_service_entry(std::string_view text) {
  const ServicesTable spec = parse_services(text);
  return spec.entries.size() == 1 && spec.malformed_count == 0;
}

bool one_protocol_entry(std::string_view text) {
  const ProtocolsTable spec = parse_protocols(text);
  return spec.entries.size() == 1 && spec.malformed_count == 0;
}

json malformed_json(const std::vector<MalformedLine>& lines) {
  json out = json::array();
  for (const MalformedLine& m : lines) out.push_back({{"line", m.line}, {"text", m.text}});
  return out;
}

// An empty file, or one with nothing but garbage, serves no lookup at all.
std::string no_entries(std::string_view path, std::size_t malformed) {
  return std::string(path) + " has no entries" +
         (malformed > 0 ? " (" + std::to_string(malformed) + " malformed lines)" : "");
}

struct Required {
  json found = json::array();
  std::vector<std::string> problems;  // "https 443/tcp (missing)"
};

void require_services(const ServicesTable& table, const std::vector<std::string>& wanted,
                      Required& result) {
  for (const std::string& text : wanted) {
    const ServicesTable spec = parse_services(text);
    const ServiceEntry& want = spec.entries.front();  // one entry: checked when the config loads
    const ServiceEntry* got = table.find(want.name, want.protocol);
    if (got == nullptr) {
      result.problems.push_back(text + " (missing)");
    } else if (got->port != want.port) {
      result.problems.push_back(text + " (line " + std::to_string(got->line) + " says " +
                                std::to_string(got->port) + "/" + got->protocol + ")");
    } else {
      result.found.push_back({{"entry", text}, {"file", kServicesPath}, {"line", got->line}});
    }
  }
}

void require_protocols(const ProtocolsTable& table, const std::vector<std::string>& wanted,
                       Required& result) {
  for (const std::string& text : wanted) {
    const ProtocolsTable spec = parse_protocols(text);
    const ProtocolEntry& want = spec.entries.front();
    const ProtocolEntry* got = table.find(want.name);
    if (got == nullptr) {
      result.problems.push_back(text + " (missing)");
    } else if (got->number != want.number) {
      result.problems.push_back(text + " (line " + std::to_string(got->line) + " says " +
                                std::to_string(got->number) + ")");
    } else {
      result.found.push_back({{"entry", text}, {"file", kProtocolsPath}, {"line", got->line}});
    }
  }
}

CheckOutcome run(const Context& ctx) {
  CheckOutcome outcome;
  const auto wanted_services = ctx.params.at("required_services").get<std::vector<std::string>>();
  const auto wanted_protocols = ctx.params.at("required_protocols").get<std::vector<std::string>>();

  // Is netbase installed? Only to choose the right remediation.
  bool netbase_installed = false;
  if (const auto dpkg = dpkg_database_of(ctx); dpkg->ok()) {
    const DpkgRecord* netbase = (*dpkg)->find_installed("netbase");
    netbase_installed = netbase != nullptr;
    outcome.details["netbase"] = netbase ? json{{"installed", true}, {"version", netbase->version}}
                                         : json{{"installed", false}};
  }

  std::vector<std::string> unreadable;  // missing, unreadable or without entries: fail
  Required required;
  auto services_text = ctx.fs.read_file(kServicesPath, 16u << 20);
  if (services_text) {
    const ServicesTable table = parse_services(*services_text);
    outcome.details["services"] = {{"path", kServicesPath},
                                   {"entries", table.entries.size()},
                                   {"malformed_lines", table.malformed_count},
                                   {"malformed", malformed_json(table.malformed)}};
    require_services(table, wanted_services, required);
    if (table.entries.empty())
      unreadable.push_back(no_entries(kServicesPath, table.malformed_count));
  } else {
    outcome.details["services"] = {{"path", kServicesPath},
                                   {"error", services_text.error().message}};
    unreadable.push_back(services_text.missing() ? std::string(kServicesPath) + " is missing"
                                                 : services_text.error().message);
  }
  auto protocols_text = ctx.fs.read_file(kProtocolsPath, 16u << 20);
  if (protocols_text) {
    const ProtocolsTable table = parse_protocols(*protocols_text);
    outcome.details["protocols"] = {{"path", kProtocolsPath},
                                    {"entries", table.entries.size()},
                                    {"malformed_lines", table.malformed_count},
                                    {"malformed", malformed_json(table.malformed)}};
    require_protocols(table, wanted_protocols, required);
    if (table.entries.empty()) {
      unreadable.push_back(no_entries(kProtocolsPath, table.malformed_count));
    }
  } else {
    outcome.details["protocols"] = {{"path", kProtocolsPath},
                                    {"error", protocols_text.error().message}};
    unreadable.push_back(protocols_text.missing() ? std::string(kProtocolsPath) + " is missing"
                                                  : protocols_text.error().message);
  }
  outcome.details["found"] = required.found;
  outcome.details["problems"] = required.problems;

  // The files are conffiles: a plain reinstall does not restore deleted ones.
  auto restore = [&](Finding& f) {
    if (netbase_installed) {
      f.fix_by("Restore netbase's files (conffiles: a plain reinstall keeps them deleted):")
          .run(
              "apt-get update && apt-get install -y --reinstall -o "
              "Dpkg::Options::=--force-confmiss netbase");
    } else {
      f.fix_by("Install netbase:")
          .run("apt-get update && apt-get install -y --no-install-recommends netbase");
    }
  };
  OutcomeBuilder out(std::move(outcome.details));
  if (!unreadable.empty()) {
    for (const std::string& u : unreadable) {
      restore(out.fail(u).breaks(u.starts_with(kServicesPath)
                                     ? "socket.getservbyname(\"https\") and service names fail"
                                     : "socket.getprotobyname(\"tcp\") fails"));
    }
    return std::move(out).finish(
        unreadable.size() == 1 ? unreadable.front() : "/etc/services and /etc/protocols unusable");
  }
  if (!required.problems.empty()) {
    for (const std::string& p : required.problems) {
      restore(out.warn(p).breaks("lookups of that name or number fail"));
    }
    return std::move(out).finish(std::to_string(required.problems.size()) +
                                 " required entries missing or wrong");
  }
  const json& d = out.details();
  const std::string headline =
      std::to_string(d["services"]["entries"].get<std::size_t>()) + " services and " +
      std::to_string(d["protocols"]["entries"].get<std::size_t>()) + " protocols; " +
      std::to_string(required.found.size()) + " required entries present";
  return std::move(out).finish(headline);
}

}  // namespace

CheckInfo net_services_check() {
  return CheckInfo{
      "net.services",
      "/etc/services and /etc/protocols (netbase)",
      kExplain,
      run,
      {{"required_services", R"(["http 80/tcp", "https 443/tcp"])",
        "entries /etc/services must have",
        ParamType::string_list("name port/protocol", one_service_entry)},
       {"required_protocols", R"(["tcp 6", "udp 17"])", "entries /etc/protocols must have",
        ParamType::string_list("name number", one_protocol_entry)}}};
}

}  // namespace pycheck
