// Serve mode's request handling (agent/serve/health_endpoints.h respond()) and the
// snapshot bodies it serves (render_json, render_prometheus).
//
// Input: a request and a report separated by a NUL byte.
//   request: line 1 the method, line 2 the path, line 3 "body" when the
//            request has one, then query arguments "key=value" or "key".
//   report:  line 1 started_at, then one check per line:
//            <status letter p/w/f/s/e><id>\t<summary>\t<details JSON>
// Each request is answered with no run yet and with the snapshot.
#include <string>

#include "agent/serve/health_endpoints.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty() && lines.size() < 64) {
    std::size_t nl = text.find('\n');
    lines.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

pycheck::CheckStatus status_of(char c) {
  switch (c) {
    case 'p':
      return pycheck::CheckStatus::pass;
    case 'w':
      return pycheck::CheckStatus::warn;
    case 'f':
      return pycheck::CheckStatus::fail;
    case 's':
      return pycheck::CheckStatus::skip;
    default:
      return pycheck::CheckStatus::error;
  }
}

pycheck::Report report_of(std::string_view text) {
  pycheck::Report report;
  report.pycheck_version = "fuzz";
  report.root = "/";
  std::vector<std::string_view> lines = lines_of(text);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i == 0) {
      report.started_at = std::string(lines[0]);
      continue;
    }
    std::string_view line = lines[i];
    if (line.empty()) continue;
    pycheck::CheckResult r;
    r.status = status_of(line[0]);
    line.remove_prefix(1);
    std::vector<std::string_view> fields;
    while (fields.size() < 2) {
      std::size_t tab = line.find('\t');
      fields.push_back(line.substr(0, tab));
      line = tab == std::string_view::npos ? std::string_view() : line.substr(tab + 1);
    }
    r.id = std::string(fields[0]);
    r.title = "title";
    r.summary = std::string(fields[1]);
    pycheck::json details = pycheck::json::parse(line, nullptr, false);
    if (details.is_object()) r.details = std::move(details);
    report.checks.push_back(std::move(r));
  }
  return report;
}

void check_response(const pycheck::HealthRequest& request, const pycheck::HealthResponse& r,
                    bool have_snapshot) {
  FUZZ_CHECK(r.status == 200 || r.status == 404 || r.status == 405 || r.status == 413 ||
             r.status == 503);
  FUZZ_CHECK(!r.content_type.empty());
  if (request.path == "/livez" && (request.method == "GET" || request.method == "HEAD") &&
      !request.has_body) {
    FUZZ_CHECK(r.status == 200);
  }
  if (!have_snapshot && request.path != "/livez") FUZZ_CHECK(r.status != 200);
  if (request.path == "/readyz" && r.status != 405 && r.status != 413 && have_snapshot &&
      r.body != "ok") {
    // Every line of a /readyz body is one of its kinds: no line forged by a summary or id.
    for (std::string_view line : lines_of(r.body)) {
      FUZZ_CHECK(line.starts_with("[+]") || line.starts_with("[-]") || line.starts_with("warn: ") ||
                 line.starts_with("readyz check "));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in = fuzz::as_view(data, size);
  std::string_view request_text = in.substr(0, in.find('\0'));
  std::string_view report_text =
      request_text.size() < in.size() ? in.substr(request_text.size() + 1) : std::string_view();

  pycheck::HealthRequest request;
  std::vector<std::string_view> lines = lines_of(request_text);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i == 0)
      request.method = std::string(lines[i]);
    else if (i == 1)
      request.path = std::string(lines[i]);
    else if (i == 2)
      request.has_body = lines[i] == "body";
    else {
      std::size_t eq = lines[i].find('=');
      if (eq == std::string_view::npos)
        request.query.emplace_back(std::string(lines[i]), std::nullopt);
      else
        request.query.emplace_back(std::string(lines[i].substr(0, eq)),
                                   std::string(lines[i].substr(eq + 1)));
    }
  }

  check_response(request, pycheck::respond(request, nullptr), false);
  for (pycheck::CheckStatus fail_on : {pycheck::CheckStatus::fail, pycheck::CheckStatus::warn}) {
    auto snapshot = pycheck::make_snapshot(report_of(report_text), fail_on);
    FUZZ_CHECK(!snapshot->report_json.empty() && snapshot->report_json.back() == '\n');
    FUZZ_CHECK(snapshot->metrics.empty() || snapshot->metrics.back() == '\n');
    // The JSON body must be valid JSON whatever bytes the summaries held.
    FUZZ_CHECK(!pycheck::json::parse(snapshot->report_json, nullptr, false).is_discarded());
    check_response(request, pycheck::respond(request, snapshot.get()), true);
  }
  return 0;
}
