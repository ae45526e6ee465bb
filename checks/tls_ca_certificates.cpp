// tls.ca-certificates: the CA certificates OpenSSL-based clients (Python's
// ssl, urllib, http.client) will trust, found the way OpenSSL finds them.
#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/findings.h"
#include "agent/core/text.h"
#include "checks/check_table.h"
#include "checks/facts/dpkg_database.h"
#include "checks/facts/openssl_ca_paths.h"
#include "checks/formats/pem_bundle.h"

namespace pycheck {
namespace {

constexpr std::string_view kExplain =
    "The official python image installs Debian's ca-certificates package (Alpine: apk "
    "ca-certificates) so that Python's ssl module, urllib and http.client can verify HTTPS "
    "servers. They use OpenSSL's default verify paths: the file named by SSL_CERT_FILE and the "
    "hashed directory named by SSL_CERT_DIR when those are set (instead of the defaults, not in "
    "addition), else the compiled-in bundle (on Debian /usr/lib/ssl/cert.pem, a link to "
    "/etc/ssl/certs/ca-certificates.crt) and directory (/usr/lib/ssl/certs -> /etc/ssl/certs). pip "
    "and requests use certifi's own bundle first, so pip can keep working while urllib fails with "
    "CERTIFICATE_VERIFY_FAILED.\n\n"
    "pycheck takes SSL_CERT_FILE / SSL_CERT_DIR from the judged environment when set (a variable "
    "pointing at nothing fails), else the first distro bundle that exists (Debian/Ubuntu, "
    "RHEL/Fedora, openSUSE, Alpine locations) and the directories /etc/ssl/certs and "
    "/etc/pki/tls/certs. It parses every PEM certificate of the bundle, counts unique "
    "certificates by SHA-256 and lists expired ones against the current time. A default hashed "
    "directory (c_rehash layout, NNNNNNNN.N links) is only followed when the bundle parsed and "
    "holds a certificate valid now, since update-ca-certificates writes both from one list: "
    "each link must reach a regular file, and together no more files than the bundle has "
    "certificates. Otherwise, and always for SSL_CERT_DIR, every certificate behind the links "
    "is parsed and counted too. Expired roots are normal in older "
    "bundles and OpenSSL just does not use them, so they pass unless `expired_is` is \"warn\". A "
    "certificate block that is not valid base64/DER, or never ends, fails the check: OpenSSL 3 "
    "then loads no certificate at all from that file (one bad block silently empties the bundle). "
    "Certificates that mbedTLS cannot fully parse (unsupported algorithms) but whose structure is "
    "sound are counted and noted, not treated as garbage. Broken links or bad files in a hashed "
    "directory only affect the CA they name, so they are reported in details without changing the "
    "status; an SSL_CERT_DIR directory without any hash links warns (OpenSSL looks certificates up "
    "by hash name only, so plain PEM files there are never found).\n\n"
    "On Debian the check warns when a bundle is present but the ca-certificates package is not "
    "installed (per the dpkg database): someone copied a file in, and it will never be updated. "
    "Details also say whether OpenSSL's /usr/lib/ssl/cert.pem link resolves.\n\n"
    "Fix: apt-get install ca-certificates (it runs update-ca-certificates), or run "
    "update-ca-certificates to regenerate a damaged bundle; point SSL_CERT_FILE / SSL_CERT_DIR at "
    "existing paths or unset them.";

constexpr std::size_t kMaxHashLinks = 10000;
constexpr std::size_t kMaxListed = 50;

constexpr std::string_view kInstallRemedy =
    "Install ca-certificates (Alpine: apk add ca-certificates); if it is installed, "
    "update-ca-certificates regenerates the bundle:";
constexpr std::string_view kInstallCommand =
    "apt-get update && apt-get install -y --no-install-recommends ca-certificates && "
    "update-ca-certificates";
constexpr std::string_view kBreaks = "https fails to verify servers: pip, requests, urllib, curl";

struct TrustStore {
  struct Entry {
    Certificate cert;    // described (names, fingerprint) only when listed in the report
    std::string source;  // file it was first found in
  };
  // Unique certificates, keyed by their DER bytes (equal bytes, equal
  // fingerprint): each key views the `der` its own entry shares, so it lives
  // as long as the entry.
  std::map<std::string_view, Entry> by_der;
  std::vector<std::string> failures;  // each makes the check fail; the first is the headline
  std::vector<std::string> warnings;  // each makes a passing check warn
  std::vector<Finding> findings;      // the failures', then (if none) the warnings' findings
  bool bundle_found = false;
  bool directory_has_links = false;
  DerParseMemo parsed;  // the directory's certificates are mostly the bundle's again

  void add(const PemBundle& bundle, const std::string& source) {
    for (const Certificate& cert : bundle.certificates) {
      by_der.try_emplace(*cert.der, Entry{cert, source});
    }
  }
  void fail(std::string message, std::string_view remedy) {
    failures.push_back(message);
    add(CheckStatus::fail, std::move(message), remedy).breaks(std::string(kBreaks));
  }
  void warn(std::string message, std::string_view remedy) {
    warnings.push_back(message);
    add(CheckStatus::warn, std::move(message), remedy);
  }
  Finding& add(CheckStatus severity, std::string message, std::string_view remedy) {
    Finding& f = findings.emplace_back();
    f.severity = severity;
    f.message = std::move(message);
    f.fix = std::string(remedy);
    if (remedy == kInstallRemedy) f.run(std::string(kInstallCommand));
    return f;
  }
};

json resolution_of(std::string_view path, const Result<Resolved>& resolved) {
  json out = {{"path", path}};
  if (resolved) {
    if (resolved->path != path) out["resolved_path"] = resolved->path;
    out["type"] = to_string(resolved->info.type);
  } else {
    out["error"] = resolved.error().message;
  }
  return out;
}

json garbage_json(const std::vector<GarbageBlock>& garbage) {
  json out = json::array();
  for (const GarbageBlock& g : garbage) {
    if (out.size() >= kMaxListed) break;
    out.push_back({{"block", g.block}, {"line", g.line}, {"reason", g.reason}});
  }
  return out;
}

// The bundle file: SSL_CERT_FILE when set, else the first default that exists.
// Its details; an Error only when the run's deadline stopped a read.
Result<json> load_bundle(const Context& ctx, TrustStore& store) {
  std::string path;
  Result<Resolved> resolved = Error{"not resolved yet", 0};
  std::string origin = "default";
  const std::string env_remedy = "Point SSL_CERT_FILE at an existing PEM bundle, or unset it";
  if (auto env = ctx.env.get("SSL_CERT_FILE")) {
    origin = "SSL_CERT_FILE";
    if (env->empty()) {
      store.fail("SSL_CERT_FILE is set but empty: OpenSSL loads no CA bundle", env_remedy);
      return json{{"origin", origin}, {"error", "empty"}};
    }
    path = std::string(*env);
    resolved = ctx.fs.resolve(path);
    if (resolved.timed_out()) return resolved.error();
  } else {
    json dangling = json::array();
    for (std::string_view candidate : kDefaultCaBundles) {
      auto found = ctx.fs.resolve(candidate);
      if (found) {
        path = std::string(candidate);
        resolved = std::move(found);
        break;
      }
      if (found.timed_out()) return found.error();
      auto link = ctx.fs.lstat(candidate);
      if (link.timed_out()) return link.error();
      if (link) dangling.push_back(candidate);
    }
    if (path.empty()) {
      // A default bundle that is a link to nowhere (or a loop) was installed
      // and then broken: OpenSSL may still verify through the hashed
      // directory, but every program that reads the bundle file finds nothing.
      if (!dangling.empty()) {
        store.warn(dangling.front().get<std::string>() +
                       " is a broken link (dangling or a loop): programs that read the "
                       "bundle file find no CA certificates",
                   "apt-get install --reinstall ca-certificates (or run "
                   "update-ca-certificates) to recreate the bundle");
      }
      return json{{"origin", origin}, {"found", false}, {"dangling_links", dangling}};
    }
  }

  json details = resolution_of(path, resolved);
  details["origin"] = origin;
  auto text = ctx.fs.read_file(path, 64u << 20);
  if (text.timed_out()) return text.error();
  if (!text) {
    const std::string who = origin == "default" ? path : "SSL_CERT_FILE=" + path;
    store.fail(text.missing() ? who + " does not exist" : who + ": " + text.error().message,
               origin == "default" ? kInstallRemedy : env_remedy);
    return details;
  }
  store.bundle_found = true;
  const PemBundle bundle = parse_pem_bundle(*text, &store.parsed, CertificateDetail::minimal);
  details["certificate_blocks"] = bundle.certificate_blocks;
  details["certificates"] = bundle.certificates.size();
  details["garbage_blocks"] = bundle.garbage.size();
  details["garbage"] = garbage_json(bundle.garbage);
  details["other_blocks"] = bundle.other_blocks;
  json partial = json::array();
  for (const Certificate& cert : bundle.certificates) {
    if (!cert.partial_parse_reason.empty()) {
      Certificate described = cert;
      describe_certificate(described);
      partial.push_back({{"subject", described.subject}, {"reason", cert.partial_parse_reason}});
    }
  }
  details["partially_parsed"] = partial;
  if (!bundle.garbage.empty()) {
    store.fail(path + ": " + std::to_string(bundle.garbage.size()) + " of " +
                   std::to_string(bundle.certificate_blocks) +
                   " certificate blocks are garbage, so OpenSSL loads none of the bundle",
               origin == "default" ? "Regenerate the bundle with update-ca-certificates (or "
                                     "reinstall ca-certificates); remove hand-edited blocks"
                                   : "Repair the PEM file named by SSL_CERT_FILE");
  }
  store.add(bundle, path);
  return details;
}

// Whether the bundle alone settles the verdict: it parsed, nothing failed, and
// it holds a certificate valid now. A directory can only add certificates, and
// then they change no status, save an expired one the bundle lacks under
// `expired_is` "warn" (follow_directory's file count catches the usual case:
// a certificate linked in by hand without update-ca-certificates).
bool bundle_settles(const Context& ctx, const TrustStore& store) {
  if (!store.bundle_found || !store.failures.empty()) return false;
  return std::any_of(store.by_der.begin(), store.by_der.end(), [&](const auto& item) {
    return !is_expired(item.second.cert, ctx.now) && !is_not_yet_valid(item.second.cert, ctx.now);
  });
}

// The default directory next to a bundle that settles the verdict: its links
// followed, not read (reading ~150 files was most of the check's cost). When
// they reach more files than the bundle has certificates, some are not in it:
// nullopt, and the caller parses them. An Error only for the deadline.
Result<std::optional<json>> follow_directory(const Context& ctx, const std::string& dir,
                                             const std::vector<DirEntry>& entries,
                                             std::size_t bundle_certificates, json& details,
                                             TrustStore& store) {
  auto followed = resolve_hash_links(ctx.fs, dir, entries, kMaxHashLinks);
  if (!followed) return followed.error();
  if (followed->files.size() > bundle_certificates) {
    details["parsed_because"] = "the links reach " + std::to_string(followed->files.size()) +
                                " files, the bundle holds " + std::to_string(bundle_certificates) +
                                " certificates";
    return std::optional<json>();
  }
  json unreadable = json::array();
  for (const auto& bad : followed->unusable) {
    if (unreadable.size() >= kMaxListed) break;
    unreadable.push_back({{"name", bad.name}, {"error", bad.error}});
  }
  json garbage = json::array();
  for (const std::string& name : followed->empty) {
    if (garbage.size() >= kMaxListed) break;
    garbage.push_back({{"name", name}, {"reason", "no certificate block (empty file)"}});
  }
  const std::size_t resolved_links = followed->links - followed->unusable.size();
  if (followed->links > 0) store.directory_has_links = true;
  details["parsed"] = false;
  details["hash_links"] = followed->links;
  details["resolved_links"] = resolved_links;
  details["files"] = followed->files.size();
  details["unreadable_links"] = unreadable;
  details["garbage_files"] = garbage;
  details["note"] = "hashed directory: " + std::to_string(resolved_links) +
                    " links resolved, not parsed (the bundle holds its certificates)";
  return std::optional<json>(std::move(details));
}

// One hashed directory's details; an Error only when the deadline stopped a read.
// `settled_by` is the bundle's certificate count when bundle_settles(), else nullopt.
Result<json> load_directory(const Context& ctx, const std::string& dir,
                            const Result<Resolved>& resolved, std::string_view origin,
                            std::optional<std::size_t> settled_by, TrustStore& store) {
  json details = resolution_of(dir, resolved);
  details["origin"] = origin;
  auto entries = ctx.fs.list_dir(dir);
  if (entries.timed_out()) return entries.error();
  if (!entries) {
    if (origin != "default") {
      store.fail("SSL_CERT_DIR entry " + dir + ": " + entries.error().message,
                 "Point SSL_CERT_DIR at existing hashed certificate directories, or unset it");
    }
    details["error"] = entries.error().message;
    return details;
  }
  if (origin == "default" && settled_by) {
    auto followed = follow_directory(ctx, dir, *entries, *settled_by, details, store);
    if (!followed) return followed.error();
    if (*followed) return std::move(**followed);
  }
  std::size_t links = 0;
  std::size_t certificates = 0;
  json unreadable = json::array();
  json garbage = json::array();
  for (const DirEntry& entry : *entries) {
    if (!is_hash_link_name(entry.name) || links >= kMaxHashLinks) continue;
    ++links;
    const std::string path = path_join(dir, entry.name);
    auto text = ctx.fs.read_file(path, 1u << 20);
    if (text.timed_out()) return text.error();
    if (!text) {
      if (unreadable.size() < kMaxListed) {
        unreadable.push_back({{"name", entry.name}, {"error", text.error().message}});
      }
      continue;
    }
    const PemBundle bundle = parse_pem_bundle(*text, &store.parsed, CertificateDetail::minimal);
    certificates += bundle.certificates.size();
    if ((!bundle.garbage.empty() || bundle.certificates.empty()) && garbage.size() < kMaxListed) {
      garbage.push_back({{"name", entry.name},
                         {"reason", bundle.garbage.empty() ? "no certificate block"
                                                           : bundle.garbage.front().reason}});
    }
    store.add(bundle, path);
  }
  if (links > 0) store.directory_has_links = true;
  if (links == 0 && origin != "default") {
    // Plain PEM files in a directory are invisible to OpenSSL: it looks certificates up by
    // subject-hash file name only.
    store.warn("SSL_CERT_DIR entry " + dir + " has no hash links, so OpenSSL finds nothing there",
               "Run `openssl rehash " + dir + "` (c_rehash) after adding certificates to it");
  }
  details["parsed"] = true;
  details["hash_links"] = links;
  details["certificates"] = certificates;
  details["unreadable_links"] = unreadable;
  details["garbage_files"] = garbage;
  return details;
}

// The hashed directories OpenSSL reads (see ca_directories).
Result<json> load_directories(const Context& ctx, TrustStore& store) {
  json out = json::array();
  // Taken before any directory adds to the store: the bundle's own count.
  std::optional<std::size_t> settled_by;
  if (bundle_settles(ctx, store)) settled_by = store.by_der.size();
  std::vector<std::string> seen;  // resolved paths: /etc/ssl/certs may link to /etc/pki/tls/certs
  for (const auto& [dir, origin] : ca_directories(ctx.env)) {
    const Result<Resolved> resolved = ctx.fs.resolve(dir);
    if (resolved.timed_out()) return resolved.error();
    // The defaults only count when they are directories.
    if (origin == "default" && !(resolved && resolved->info.type == FileType::directory)) continue;
    const std::string key = resolved ? resolved->path : dir;
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
    seen.push_back(key);
    auto details = load_directory(ctx, dir, resolved, origin, settled_by, store);
    if (!details) return details.error();
    out.push_back(std::move(*details));
  }
  return out;
}

// Describes `entries` (names, fingerprint: the only certificates that get
// them) and returns the first kMaxListed in fingerprint order, the order the
// report has always listed them in.
std::vector<TrustStore::Entry*> listed_by_fingerprint(std::vector<TrustStore::Entry*> entries) {
  for (TrustStore::Entry* entry : entries) describe_certificate(entry->cert);
  std::sort(entries.begin(), entries.end(),
            [](const auto* a, const auto* b) { return a->cert.sha256 < b->cert.sha256; });
  if (entries.size() > kMaxListed) entries.resize(kMaxListed);
  return entries;
}

// Where OpenSSL looks, read into `store`: the details of the bundle, the
// directories and OpenSSL's own cert.pem link. An Error only for the deadline.
Result<json> gather(const Context& ctx, TrustStore& store) {
  json details = json::object();
  auto bundle = load_bundle(ctx, store);
  if (!bundle) return bundle.error();
  details["bundle"] = std::move(*bundle);
  auto directories = load_directories(ctx, store);
  if (!directories) return directories.error();
  details["directories"] = std::move(*directories);
  auto openssl_dir = openssl_dir_cert_pem(ctx.fs);
  if (!openssl_dir) return openssl_dir.error();
  details["openssl_dir_cert_pem"] = std::move(*openssl_dir);
  return details;
}

// Counts and lists the expired and not yet valid certificates; returns how many expired.
std::size_t note_validity(const Context& ctx, TrustStore& store, json& details) {
  std::vector<TrustStore::Entry*> expired_entries;
  std::vector<TrustStore::Entry*> future_entries;
  for (auto& [der, entry] : store.by_der) {
    if (is_expired(entry.cert, ctx.now)) {
      expired_entries.push_back(&entry);
    } else if (is_not_yet_valid(entry.cert, ctx.now)) {
      future_entries.push_back(&entry);
    }
  }
  json expired_list = json::array();
  for (const TrustStore::Entry* entry : listed_by_fingerprint(expired_entries)) {
    expired_list.push_back({{"subject", entry->cert.subject},
                            {"not_after", format_utc(entry->cert.not_after)},
                            {"sha256", entry->cert.sha256},
                            {"file", entry->source}});
  }
  json not_yet_valid = json::array();
  for (const TrustStore::Entry* entry : listed_by_fingerprint(future_entries)) {
    not_yet_valid.push_back({{"subject", entry->cert.subject},
                             {"not_before", format_utc(entry->cert.not_before)},
                             {"file", entry->source}});
  }
  details["certificates"] = store.by_der.size();
  details["expired"] = expired_entries.size();
  details["expired_certificates"] = expired_list;
  details["not_yet_valid_certificates"] = not_yet_valid;
  return expired_entries.size();
}

// The Debian package that keeps the bundle up to date: true when the default
// locations hold certificates it did not put there. An Error only for the deadline.
Result<bool> note_package(const Context& ctx, const TrustStore& store, json& details) {
  const bool default_paths = !ctx.env.has("SSL_CERT_FILE") && !ctx.env.has("SSL_CERT_DIR");
  const auto shared_dpkg = dpkg_database_of(ctx);
  const Result<DpkgDatabase>& dpkg = *shared_dpkg;
  if (dpkg.timed_out()) return dpkg.error();
  bool unmanaged_bundle = false;
  json package = {{"name", "ca-certificates"}};
  if (dpkg) {
    const DpkgRecord* record = dpkg->find_installed("ca-certificates");
    package["installed"] = record != nullptr;
    if (record != nullptr) package["version"] = record->version;
    unmanaged_bundle =
        record == nullptr && default_paths && (store.bundle_found || store.directory_has_links);
  } else {
    package["dpkg_database"] = dpkg.missing() ? "absent" : dpkg.error().message;
  }
  details["package"] = package;
  return unmanaged_bundle;
}

// Where the certificates came from, for the headline.
std::string sources_text(const json& details, const TrustStore& store) {
  std::vector<std::string> where;
  if (store.bundle_found) where.push_back(details["bundle"].value("path", ""));
  for (const json& dir : details["directories"]) {
    if (dir.value("hash_links", 0) != 0) where.push_back(dir.value("path", std::string()));
  }
  return where.empty() ? "the configured locations" : join(where, " and ");
}

// The headline; adds the findings for an empty or wholly expired trust store,
// and the warnings that apply only when everything else is fine.
std::string judge(OutcomeBuilder& out, TrustStore& store, std::size_t expired,
                  bool unmanaged_bundle, const std::string& expired_is) {
  const std::size_t total = store.by_der.size();
  const std::string where = sources_text(out.details(), store);
  auto install = [&](const std::string& message) {
    out.fail(message)
        .breaks(std::string(kBreaks))
        .fix_by(std::string(kInstallRemedy))
        .run(std::string(kInstallCommand));
    return message;
  };
  if (!store.failures.empty()) {
    out.details()["failures"] = store.failures;
    return store.failures.front();
  }
  if (!store.bundle_found && !store.directory_has_links) {
    return install("no CA certificate bundle or hashed certificate directory found");
  }
  if (total == 0) return install("no parseable CA certificate in " + where);
  if (expired == total) {
    return install("all " + std::to_string(total) + " CA certificates in " + where +
                   " have expired");
  }
  if (unmanaged_bundle) {
    store.warn("the ca-certificates package is not installed, so nothing updates them",
               "Install it, then remove the copied bundle from the image build:");
    store.findings.back().run(
        "apt-get update && apt-get install -y --no-install-recommends ca-certificates");
  }
  if (expired > 0 && expired_is == "warn") {
    store.warn("expired certificates are configured to warn",
               "Update the bundle (or rebuild the image on a current base):");
    store.findings.back().run("apt-get update && apt-get install -y ca-certificates");
  }
  if (!store.warnings.empty()) out.details()["warnings"] = store.warnings;
  return std::to_string(total) + " CA certificates from " + where + ", " + std::to_string(expired) +
         " expired";
}

CheckOutcome run(const Context& ctx) {
  TrustStore store;
  auto details = gather(ctx, store);
  if (!details) return timed_out(details.error());
  const std::size_t expired = note_validity(ctx, store, *details);
  const Result<bool> unmanaged_bundle = note_package(ctx, store, *details);
  if (!unmanaged_bundle) return timed_out(unmanaged_bundle.error());

  OutcomeBuilder out(std::move(*details));
  std::string headline =
      judge(out, store, expired, *unmanaged_bundle, ctx.params.at("expired_is").get<std::string>());
  // Failures decide; warnings count only when nothing failed.
  for (Finding& f : store.findings) {
    if (f.severity == CheckStatus::fail || store.failures.empty()) out.add(std::move(f));
  }
  return std::move(out).finish(std::move(headline));
}

}  // namespace

CheckInfo tls_ca_certificates_check() {
  return CheckInfo{
      "tls.ca-certificates",
      "CA certificates for OpenSSL-based clients",
      kExplain,
      run,
      {{"expired_is", R"("pass")", "status when some (not all) CA certificates have expired",
        ParamType::one_of({"pass", "warn"})}},
      CheckCost::heavy};  // parses about 150 certificates (the bundle), follows as many links
}

}  // namespace pycheck
