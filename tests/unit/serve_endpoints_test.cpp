// serve mode, the pure parts: the HTTP endpoints (agent/serve/health_endpoints.h)
// and the --listen ADDR:PORT parser (agent/serve/serve.h).
#include <arpa/inet.h>
#include <netinet/in.h>

#include <catch2/catch.hpp>

#include "agent/serve/health_endpoints.h"
#include "agent/serve/serve.h"

using namespace pycheck;

namespace {

CheckResult result(std::string id, CheckStatus status, std::string summary) {
  CheckResult r;
  r.id = std::move(id);
  r.title = "title of " + r.id;
  r.status = status;
  r.summary = std::move(summary);
  return r;
}

Report sample_report() {
  Report report;
  report.pycheck_version = "0.1.0";
  report.root = "/";
  report.started_at = "2026-11-28T10:00:00.000Z";
  report.checks = {result("python.path", CheckStatus::pass, "python3 is /usr/local/bin/python3"),
                   result("locale", CheckStatus::warn, "LANG unset"),
                   result("python.venv", CheckStatus::skip, "no venv"),
                   result("tls.ca-certificates", CheckStatus::fail, "no CA bundle")};
  return report;
}

HealthRequest get(std::string path,
                  std::vector<std::pair<std::string, std::optional<std::string>>> query = {}) {
  HealthRequest r;
  r.method = "GET";
  r.path = std::move(path);
  r.query = std::move(query);
  return r;
}

std::optional<std::string> header(const HealthResponse& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return std::nullopt;
}

const std::optional<std::string> kBare;  // "?verbose"

}  // namespace

TEST_CASE("serve: before the first run only /livez answers 200", "[serve]") {
  CHECK(respond(get("/livez"), nullptr).status == 200);
  CHECK(respond(get("/livez"), nullptr).body == "ok");
  for (std::string path : {"/readyz", "/readyz/locale", "/metrics", "/report"}) {
    INFO(path);
    HealthResponse r = respond(get(path), nullptr);
    CHECK(r.status == 503);
    CHECK(r.body == "no run has completed yet\n");
    CHECK(r.content_type == "text/plain; charset=utf-8");
  }
  HealthResponse verbose = respond(get("/readyz", {{"verbose", kBare}}), nullptr);
  CHECK(verbose.status == 503);
  CHECK(verbose.body == "no run has completed yet\n");
}

TEST_CASE("serve: /readyz fails on a failed check and lists every check", "[serve]") {
  auto snapshot = make_snapshot(sample_report(), CheckStatus::fail);
  HealthResponse r = respond(get("/readyz"), snapshot.get());
  CHECK(r.status == 503);
  CHECK(r.body ==
        "[+]python.path ok\n"
        "[+]locale ok\n"
        "[+]python.venv ok\n"
        "[-]tls.ca-certificates failed: no CA bundle\n"
        "readyz check failed\n");
  CHECK(r.content_type == "text/plain; charset=utf-8");
  CHECK(header(r, "Cache-Control") == "no-store");
}

TEST_CASE("serve: /readyz?exclude leaves checks out; unknown names are reported", "[serve]") {
  auto snapshot = make_snapshot(sample_report(), CheckStatus::fail);
  HealthResponse quiet =
      respond(get("/readyz", {{"exclude", "tls.ca-certificates"}}), snapshot.get());
  CHECK(quiet.status == 200);
  CHECK(quiet.body == "ok");

  HealthResponse verbose = respond(
      get("/readyz", {{"verbose", kBare}, {"exclude", "tls.ca-certificates"}, {"exclude", "nope"}}),
      snapshot.get());
  CHECK(verbose.status == 200);
  CHECK(verbose.body ==
        "[+]python.path ok\n"
        "[+]locale ok\n"
        "[+]python.venv ok\n"
        "[+]tls.ca-certificates excluded: ok\n"
        "warn: some health checks cannot be excluded: no matches for \"nope\"\n"
        "readyz check passed\n");

  // Excluding another check does not hide the failure.
  CHECK(respond(get("/readyz", {{"exclude", "locale"}}), snapshot.get()).status == 503);
}

TEST_CASE("serve: /readyz?verbose on success lists the checks", "[serve]") {
  Report report = sample_report();
  report.checks.pop_back();  // the failing one
  auto snapshot = make_snapshot(report, CheckStatus::fail);
  CHECK(respond(get("/readyz"), snapshot.get()).body == "ok");
  HealthResponse r = respond(get("/readyz", {{"verbose", kBare}}), snapshot.get());
  CHECK(r.status == 200);
  CHECK(r.body == "[+]python.path ok\n[+]locale ok\n[+]python.venv ok\nreadyz check passed\n");
  // "?verbose=1" counts as verbose too: the key's presence is what matters.
  CHECK(respond(get("/readyz", {{"verbose", "1"}}), snapshot.get()).body == r.body);
}

TEST_CASE("serve: /readyz follows Report::exit_code for every status and fail_on", "[serve]") {
  for (CheckStatus fail_on : {CheckStatus::fail, CheckStatus::warn}) {
    for (CheckStatus status : {CheckStatus::pass, CheckStatus::warn, CheckStatus::fail,
                               CheckStatus::skip, CheckStatus::error}) {
      Report report;
      report.checks = {result("a.check", status, "summary")};
      const int expected = report.exit_code(fail_on) == 0 ? 200 : 503;
      auto snapshot = make_snapshot(report, fail_on);
      INFO(to_string(status) << " fail_on=" << to_string(fail_on));
      CHECK(respond(get("/readyz"), snapshot.get()).status == expected);
      CHECK(respond(get("/readyz/a.check"), snapshot.get()).status == expected);
    }
  }
  // An error is a failure: a probe must not say ready when it could not tell.
  Report report;
  report.checks = {result("a.check", CheckStatus::error,
                          "still running since 2026-11-28T10:00:00.000Z, not restarted")};
  HealthResponse r = respond(get("/readyz"), make_snapshot(report, CheckStatus::fail).get());
  CHECK(r.status == 503);
  CHECK(r.body ==
        "[-]a.check failed: still running since 2026-11-28T10:00:00.000Z, not restarted\nreadyz "
        "check failed\n");
}

TEST_CASE("serve: /readyz/<id> answers for one check; unknown ids are 404", "[serve]") {
  auto snapshot = make_snapshot(sample_report(), CheckStatus::fail);
  HealthResponse pass = respond(get("/readyz/python.path"), snapshot.get());
  CHECK(pass.status == 200);
  CHECK(pass.body == "ok");
  HealthResponse verbose =
      respond(get("/readyz/python.path", {{"verbose", kBare}}), snapshot.get());
  CHECK(verbose.body == "[+]python.path ok\nreadyz check passed\n");
  HealthResponse warn = respond(get("/readyz/locale"), snapshot.get());
  CHECK(warn.status == 200);
  HealthResponse fail = respond(get("/readyz/tls.ca-certificates"), snapshot.get());
  CHECK(fail.status == 503);
  CHECK(fail.body == "[-]tls.ca-certificates failed: no CA bundle\nreadyz check failed\n");
  HealthResponse unknown = respond(get("/readyz/no.such"), snapshot.get());
  CHECK(unknown.status == 404);
  CHECK(unknown.body == "no check \"no.such\" in this server's runs\n");
  CHECK(respond(get("/readyz/"), snapshot.get()).status == 404);
  // With fail_on=warn the warning fails.
  auto strict = make_snapshot(sample_report(), CheckStatus::warn);
  CHECK(respond(get("/readyz/locale"), strict.get()).status == 503);
}

TEST_CASE("serve: a summary with a newline cannot forge a line", "[serve]") {
  Report report;
  report.checks = {result("a.check", CheckStatus::fail, "bad\n[+]other ok")};
  HealthResponse r = respond(get("/readyz"), make_snapshot(report, CheckStatus::fail).get());
  CHECK(r.body == "[-]a.check failed: bad [+]other ok\nreadyz check failed\n");
}

TEST_CASE("serve: /metrics and /report serve the snapshot's renderings", "[serve]") {
  Report report = sample_report();
  auto snapshot = make_snapshot(report, CheckStatus::fail);
  HealthResponse metrics = respond(get("/metrics"), snapshot.get());
  CHECK(metrics.status == 200);
  CHECK(metrics.content_type == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(metrics.content() == render_prometheus(report));
  CHECK(metrics.content().find("pycheck_check_success{check=\"tls.ca-certificates\"} 0") !=
        std::string::npos);

  HealthResponse json_report = respond(get("/report"), snapshot.get());
  CHECK(json_report.status == 200);
  CHECK(json_report.content_type == "application/json");
  CHECK(json_report.content() == render_json(report));
  CHECK(json_report.snapshot_body == &snapshot->report_json);  // served without a copy
  auto parsed = json::parse(json_report.content());
  CHECK(parsed["schema"] == "pycheck.report/v1");
  CHECK(parsed["checks"].size() == 4);
  CHECK(header(json_report, "Cache-Control") == "no-store");
}

TEST_CASE("serve: methods, bodies and unknown paths", "[serve]") {
  auto snapshot = make_snapshot(sample_report(), CheckStatus::fail);
  for (std::string path : {"/livez", "/readyz", "/readyz/locale", "/metrics", "/report"}) {
    INFO(path);
    HealthRequest head = get(path);
    head.method = "HEAD";
    HealthResponse h = respond(head, snapshot.get());
    HealthResponse g = respond(get(path), snapshot.get());
    // Same status and headers; the server sends no body for HEAD (Content-Length stays).
    CHECK(h.status == g.status);
    CHECK(h.content_type == g.content_type);
    CHECK(h.content() == g.content());
    CHECK(h.headers == g.headers);
    for (std::string method : {"POST", "PUT", "DELETE", "OPTIONS", "PATCH", "get"}) {
      HealthRequest other = get(path);
      other.method = method;
      HealthResponse r = respond(other, snapshot.get());
      CHECK(r.status == 405);
      CHECK(header(r, "Allow") == "GET, HEAD");
    }
    HealthRequest with_body = get(path);
    with_body.has_body = true;
    HealthResponse too_large = respond(with_body, snapshot.get());
    CHECK(too_large.status == 413);
    CHECK(header(too_large, "Connection") == "close");
  }
  for (std::string path :
       {"/", "/healthz", "/readyz2", "/livez/", "/metrics/x", "/report.json", ""}) {
    INFO(path);
    CHECK(respond(get(path), snapshot.get()).status == 404);
    HealthRequest post = get(path);
    post.method = "POST";
    CHECK(respond(post, snapshot.get()).status == 404);
  }
  HealthResponse live = respond(get("/livez", {{"verbose", kBare}}), nullptr);
  CHECK(live.body == "[+]ping ok\nlivez check passed\n");
  CHECK(header(live, "Cache-Control") == "no-store");
}

TEST_CASE("serve: --listen ADDR:PORT parsing", "[serve]") {
  struct Good {
    std::string text, normalised;
    int family;
    unsigned port;
  };
  for (const Good& g : std::vector<Good>{{"127.0.0.1:8079", "127.0.0.1:8079", AF_INET, 8079},
                                         {":8079", "0.0.0.0:8079", AF_INET, 8079},
                                         {"0.0.0.0:65535", "0.0.0.0:65535", AF_INET, 65535},
                                         {"10.1.2.3:0", "10.1.2.3:0", AF_INET, 0},
                                         {"[::1]:8079", "[::1]:8079", AF_INET6, 8079},
                                         {"[::]:80", "[::]:80", AF_INET6, 80},
                                         {"[0:0:0:0:0:0:0:1]:1", "[::1]:1", AF_INET6, 1}}) {
    INFO(g.text);
    auto parsed = parse_listen_address(g.text);
    REQUIRE(parsed.ok());
    CHECK(parsed->text == g.normalised);
    CHECK(parsed->addr.ss_family == g.family);
    if (g.family == AF_INET) {
      CHECK(parsed->length == sizeof(sockaddr_in));
      CHECK(ntohs(reinterpret_cast<const sockaddr_in&>(parsed->addr).sin_port) == g.port);
    } else {
      CHECK(parsed->length == sizeof(sockaddr_in6));
      CHECK(ntohs(reinterpret_cast<const sockaddr_in6&>(parsed->addr).sin6_port) == g.port);
    }
  }
  struct Bad {
    std::string text, message_part;
  };
  for (const Bad& b : std::vector<Bad>{{"", "expected ADDR:PORT"},
                                       {"8079", "expected ADDR:PORT"},
                                       {"localhost:8079", "no name lookup"},
                                       {"127.0.0.1:", "port"},
                                       {"127.0.0.1:65536", "port"},
                                       {"127.0.0.1:-1", "port"},
                                       {"127.0.0.1:+80", "port"},
                                       {"127.0.0.1: 80", "port"},
                                       {"127.0.0.1:80a", "port"},
                                       {"127.0.0.1:000080", "port"},
                                       {"256.0.0.1:80", "not an IP address"},
                                       {"1.2.3:80", "not an IP address"},
                                       {"::1:8079", "brackets"},
                                       {"[::1:8079", "closing ']'"},
                                       {"[::1]8079", "port"},
                                       {"[127.0.0.1]:80", "not an IPv6 address"},
                                       {"[fe80::1%eth0]:80", "not an IPv6 address"},
                                       {"[]:80", "not an IPv6 address"}}) {
    INFO(b.text);
    auto parsed = parse_listen_address(b.text);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().message.find(b.message_part) != std::string::npos);
    CHECK(parsed.error().message.starts_with("--listen \"" + b.text + "\""));
  }
}
