// The HTTP endpoints of `pycheck serve`, as a pure function: a parsed request
// and the latest snapshot in, a response out. No sockets, no clock, no I/O, so
// it is unit-tested and fuzzed directly; agent/serve/serve.cpp is the glue that feeds
// it from libmicrohttpd.
//
// Endpoints (Kubernetes apiserver conventions):
//   /livez          200 "ok": the agent is alive; never looks at the checks
//   /readyz         200 "ok" when the latest run has no failing check (a failure
//                   or an error; a warning too with fail_on=warn), else 503 with
//                   the per-check lines; ?verbose always gives them
//                   ("[+]id ok" / "[-]id failed: summary", then "readyz check
//                   passed|failed"); ?exclude=id (repeatable) leaves a check out
//   /readyz/<id>    the same for one check; 404 for a check this server does not run
//   /metrics        Prometheus text format 0.0.4
//   /report         the JSON report (schema pycheck.report/v1)
// Under `serve --scan` the snapshot is a node scan's: /report is the scan JSON
// (pycheck.scan/v1), /metrics its series, /readyz says whether the scanner
// itself works (not whether the containers are healthy: one failing container
// must not take the node's scanner out of service), /readyz/<id> is 404.
// GET and HEAD only (405 otherwise, with Allow), no request body (413), unknown
// paths 404. Until the first run has completed, /readyz, /readyz/<id>,
// /metrics and /report answer 503 "no run has completed yet".
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/report/report.h"

namespace pycheck {

// What one background run (merged, see agent/serve/scheduler.h) found, with the
// bodies that do not depend on the request rendered once.
struct Snapshot {
  Report report;
  CheckStatus fail_on = CheckStatus::fail;  // what makes /readyz fail (as Report::exit_code)
  std::string report_json;                  // render_json(report)
  std::string metrics;                      // render_prometheus(report)
  bool scan = false;          // a node scan's snapshot (report is then empty)
  std::string scanner_error;  // scan: why the scan itself did not work; empty when it did
};

// Renders the bodies; the result is immutable and shared by all requests.
std::shared_ptr<const Snapshot> make_snapshot(Report report, CheckStatus fail_on);
// A node scan's snapshot, its bodies rendered by the caller (agent/scan).
std::shared_ptr<const Snapshot> make_scan_snapshot(std::string scan_json, std::string metrics,
                                                   std::string scanner_error);

struct HealthRequest {
  std::string method;  // "GET", "HEAD", ...
  std::string path;    // without the query string
  // Query arguments in order, repeats kept; nullopt for a bare key ("?verbose").
  std::vector<std::pair<std::string, std::optional<std::string>>> query;
  bool has_body = false;  // a non-zero Content-Length or any Transfer-Encoding
};

struct HealthResponse {
  int status = 200;
  std::string content_type;
  // The body: generated text, or a rendering owned by the snapshot (valid
  // while the snapshot lives), so /metrics and /report are served without
  // copying. Also for HEAD: the server sends the headers (Content-Length) only.
  std::string body;
  const std::string* snapshot_body = nullptr;
  std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Type

  std::string_view content() const { return snapshot_body != nullptr ? *snapshot_body : body; }
};

inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// `latest` is null until the first run has completed.
HealthResponse respond(const HealthRequest& request, const Snapshot* latest);

}  // namespace pycheck
