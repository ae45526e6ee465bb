#include "agent/serve/health_endpoints.h"

#include <algorithm>

#include "agent/core/findings.h"

namespace pycheck {
namespace {

constexpr std::string_view kText = "text/plain; charset=utf-8";
constexpr std::string_view kNoRunYet = "no run has completed yet\n";

HealthResponse text_response(int status, std::string body) {
  HealthResponse r;
  r.status = status;
  r.content_type = std::string(kText);
  r.body = std::move(body);
  return r;
}

// The rule of Report::exit_code, for one check: a failure or an error fails,
// a warning fails only with fail_on=warn.
bool fails(const CheckResult& result, CheckStatus fail_on) {
  switch (result.status) {
    case CheckStatus::fail:
    case CheckStatus::error:
      return true;
    case CheckStatus::warn:
      return fail_on == CheckStatus::warn;
    case CheckStatus::pass:
    case CheckStatus::skip:
      return false;
  }
  return true;
}

// A summary is one line by contract; a stray newline must not forge a line.
std::string one_line(std::string_view text) {
  std::string out(text);
  std::replace_if(
      out.begin(), out.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return out;
}

// One line per check; with ?verbose a failed check's findings follow, indented.
std::string check_line(const CheckResult& result, bool failed, bool verbose) {
  if (!failed) return "[+]" + result.id + " ok\n";
  std::string out = "[-]" + result.id + " failed: " + one_line(result.summary) + "\n";
  if (verbose) {
    for (const Finding& f : result.findings) out += "    " + one_line(finding_line(f)) + "\n";
  }
  return out;
}

bool has_key(const HealthRequest& request, std::string_view key) {
  return std::any_of(request.query.begin(), request.query.end(),
                     [&](const auto& kv) { return kv.first == key; });
}

HealthResponse livez(const HealthRequest& request) {
  if (has_key(request, "verbose")) return text_response(200, "[+]ping ok\nlivez check passed\n");
  return text_response(200, "ok");
}

// /readyz: like the apiserver, a failure always lists the checks; success does
// only when asked (?verbose). Excluded checks are listed as such and do not count.
HealthResponse readyz(const HealthRequest& request, const Snapshot& snapshot) {
  std::vector<std::string_view> excluded;
  for (const auto& [key, value] : request.query) {
    if (key == "exclude" && value) excluded.push_back(*value);
  }
  std::vector<bool> matched(excluded.size(), false);
  std::string lines;
  bool failed = false;
  for (const CheckResult& result : snapshot.report.checks) {
    auto it = std::find(excluded.begin(), excluded.end(), result.id);
    if (it != excluded.end()) {
      matched[static_cast<std::size_t>(it - excluded.begin())] = true;
      lines += "[+]" + result.id + " excluded: ok\n";
      continue;
    }
    bool check_failed = fails(result, snapshot.fail_on);
    failed = failed || check_failed;
    lines += check_line(result, check_failed, has_key(request, "verbose"));
  }
  std::string unmatched;
  for (std::size_t i = 0; i < excluded.size(); ++i) {
    if (matched[i]) continue;
    unmatched += (unmatched.empty() ? "\"" : ", \"") + one_line(excluded[i]) + "\"";
  }
  if (!unmatched.empty())
    lines += "warn: some health checks cannot be excluded: no matches for " + unmatched + "\n";
  if (!failed && !has_key(request, "verbose")) return text_response(200, "ok");
  lines += failed ? "readyz check failed\n" : "readyz check passed\n";
  return text_response(failed ? 503 : 200, std::move(lines));
}

HealthResponse readyz_one(const HealthRequest& request, const Snapshot& snapshot,
                          std::string_view id) {
  const auto& checks = snapshot.report.checks;
  auto it =
      std::find_if(checks.begin(), checks.end(), [&](const CheckResult& r) { return r.id == id; });
  if (it == checks.end()) {
    return text_response(404, "no check \"" + one_line(id) + "\" in this server's runs\n");
  }
  bool failed = fails(*it, snapshot.fail_on);
  if (!failed && !has_key(request, "verbose")) return text_response(200, "ok");
  std::string body = check_line(*it, failed, has_key(request, "verbose"));
  body += failed ? "readyz check failed\n" : "readyz check passed\n";
  return text_response(failed ? 503 : 200, std::move(body));
}

// serve --scan: ready while the scanner works.
HealthResponse scanner_readyz(const Snapshot& snapshot) {
  if (snapshot.scanner_error.empty()) return text_response(200, "ok\n");
  return text_response(503, "[-]scanner failed: " + one_line(snapshot.scanner_error) +
                                "\nreadyz check failed\n");
}

enum class Endpoint { livez, readyz, readyz_one, metrics, report, unknown };

Endpoint endpoint_of(std::string_view path) {
  if (path == "/livez") return Endpoint::livez;
  if (path == "/readyz") return Endpoint::readyz;
  if (path.starts_with("/readyz/") && path.size() > 8) return Endpoint::readyz_one;
  if (path == "/metrics") return Endpoint::metrics;
  if (path == "/report") return Endpoint::report;
  return Endpoint::unknown;
}

HealthResponse dispatch(const HealthRequest& request, const Snapshot* latest) {
  const Endpoint endpoint = endpoint_of(request.path);
  if (endpoint == Endpoint::unknown) {
    return text_response(404,
                         "not found; endpoints: /livez /readyz /readyz/<check> /metrics /report\n");
  }
  if (request.method != "GET" && request.method != "HEAD") {
    HealthResponse r = text_response(405, "method not allowed\n");
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  if (request.has_body) {
    HealthResponse r = text_response(413, "request bodies are not accepted\n");
    r.headers.emplace_back("Connection", "close");
    return r;
  }
  if (endpoint == Endpoint::livez) return livez(request);
  if (latest == nullptr) return text_response(503, std::string(kNoRunYet));
  switch (endpoint) {
    case Endpoint::readyz:
      return latest->scan ? scanner_readyz(*latest) : readyz(request, *latest);
    case Endpoint::readyz_one:
      if (latest->scan) return text_response(404, "a node scan has no per-check readiness\n");
      return readyz_one(request, *latest, std::string_view(request.path).substr(8));
    case Endpoint::metrics: {
      HealthResponse r = text_response(200, "");
      r.snapshot_body = &latest->metrics;
      r.content_type = std::string(kPrometheusContentType);
      return r;
    }
    case Endpoint::report: {
      HealthResponse r = text_response(200, "");
      r.snapshot_body = &latest->report_json;
      r.content_type = "application/json";
      return r;
    }
    default:
      break;
  }
  return text_response(500, "internal error\n");
}

}  // namespace

std::shared_ptr<const Snapshot> make_snapshot(Report report, CheckStatus fail_on) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->report_json = render_json(report);
  snapshot->metrics = render_prometheus(report);
  snapshot->report = std::move(report);
  snapshot->fail_on = fail_on;
  return snapshot;
}

std::shared_ptr<const Snapshot> make_scan_snapshot(std::string scan_json, std::string metrics,
                                                   std::string scanner_error) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->scan = true;
  snapshot->report_json = std::move(scan_json);
  snapshot->metrics = std::move(metrics);
  snapshot->scanner_error = std::move(scanner_error);
  return snapshot;
}

HealthResponse respond(const HealthRequest& request, const Snapshot* latest) {
  HealthResponse response = dispatch(request, latest);
  // Health answers must never come from a cache between the prober and us.
  response.headers.emplace_back("Cache-Control", "no-store");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return response;
}

}  // namespace pycheck
