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

// Is netbase installed? Only to choose the right remediation; noted in `details`.
Result<bool> netbase_installed(const Context& ctx, json& details) {
  const auto dpkg = dpkg_database_of(ctx);
  if (dpkg->timed_out()) return dpkg->error();
  if (!dpkg->ok()) return false;
  const DpkgRecord* netbase = (*dpkg)->find_installed("netbase");
  details["netbase"] = netbase ? json{{"installed", true}, {"version", netbase->version}}
                               : json{{"installed", false}};
  return netbase != nullptr;
}

// Reads and parses one of the files and hands its table to `require`: the
// file's details. Why it serves no lookup at all (missing, unreadable, no
// entries) goes to `unusable`; a read the deadline stopped is the Error.
template <typename Parse, typename Require>
Result<json> load_table(const RootFs& fs, std::string_view path, Parse parse, Require require,
                        std::vector<std::string>& unusable) {
  auto text = fs.read_file(path, 16u << 20);
  if (text.timed_out()) return text.error();  // not a missing file: nothing is known
  if (!text) {
    unusable.push_back(text.missing() ? std::string(path) + " is missing" : text.error().message);
    return json{{"path", path}, {"error", text.error().message}};
  }
  const auto table = parse(*text);
  require(table);
  if (table.entries.empty()) unusable.push_back(no_entries(path, table.malformed_count));
  return json{{"path", path},
              {"entries", table.entries.size()},
              {"malformed_lines", table.malformed_count},
              {"malformed", malformed_json(table.malformed)}};
}

// The files are conffiles: a plain reinstall does not restore deleted ones.
void restore_netbase(Finding& f, bool netbase_installed) {
  if (netbase_installed) {
    f.fix_by("Restore netbase's files (conffiles: a plain reinstall keeps them deleted):")
        .run(
            "apt-get update && apt-get install -y --reinstall -o "
            "Dpkg::Options::=--force-confmiss netbase");
  } else {
    f.fix_by("Install netbase:")
        .run("apt-get update && apt-get install -y --no-install-recommends netbase");
  }
}

CheckOutcome judge(OutcomeBuilder out, const std::vector<std::string>& unusable,
                   const Required& required, bool netbase_installed) {
  if (!unusable.empty()) {
    for (const std::string& u : unusable) {
      restore_netbase(
          out.fail(u).breaks(u.starts_with(kServicesPath)
                                 ? "socket.getservbyname(\"https\") and service names fail"
                                 : "socket.getprotobyname(\"tcp\") fails"),
          netbase_installed);
    }
    return std::move(out).finish(
        unusable.size() == 1 ? unusable.front() : "/etc/services and /etc/protocols unusable");
  }
  if (!required.problems.empty()) {
    for (const std::string& p : required.problems) {
      restore_netbase(out.warn(p).breaks("lookups of that name or number fail"), netbase_installed);
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

CheckOutcome run(const Context& ctx) {
  const auto wanted_services = ctx.params.at("required_services").get<std::vector<std::string>>();
  const auto wanted_protocols = ctx.params.at("required_protocols").get<std::vector<std::string>>();
  json details = json::object();
  const Result<bool> netbase = netbase_installed(ctx, details);
  if (!netbase) return timed_out(netbase.error());

  std::vector<std::string> unusable;  // missing, unreadable or without entries: fail
  Required required;
  const auto services = load_table(
      ctx.fs, kServicesPath, parse_services,
      [&](const ServicesTable& t) { require_services(t, wanted_services, required); }, unusable);
  if (!services) return timed_out(services.error());
  details["services"] = *services;
  const auto protocols = load_table(
      ctx.fs, kProtocolsPath, parse_protocols,
      [&](const ProtocolsTable& t) { require_protocols(t, wanted_protocols, required); }, unusable);
  if (!protocols) return timed_out(protocols.error());
  details["protocols"] = *protocols;
  details["found"] = required.found;
  details["problems"] = required.problems;
  return judge(OutcomeBuilder(std::move(details)), unusable, required, *netbase);
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
