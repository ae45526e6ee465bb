// apt.security-updates: installed Debian/Ubuntu packages for which the
// image's own security repositories offer a newer version.
//
// Offline it reads the lists `apt-get update` left in /var/lib/apt/lists;
// online (--online) it downloads InRelease and the Packages indexes itself.
// Either way a Release is used only once its OpenPGP signature verifies with
// the keys apt would use for that source (apt_keyrings.h, apt_release_trust.h),
// and each index only when it matches the Release's SHA256 list.
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
#include "checks/facts/apt_keyrings.h"
#include "checks/facts/apt_lists.h"
#include "checks/facts/apt_source_list.h"
#include "checks/facts/dpkg_database.h"
#include "checks/formats/apt_list_files.h"
#include "checks/formats/apt_packages.h"
#include "checks/formats/apt_release.h"
#include "checks/formats/apt_release_trust.h"
#include "checks/formats/apt_sources.h"
#include "checks/formats/debian_version.h"
#include "checks/formats/decompress.h"
#include "checks/online/apt_archive_fetch.h"

namespace pycheck {
namespace {

constexpr std::size_t kMaxIndexBytes = std::size_t{256} << 20;
constexpr std::size_t kMaxShown = 5;

bool is_candidate_suite(std::string_view suite) {
  return suite.ends_with("-security") || suite.ends_with("/updates");
}

struct LoadedIndex {
  std::string suite;
  AptPackagesIndex index;
};

// A source apt would not use: its signature or dates refused, or no keys.
struct Refusal {
  std::string file;  // "the InRelease of URI SUITE"
  std::string cause;
  std::string fix;
};

struct Scan {
  std::vector<LoadedIndex> indexes;
  json sources = json::array();
  std::vector<std::string> stale;          // Valid-Until passed
  std::vector<std::string> without_lists;  // candidate sources with no local lists
  std::vector<std::string> unverified;     // trusted=yes sources: apt checks no signature
  std::optional<Error> error;              // the first failure; the scan stops there
  std::optional<Refusal> refused;          // idem, for a Release apt would refuse
  bool stopped() const { return error || refused; }
};

// "the InRelease of URI SUITE", as a person would name it.
std::string refused_file(const AptSourceEntry& entry, const ReleaseFiles& files) {
  return std::string(files.inrelease ? "the InRelease" : "the Release") + " of " +
         redact_url(entry.uri) + " " + entry.suite;
}

// The source's Release as apt would use it, verified with the root's keys;
// nullopt (with scan.refused or scan.error set) when apt would not use it.
std::optional<AptRelease> trusted_release(const Context& ctx, const AptSourceEntry& entry,
                                          const ReleaseFiles& files, bool download, Scan& scan,
                                          json& source) {
  const auto shared_db = dpkg_database_of(ctx);
  auto keys = apt_keys_for(ctx.fs, **shared_db, entry);
  if (keys.timed_out()) return void(scan.error = keys.error()), std::nullopt;
  if (!keys) {
    scan.refused = Refusal{refused_file(entry, files), keys.error().message,
                           "Install the keyring it names, or correct Signed-By in " +
                               entry.origin + "."};
    return std::nullopt;
  }
  const auto now = std::chrono::time_point_cast<std::chrono::seconds>(ctx.now);
  ReleaseTrust trust = judge_release(entry, keys->keys, files, now, download);
  source["signature"] = signature_details(trust, keys->keys, keys->rule);
  if (!trust.release) {
    scan.refused = Refusal{refused_file(entry, files), trust.refusal, trust.fix};
    scan.sources.push_back(source);
    return std::nullopt;
  }
  source["release"] = release_details(*trust.release);
  source["release"]["signature_verified"] = trust.verified;
  if (trust.trusted_option) {
    scan.unverified.push_back(entry.uri + " " + entry.suite + " (" + entry.origin + ")");
  }
  if (trust.expired) {
    scan.stale.push_back(files.name + " (Valid-Until " + trust.release->valid_until_text + ")");
  }
  return std::move(trust.release);
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

// Offline: the lists apt left behind for one candidate source (InRelease, or
// Release with Release.gpg), verified as apt verified them when it fetched them.
void scan_lists(const Context& ctx, const AptSourceEntry& entry,
                const std::vector<std::string>& judged, Scan& scan) {
  auto list_path = [&](std::string_view name) {
    return path_join(kAptListsDir, release_list_file(entry.uri, entry.suite, name));
  };
  std::string release_path = list_path("InRelease");
  auto inrelease = read_apt_list(ctx.fs, release_path);
  Result<std::optional<std::string>> plain = std::optional<std::string>{}, gpg = plain;
  if (inrelease && !*inrelease) {
    release_path = list_path("Release");
    plain = read_apt_list(ctx.fs, release_path);
    if (plain && *plain) gpg = read_apt_list(ctx.fs, list_path("Release.gpg"));
  }
  for (const auto* read : {&inrelease, &plain, &gpg}) {
    if (!*read) return void(scan.error = read->error());
  }
  if (!*inrelease && !*plain) return scan.without_lists.push_back(entry.uri + " " + entry.suite);
  // The Release kept but no index (apt 3.0's `apt-get dist-clean`, the last step
  // of every python:*-trixie image): nothing to count, so nothing to verify.
  auto any_list = has_packages_list(ctx.fs, entry, judged);
  if (!any_list) return void(scan.error = any_list.error());
  if (!*any_list) {
    return scan.without_lists.push_back(entry.uri + " " + entry.suite + " (Release file only)");
  }
  ReleaseFiles files{release_path, {}, {}, {}};
  if (*inrelease) files.inrelease = **inrelease;
  if (*plain) files.release = **plain;
  if (*gpg) files.release_gpg = **gpg;
  json source = {{"uri", entry.uri},
                 {"suite", entry.suite},
                 {"file", entry.origin},
                 {"from", "lists"},
                 {"release_file", release_path},
                 {"indexes", json::array()}};
  const auto release = trusted_release(ctx, entry, files, false, scan, source);
  if (!release) return;
  source["security"] = is_security_suite(*release);
  if (!source["security"].get<bool>()) return void(scan.sources.push_back(std::move(source)));
  std::string missing;  // the first component/arch without its Packages list
  for (const std::string& component : entry.components) {
    for (const std::string& arch : entry_arches(entry, *release, judged)) {
      auto list = read_packages_list(ctx.fs, entry, *release, release_path, component, arch,
                                     kMaxIndexBytes);
      if (!list) return void(scan.error = list.error());
      if (!*list) {
        if (missing.empty()) missing = component + "/binary-" + arch + "/";
        continue;
      }
      LoadedIndex loaded{entry.suite, parse_apt_packages((*list)->text)};
      source["indexes"].push_back({{"path", (*list)->path},
                                   {"verified", (*list)->verified},
                                   {"packages", loaded.index.packages().size()}});
      scan.indexes.push_back(std::move(loaded));
    }
  }
  if (!missing.empty()) {  // some lists there, others gone
    return void(scan.error = Error{"no Packages list for " + missing + " of " + entry.uri + " " +
                                   entry.suite + " in " + std::string(kAptListsDir) +
                                   " although its Release is there"});
  }
  scan.sources.push_back(std::move(source));
}

// Online: InRelease and the Packages indexes, downloaded and verified.
void scan_online(const Context& ctx, const AptSourceEntry& entry,
                 const std::vector<std::string>& judged, Scan& scan) {
  auto fetched = fetch_release(*ctx.http, entry.uri, entry.suite);
  if (!fetched) return void(scan.error = fetched.error());
  json source = {{"uri", redact_url(entry.uri)},
                 {"suite", entry.suite},
                 {"file", entry.origin},
                 {"from", "online"},
                 {"release_file", redact_url(fetched->url)},
                 {"indexes", json::array()}};
  const ReleaseFiles files{redact_url(fetched->url), fetched->body, {}, {}};
  const auto release = trusted_release(ctx, entry, files, true, scan, source);
  if (!release) return;
  source["security"] = is_security_suite(*release);
  if (!source["security"].get<bool>()) return void(scan.sources.push_back(std::move(source)));
  for (const std::string& component : entry.components) {
    for (const std::string& arch : entry_arches(entry, *release, judged)) {
      auto index = fetch_packages_index(*ctx.http, fetched->url, *release, component, arch,
                                        kMaxIndexBytes);
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
    if (scan.stopped()) break;
  }
  details["sources"] = scan.sources;
  bool verified = !scan.sources.empty();
  for (const json& source : scan.sources) {
    verified = verified && source.contains("signature") && source["signature"]["verified"] == true;
  }
  details["signature_verified"] = verified;
  return scan;
}

// The outcome when the scan cannot tell what is pending; nullopt when it can.
std::optional<CheckOutcome> unknown_pending(CheckOutcome& out, const Scan& scan,
                                            std::size_t candidates) {
  if (scan.error && scan.error->timed_out()) return timed_out(*scan.error, std::move(out.details));
  if (scan.refused) {
    return finish(std::move(out), CheckStatus::error,
                  "security updates unknown: apt would refuse " + scan.refused->file + ": " +
                      scan.refused->cause,
                  scan.refused->fix);
  }
  if (scan.error) {
    return finish(std::move(out), CheckStatus::error,
                  "could not read a security index: " + scan.error->message,
                  "Fix the source or the network, or run apt-get update, and run again.");
  }
  if (!scan.unverified.empty()) {  // apt would take anything: no count is worth giving
    out.details["unverified"] = scan.unverified;
    return finish(std::move(out), CheckStatus::warn,
                  "security updates unverified: apt trusts " + scan.unverified.front() +
                      " without checking its signature (trusted=yes)",
                  "Remove trusted=yes from the source, so that apt verifies what it installs; "
                  "pycheck then counts its updates.");
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

  const auto shared_db = dpkg_database_of(ctx);
  const Result<DpkgDatabase>& db = *shared_db;
  if (db.missing()) {
    return finish(std::move(out), CheckStatus::skip, "no dpkg database: not a Debian-based system");
  }
  if (db.timed_out()) return timed_out(db.error(), std::move(out.details));
  if (!db) return finish(std::move(out), CheckStatus::error, db.error().message);
  const auto arches = dpkg_architectures(ctx.fs, *db);
  if (!arches) return timed_out(arches.error(), std::move(out.details));
  out.details["architectures"] = *arches;

  json source_problems = json::array();
  auto entries = read_apt_deb_sources(ctx.fs, source_problems);
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
      "uses the lists in /var/lib/apt/lists (InRelease, or Release with Release.gpg); with "
      "--online it downloads InRelease and the indexes (by-hash when offered).\n\n"
      "Nothing is believed unverified. The Release file's OpenPGP signature is verified as apt "
      "does, with the keys apt would use for that source: an inline Signed-By key, the Signed-By "
      "keyring files (its fingerprints restrict the signers), or else /etc/apt/trusted.gpg.d "
      "(and /etc/apt/trusted.gpg under apt 2.x). pycheck accepts only what both apt 2.6 (gpgv) "
      "and apt 3.0 (sqv) accept: v4 RSA keys of 2048 bits or more or Ed25519, SHA-256 or "
      "stronger, keys and subkeys neither expired nor revoked, no bad signature. Only the "
      "verified text is read. Online, apt's date rules apply too: a Release past its "
      "Valid-Until, or dated in the future, is refused (check-valid-until and check-date "
      "honoured); offline, an expired Release only warns that the lists may be outdated. Each "
      "index must match the Release's SHA-256 and size. A refused signature or an index that "
      "cannot be read is an error, never \"0 pending\"; a source marked trusted=yes is reported "
      "as unverified, with no count.\n\n"
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
