// apt.security-updates: installed Debian/Ubuntu packages for which the
// image's own security repositories offer a newer version.
//
// Offline it reads the lists `apt-get update` left in /var/lib/apt/lists;
// online (--online) it downloads InRelease and the Packages indexes itself,
// verifying each index against InRelease's SHA256 list. InRelease's OpenPGP
// signature is NOT verified (see apt_release.h): the details say so.
#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/core/check.h"
#include "agent/core/findings.h"
#include "agent/core/metric_details.h"
#include "agent/core/text.h"
#include "agent/http/http_client.h"
#include "checks/check_table.h"
#include "checks/facts/dpkg_database.h"
#include "checks/formats/apt_list_files.h"
#include "checks/formats/apt_packages.h"
#include "checks/formats/apt_release.h"
#include "checks/formats/apt_sources.h"
#include "checks/formats/debian_version.h"
#include "checks/formats/decompress.h"
#include "checks/online/apt_archive_fetch.h"

namespace pycheck {
namespace {

constexpr std::string_view kListsDir = "/var/lib/apt/lists";
constexpr std::size_t kMaxIndexBytes = std::size_t{256} << 20;
constexpr std::size_t kMaxShown = 5;

bool is_candidate_suite(std::string_view suite) {
  return suite.ends_with("-security") || suite.ends_with("/updates");
}

// The container's deb entries, from sources.list and sources.list.d/*.list|*.sources.
Result<std::vector<AptSourceEntry>> read_sources(const RootFs& fs, json& problems) {
  std::vector<std::string> files;
  auto main_list = fs.stat("/etc/apt/sources.list");
  if (main_list.timed_out()) return main_list.error();
  if (main_list) files.push_back("/etc/apt/sources.list");
  auto dir = fs.list_dir("/etc/apt/sources.list.d");
  if (dir) {
    for (const DirEntry& e : *dir) {
      if (e.name.ends_with(".list") || e.name.ends_with(".sources")) {
        files.push_back("/etc/apt/sources.list.d/" + e.name);
      }
    }
  } else if (!dir.missing()) {
    return dir.error();
  }
  std::vector<AptSourceEntry> entries;
  for (const std::string& file : files) {
    auto text = fs.read_file(file, 1u << 20);
    if (!text) return Error{file + ": " + text.error().message, text.error().errno_value};
    AptSources parsed = parse_apt_sources_file(*text, file);
    for (const auto& p : parsed.problems) {
      problems.push_back(p.origin + ":" + std::to_string(p.line) + ": " + p.message);
    }
    for (auto& entry : parsed.entries) {
      if (entry.enabled && entry.type == AptSourceType::deb) entries.push_back(std::move(entry));
    }
  }
  return entries;
}

// Architectures dpkg installs for: /var/lib/dpkg/arch (native first, then
// foreign) when present, else those named by installed packages.
Result<std::vector<std::string>> judged_architectures(const RootFs& fs, const DpkgDatabase& db) {
  std::vector<std::string> arches;
  auto text = fs.read_file("/var/lib/dpkg/arch", 4096);
  if (text.timed_out()) return text.error();
  for (std::string_view raw : text ? split_lines(*text) : std::vector<std::string_view>{}) {
    std::string line(raw);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
    if (!line.empty() && std::find(arches.begin(), arches.end(), line) == arches.end()) {
      arches.push_back(line);
    }
  }
  if (!arches.empty()) return arches;
  for (const DpkgRecord& r : db.records()) {
    if (!is_installed(r) || r.architecture.empty() || r.architecture == "all") continue;
    if (std::find(arches.begin(), arches.end(), r.architecture) == arches.end()) {
      arches.push_back(r.architecture);
    }
  }
  return arches;
}

struct LoadedIndex {
  std::string suite;
  AptPackagesIndex index;
};

struct Scan {
  std::vector<LoadedIndex> indexes;
  json sources = json::array();
  std::vector<std::string> stale;          // Valid-Until passed
  std::vector<std::string> without_lists;  // candidate sources with no local lists
  std::optional<Error> error;              // the first failure; the scan stops there
};

json release_json(const AptRelease& r) {
  return {{"origin", r.origin},         {"label", r.label},    {"suite", r.suite},
          {"codename", r.codename},     {"date", r.date_text}, {"valid_until", r.valid_until_text},
          {"signature_verified", false}};
}

void note_validity(const AptRelease& r, const std::string& where, const Context& ctx, Scan& scan) {
  if (r.valid_until &&
      *r.valid_until < std::chrono::time_point_cast<std::chrono::seconds>(ctx.now)) {
    scan.stale.push_back(where + " (Valid-Until " + r.valid_until_text + ")");
  }
}

std::vector<std::string> entry_arches(const AptSourceEntry& entry, const AptRelease& release,
                                      const std::vector<std::string>& judged) {
  std::vector<std::string> out;
  for (const std::string& a : entry.architectures.empty() ? judged : entry.architectures) {
    if (release.architectures.empty() ||
        std::find(release.architectures.begin(), release.architectures.end(), a) !=
            release.architectures.end()) {
      out.push_back(a);
    }
  }
  return out;
}

// Offline: the lists apt left behind for one candidate source.
void scan_lists(const Context& ctx, const AptSourceEntry& entry,
                const std::vector<std::string>& judged, Scan& scan) {
  std::string release_path;
  Result<std::string> text = Error{"", 2};
  for (std::string_view name : {"InRelease", "Release"}) {
    release_path = path_join(kListsDir, release_list_file(entry.uri, entry.suite, name));
    text = ctx.fs.read_file(release_path);
    if (!text.missing()) break;
  }
  if (text.missing()) {
    scan.without_lists.push_back(entry.uri + " " + entry.suite);
    return;
  }
  if (!text) return void(scan.error = text.error());
  auto release = parse_apt_release(*text);
  if (!release) return void(scan.error = Error{release_path + ": " + release.error().message});
  json source = {{"uri", entry.uri},
                 {"suite", entry.suite},
                 {"file", entry.origin},
                 {"from", "lists"},
                 {"release_file", release_path},
                 {"release", release_json(*release)},
                 {"indexes", json::array()}};
  source["security"] = is_security_suite(*release);
  if (!source["security"].get<bool>()) return void(scan.sources.push_back(std::move(source)));
  note_validity(*release, release_path, ctx, scan);
  std::string missing;  // the first component/arch without its Packages list
  for (const std::string& component : entry.components) {
    for (const std::string& arch : entry_arches(entry, *release, judged)) {
      const std::string dir = component + "/binary-" + arch + "/";
      Result<std::string> raw = Error{"", 2};
      ListFileCandidate found;
      for (const ListFileCandidate& c :
           packages_list_candidates(entry.uri, entry.suite, component, arch)) {
        raw = ctx.fs.read_file(path_join(kListsDir, c.name), kMaxIndexBytes);
        found = c;
        if (!raw.missing()) break;
      }
      const std::string list_path = path_join(kListsDir, found.name);
      if (raw.missing()) {
        if (missing.empty()) missing = dir;
        continue;
      }
      if (!raw) return void(scan.error = raw.error());
      auto plain = decompress(*raw, found.compression, kMaxIndexBytes);
      if (!plain) return void(scan.error = Error{list_path + ": " + plain.error().message});
      // apt may recompress lists (GzipIndexes: lz4), so the file as stored
      // need not match the Release entry for its suffix; the decompressed
      // content is always the index whose plain "Packages" hash Release lists.
      std::string verified = "unverified (Release lists no hash for " + dir + "Packages)";
      const ReleaseFile* listed = release->find_file(dir + "Packages");
      const ReleaseFile* listed_as_stored =
          release->find_file(dir + "Packages" + std::string(file_suffix(found.compression)));
      if (listed) {
        if (sha256_hex(*plain) != listed->sha256 || plain->size() != listed->size) {
          scan.error =
              Error{list_path + ": content does not match the SHA256 of " + dir + "Packages in " +
                    release_path + " (stale or corrupt list: run apt-get update)"};
          return;
        }
        verified = "sha256";
      } else if (listed_as_stored && found.compression != Compression::none) {
        if (sha256_hex(*raw) != listed_as_stored->sha256) {
          scan.error = Error{list_path + ": does not match its SHA256 in " + release_path};
          return;
        }
        verified = "sha256";
      }
      LoadedIndex loaded{entry.suite, parse_apt_packages(*plain)};
      source["indexes"].push_back({{"path", list_path},
                                   {"verified", verified},
                                   {"packages", loaded.index.packages().size()}});
      scan.indexes.push_back(std::move(loaded));
    }
  }
  // No index but the Release kept: apt 3.0's `apt-get dist-clean` (python:*-trixie): no lists.
  if (!missing.empty() && source["indexes"].empty()) {
    return scan.without_lists.push_back(entry.uri + " " + entry.suite + " (Release file only)");
  }
  if (!missing.empty()) {
    return void(scan.error = Error{"no Packages list for " + missing + " of " + entry.uri + " " +
                                   entry.suite + " in " + std::string(kListsDir) +
                                   " although its Release is there"});
  }
  scan.sources.push_back(std::move(source));
}

// Online: InRelease and the Packages indexes, downloaded and verified.
void scan_online(const Context& ctx, const AptSourceEntry& entry,
                 const std::vector<std::string>& judged, Scan& scan) {
  auto fetched = fetch_release(*ctx.http, entry.uri, entry.suite);
  if (!fetched) return void(scan.error = fetched.error());
  const AptRelease& release = fetched->release;
  json source = {{"uri", redact_url(entry.uri)},
                 {"suite", entry.suite},
                 {"file", entry.origin},
                 {"from", "online"},
                 {"release_file", redact_url(fetched->url)},
                 {"release", release_json(release)},
                 {"indexes", json::array()}};
  source["security"] = is_security_suite(release);
  if (!source["security"].get<bool>()) return void(scan.sources.push_back(std::move(source)));
  note_validity(release, redact_url(fetched->url), ctx, scan);
  for (const std::string& component : entry.components) {
    for (const std::string& arch : entry_arches(entry, release, judged)) {
      auto index = fetch_packages_index(*ctx.http, *fetched, component, arch, kMaxIndexBytes);
      if (!index) return void(scan.error = index.error());
      LoadedIndex loaded{entry.suite, parse_apt_packages(index->text)};
      source["indexes"].push_back({{"url", redact_url(index->url)},
                                   {"path", index->path},
                                   {"verified", "sha256"},
                                   {"packages", loaded.index.packages().size()}});
      scan.indexes.push_back(std::move(loaded));
    }
  }
  scan.sources.push_back(std::move(source));
}

// An outcome whose headline is its one finding (or that has none: pass, skip).
CheckOutcome finish(CheckOutcome out, CheckStatus status, std::string summary, std::string fix = {},
                    std::string command = {}) {
  out.status = status;
  if (!fix.empty() || !command.empty()) {
    Finding f{status, summary, "", "", std::move(fix), {}};
    if (!command.empty()) f.run(std::move(command));
    out.findings.push_back(std::move(f));
  }
  out.summary = std::move(summary);
  return out;
}

// The sources worth scanning: security suites (by name) of non-flat repositories.
std::vector<const AptSourceEntry*> security_candidates(const std::vector<AptSourceEntry>& entries) {
  std::vector<const AptSourceEntry*> candidates;
  for (const auto& e : entries) {
    if (!e.flat() && is_candidate_suite(e.suite)) candidates.push_back(&e);
  }
  return candidates;
}

// Every candidate's indexes, from the lists or (online) the archive, until the first error.
Scan scan_sources(const Context& ctx, const std::vector<const AptSourceEntry*>& candidates,
                  const std::vector<std::string>& arches, json& details) {
  const bool online = ctx.online && ctx.http != nullptr;
  details["mode"] = online ? "online" : "lists";
  Scan scan;
  for (const AptSourceEntry* e : candidates) {
    if (online) {
      scan_online(ctx, *e, arches, scan);
    } else {
      scan_lists(ctx, *e, arches, scan);
    }
    if (scan.error) break;
  }
  details["sources"] = scan.sources;
  return scan;
}

// The outcome when the scan cannot tell what is pending; nullopt when it can.
std::optional<CheckOutcome> unknown_pending(CheckOutcome& out, const Scan& scan,
                                            std::size_t candidates) {
  if (scan.error && scan.error->timed_out()) return timed_out(*scan.error, std::move(out.details));
  if (scan.error) {
    return finish(std::move(out), CheckStatus::error,
                  "could not read a security index: " + scan.error->message,
                  "Fix the source or the network, or run apt-get update, and run again.");
  }
  if (!scan.without_lists.empty()) {
    out.details["without_lists"] = scan.without_lists;
    const bool none = scan.without_lists.size() == candidates;
    return finish(std::move(out), none ? CheckStatus::skip : CheckStatus::error,
                  std::string(none ? "no" : "missing") + " apt lists for " +
                      scan.without_lists.front() +
                      ": pending updates unknown (--online fetches them)",
                  none ? "" : "Run pycheck with --online (or apt-get update in the image).");
  }
  if (scan.indexes.empty()) {
    return finish(std::move(out), CheckStatus::skip,
                  "no source among the candidates is a security repository by its Release file");
  }
  return std::nullopt;
}

struct Pending {
  json updates = json::array();    // one object per package with a newer security version
  std::vector<std::string> names;  // "package:arch", in the same order
};

// Installed packages of the judged architectures that a security index has a newer version of.
Pending pending_updates(const DpkgDatabase& db, const std::vector<std::string>& arches,
                        const Scan& scan) {
  Pending pending;
  for (const DpkgRecord& r : db.records()) {
    if (!is_installed(r) || r.version.empty()) continue;
    if (r.architecture != "all" &&
        std::find(arches.begin(), arches.end(), r.architecture) == arches.end()) {
      continue;
    }
    const AptPackage* best = nullptr;
    const std::string* best_suite = nullptr;
    for (const LoadedIndex& li : scan.indexes) {
      const AptPackage* c = li.index.newest(r.package, r.architecture);
      if (c == nullptr) continue;
      if (best == nullptr || compare_debian_versions(c->version, best->version).value_or(0) > 0) {
        best = c;
        best_suite = &li.suite;
      }
    }
    if (best == nullptr) continue;
    auto cmp = compare_debian_versions(best->version, r.version);
    if (!cmp || *cmp <= 0) continue;
    pending.updates.push_back({{"package", r.package},
                               {"architecture", r.architecture},
                               {"installed", r.version},
                               {"candidate", best->version},
                               {"source", best->effective_source_name()},
                               {"suite", *best_suite}});
    pending.names.push_back(r.package + ":" + r.architecture);
  }
  return pending;
}

CheckOutcome judge(CheckOutcome out, const Pending& pending, const Scan& scan, const json& params) {
  const std::vector<std::string>& names = pending.names;
  out.details[metric_details::kPendingCount] = pending.updates.size();
  out.details["pending"] = pending.updates;
  if (!scan.stale.empty()) out.details["stale_release"] = scan.stale;
  const std::string stale_note =
      scan.stale.empty() ? "" : "; Release past its Valid-Until: " + scan.stale.front();
  if (names.empty()) {
    if (!scan.stale.empty()) {
      return finish(std::move(out), CheckStatus::warn,
                    "no pending security updates, but the lists may be outdated" + stale_note,
                    "Run pycheck --online (or apt-get update in the image) to see current "
                    "security updates.");
    }
    return finish(std::move(out), CheckStatus::pass, "no pending security updates");
  }
  const std::vector<std::string> first(names.begin(),
                                       names.begin() + std::min(names.size(), kMaxShown));
  const std::string shown = join(first, ", ") + (names.size() > kMaxShown ? ", ..." : "");
  const auto fail_above = params.at("fail_above").get<long long>();
  const bool fail = params.at("pending_is").get<std::string>() == "fail" ||
                    (fail_above >= 0 && static_cast<long long>(names.size()) > fail_above);
  CheckOutcome done =
      finish(std::move(out), fail ? CheckStatus::fail : CheckStatus::warn,
             std::to_string(names.size()) + " pending security update" +
                 (names.size() == 1 ? "" : "s") + ": " + shown + stale_note,
             "Rebuild on a freshly pulled base image, or upgrade in the Dockerfile:",
             "apt-get update && apt-get upgrade -y");
  done.findings.front().breaks("vulnerabilities fixed in Debian stay open in this container");
  return done;
}

CheckOutcome run(const Context& ctx) {
  CheckOutcome out;
  out.details["signature_verified"] = false;
  out.details["signature_note"] =
      "InRelease's OpenPGP signature is not verified by pycheck; indexes are checked against its "
      "SHA256 list";

  const auto shared_db = dpkg_database_of(ctx);
  const Result<DpkgDatabase>& db = *shared_db;
  if (db.missing()) {
    return finish(std::move(out), CheckStatus::skip, "no dpkg database: not a Debian-based system");
  }
  if (db.timed_out()) return timed_out(db.error(), std::move(out.details));
  if (!db) return finish(std::move(out), CheckStatus::error, db.error().message);
  const auto arches = judged_architectures(ctx.fs, *db);
  if (!arches) return timed_out(arches.error(), std::move(out.details));
  out.details["architectures"] = *arches;

  json source_problems = json::array();
  auto entries = read_sources(ctx.fs, source_problems);
  if (entries.timed_out()) return timed_out(entries.error(), std::move(out.details));
  if (!entries) return finish(std::move(out), CheckStatus::error, entries.error().message);
  if (!source_problems.empty()) out.details["source_problems"] = source_problems;
  const std::vector<const AptSourceEntry*> candidates = security_candidates(*entries);
  if (candidates.empty()) {
    return finish(std::move(out), CheckStatus::skip,
                  "no security suite (-security or /updates) among the apt sources");
  }

  const Scan scan = scan_sources(ctx, candidates, *arches, out.details);
  if (auto unknown = unknown_pending(out, scan, candidates.size())) return std::move(*unknown);
  return judge(std::move(out), pending_updates(*db, *arches, scan), scan, ctx.params);
}

}  // namespace

CheckInfo apt_security_updates_check() {
  return {
      "apt.security-updates",
      "Pending apt security updates",
      "Official python images are rebuilt when their Debian base changes, roughly monthly; "
      "security fixes land in the -security suite in between, so an image drifts behind from the "
      "day it is built, and an image that is never rebuilt keeps every fixed vulnerability.\n\n"
      "pycheck reads the installed packages from the dpkg database, finds the security suites "
      "in the container's own apt sources, and compares each installed package:architecture with "
      "the newest version in those suites' Packages indexes (dpkg's version order). Offline it "
      "uses the lists in /var/lib/apt/lists (checked against the Release file's SHA256 of the "
      "uncompressed index); with --online it downloads InRelease and the indexes (by-hash when "
      "offered) and checks size and SHA-256. InRelease's OpenPGP signature is not verified. An "
      "index that cannot be read is an error, never \"0 pending\".\n\n"
      "Fix: rebuild on a freshly pulled base image, or add `apt-get update && apt-get upgrade -y` "
      "to the Dockerfile.",
      &run,
      {{"fail_above", "-1", "fail when more than this many updates are pending (-1: never)",
        ParamType::integer(-1, std::numeric_limits<long long>::max())},
       {"pending_is", "\"warn\"", "status when updates are pending",
        ParamType::one_of({"warn", "fail"})}},
  };
}

}  // namespace pycheck
