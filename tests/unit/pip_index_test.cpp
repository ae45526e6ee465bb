// pip.version's online half: the check against a local index
// (tests/http/index_server.py on 127.0.0.1; nothing else is contacted). The
// parsing of pip.conf and index pages: pip_index_parsing_test.cpp.
#include "checks/online/pip_index.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "agent/http/http_client.h"
#include "checks/formats/pip_config.h"
#include "checks/facts/python_commands.h"
#include "tests/unit/local_server.h"
#include "tests/unit/outcome_text.h"
#include "tests/unit/python_image_fixture.h"

using namespace pycheck;
using test::FixtureRoot;

namespace {

// One running index_server.py.
class IndexServer : public test::LocalServer {
 public:
  IndexServer() : test::LocalServer("index_server.py", {}) {}
  std::string index(const std::string& root) const { return url("http", "/" + root); }
};

const IndexServer& server() {
  static IndexServer s;
  return s;
}

std::string status_of(const CheckOutcome& o) { return std::string(to_string(o.status)); }

// Runs pip.version with --online semantics through a real HttpClient.
CheckOutcome run_online(const FixtureRoot& root, const Environment& env,
                        const json& params = json::object(),
                        std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  const CheckInfo* check = find_check("pip.version");
  REQUIRE(check != nullptr);
  json merged = json::object();
  for (const CheckParam& p : check->params)
    merged[std::string(p.name)] = json::parse(p.default_json);
  for (const auto& [key, value] : params.items()) merged[key] = value;
  HttpClientOptions options;
  options.deadline = std::chrono::steady_clock::now() + timeout;
  options.request_timeout = timeout;
  const HttpClient http(options);
  RootFs fs = root.fs();
  Context ctx{fs, env, merged, std::chrono::system_clock::now(), true, &http};
  return check->run(ctx);
}

Environment env_with_index(const std::string& url) {
  Environment env = test::image_env();
  env.set("PIP_INDEX_URL", url);
  return env;
}

// The comparison for python3 on the judged PATH (pip 26.2.1), with
// `default_index` standing in for pip's default, PyPI.
PipIndexComparison compare_with_default(const FixtureRoot& root, const Environment& env,
                                        const std::string& default_index) {
  HttpClientOptions options;
  options.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  const HttpClient http(options);
  RootFs fs = root.fs();
  const json params = json::object();
  Context ctx{fs, env, params, std::chrono::system_clock::now(), true, &http};
  PythonRuntimeCache facts(ctx);
  const PythonCommand python3 =
      find_python_command(facts, make_search_path(env.get("PATH")), "python3");
  REQUIRE(python3.runtime);
  return compare_pip_with_index(ctx, *python3.runtime, parse_pep440("26.2.1").value(),
                                default_index);
}

}  // namespace

TEST_CASE("pip.version --online: latest pip from a local index", "[pipindex]") {
  FixtureRoot root;
  SECTION("JSON page: yanked, pre-release and Requires-Python excluded; behind warns") {
    test::add_image_python(root, "3.11.15", "24.0");
    auto out = run_online(root, env_with_index(server().index("json")));
    INFO(out.summary);
    const json& index = out.details["index"];
    CHECK(index["status"] == "compared");
    CHECK(index["format"] == "json (PEP 691)");
    CHECK(index["latest"] == "26.2.1");  // not 26.3 (yanked), 26.5b1, 26.4 (needs 3.12)
    CHECK(index["releases_behind"] == 3);
    CHECK(index["newer_releases"] == json::array({"25.0", "25.0.1", "26.2.1"}));
    CHECK(index["ignored_files"]["yanked"] == 2);
    CHECK(index["ignored_files"]["pre_releases"] == 2);
    CHECK(index["ignored_files"]["requires_python_excludes_this_python"] == 2);
    CHECK(index["index_url_source"] == "PIP_INDEX_URL");
    CHECK(status_of(out) == "warn");
    CHECK_THAT(said(out), Catch::Contains("pip 24.0 is 3 releases behind 26.2.1 on " +
                                            server().index("json")));
    CHECK(out.details["index_comparison"] ==
          "pip 24.0 is 3 releases behind 26.2.1 on " + server().index("json") + " (PIP_INDEX_URL)");
  }
  SECTION("HTML page, Python 3.12: 26.4 is a candidate") {
    test::add_image_python(root, "3.12.8", "26.4");
    Environment env = test::image_env(test::kImagePath, "3.12.8");
    env.set("PIP_INDEX_URL", server().index("html") + "/");
    auto out = run_online(root, env);
    INFO(out.summary);
    CHECK(out.details["index"]["format"] == "html (PEP 503)");
    CHECK(out.details["index"]["latest"] == "26.4");
    CHECK(out.details["index"]["releases_behind"] == 0);
    CHECK(status_of(out) == "pass");
    CHECK_THAT(out.summary, Catch::EndsWith("; pip 26.4 is the latest on " +
                                            server().index("html") + "/ (PIP_INDEX_URL)"));
  }
  SECTION("up to date on 3.11; behind_is = pass keeps an old pip informational") {
    test::add_image_python(root, "3.11.15", "26.2.1");
    auto current = run_online(root, env_with_index(server().index("html")));
    CHECK(status_of(current) == "pass");
    CHECK(current.details["index"]["latest"] == "26.2.1");

    FixtureRoot old_root;
    test::add_image_python(old_root, "3.11.15", "26.2");  // no advisory, one release behind
    auto warned = run_online(old_root, env_with_index(server().index("html")));
    CHECK(status_of(warned) == "warn");
    CHECK_THAT(warned.remediation(), Catch::Contains("the index has 26.2.1"));
    auto passed =
        run_online(old_root, env_with_index(server().index("html")), {{"behind_is", "pass"}});
    CHECK(status_of(passed) == "pass");
    CHECK(passed.details["index"]["releases_behind"] == 1);
  }
}

TEST_CASE("pip.version --online, nothing configured: PyPI itself, unreachable here", "[pipindex]") {
  // Only where pypi.org does not resolve (no network): a unit test never talks to it.
  addrinfo* found = nullptr;
  if (::getaddrinfo("pypi.org", "443", nullptr, &found) == 0) {
    ::freeaddrinfo(found);
    WARN("pypi.org resolves here: the real default index is not contacted");
    return;
  }
  FixtureRoot root;
  test::add_image_python(root, "3.11.15", "26.2.1");
  auto out = run_online(root, test::image_env(), json::object(), std::chrono::seconds(5));
  INFO(out.summary);
  CHECK(status_of(out) == "error");
  CHECK_THAT(out.summary, Catch::StartsWith("cannot compare pip 26.2.1 with the package index"));
  CHECK_THAT(said(out), Catch::Contains("https://pypi.org/simple/pip/"));
  CHECK_THAT(out.summary, Catch::EndsWith("https://pypi.org/simple (pip's default)"));
  CHECK_THAT(out.summary, !Catch::Contains("latest"));
  CHECK(out.details["index"]["index_url"] == "https://pypi.org/simple");
  CHECK(out.details["index"]["index_url_source"] == "pip's default");
  CHECK_THAT(out.remediation(), Catch::Contains("PIP_INDEX_URL"));
}

TEST_CASE("pip.version --online: index failures are errors naming the URL", "[pipindex]") {
  FixtureRoot root;
  test::add_image_python(root, "3.11.15", "26.2.1");
  struct Vector {
    std::string index_root;
    std::string reason;
  };
  for (const Vector& v : std::vector<Vector>{{"status404", "404"},
                                             {"status500", "500"},
                                             {"garbage", "not JSON"},
                                             {"notpep691", "\"files\""},
                                             {"empty", "no installable pip release"}}) {
    auto out = run_online(root, env_with_index(server().index(v.index_root)));
    INFO(v.index_root + ": " + out.summary);
    CHECK(status_of(out) == "error");
    CHECK_THAT(out.summary, Catch::StartsWith("cannot compare pip 26.2.1 with the package index"));
    CHECK_THAT(said(out), Catch::Contains(server().index(v.index_root) + "/pip/"));
    CHECK_THAT(said(out), Catch::Contains(v.reason));
    CHECK(out.details["index"]["status"] == "error");
    CHECK_FALSE(out.remediation().empty());
  }
  SECTION("credentials in the URL are redacted") {
    std::string url = server().index("status404");
    url.insert(std::string("http://").size(), "user:s3cret@");
    auto out = run_online(root, env_with_index(url));
    CHECK(status_of(out) == "error");
    CHECK_THAT(out.summary, !Catch::Contains("s3cret"));
    CHECK_THAT(out.details.dump(), !Catch::Contains("s3cret"));
  }
  SECTION("a slow index times out within the deadline") {
    // The index answers after 10 s: a deadline not kept shows as an answer.
    auto out = run_online(root, env_with_index(server().index("slow")), json::object(),
                          std::chrono::milliseconds(1500));
    INFO(out.summary);
    CHECK(status_of(out) == "error");
    CHECK_THAT(said(out), Catch::Contains("/slow/pip/"));
    CHECK_THAT(said(out), Catch::Contains("timed out after"));
    CHECK_THAT(said(out), Catch::Contains("the deadline"));
  }
}

TEST_CASE("pip.version --online: which index, from pip's config files", "[pipindex]") {
  FixtureRoot root;
  test::add_image_python(root, "3.11.15", "26.2.1");
  SECTION("nothing configured: pip's default index, named as such") {
    // A local index stands in for PyPI (nothing here may contact it).
    auto out = compare_with_default(root, test::image_env(), server().index("json"));
    CHECK(out.state == PipIndexComparison::State::compared);
    CHECK(out.latest == "26.2.1");
    CHECK(out.details["index_url"] == server().index("json"));
    CHECK(out.details["index_url_source"] == "pip's default");
    CHECK(out.note == "pip 26.2.1 is the latest on " + server().index("json") + " (pip's default)");
    // Unreachable: an error naming the URL and where it came from, never "up to date".
    auto down = compare_with_default(root, test::image_env(), "http://127.0.0.1:1/simple");
    CHECK(down.state == PipIndexComparison::State::failed);
    CHECK(down.details["status"] == "error");
    CHECK_THAT(down.note, Catch::Contains("http://127.0.0.1:1/simple/pip/"));
    CHECK_THAT(down.note, Catch::EndsWith("(pip's default)"));
    CHECK_FALSE(down.behind);
    CHECK(down.latest.empty());
  }
  SECTION("/etc/pip.conf [global], overridden by [install] and by PIP_INDEX_URL") {
    root.file("/etc/pip.conf", "[global]\nindex-url = " + server().index("status404") +
                                   "\nextra-index-url = http://user:pw@127.0.0.1:1/extra\n");
    auto global = run_online(root, test::image_env());
    CHECK(status_of(global) == "error");
    CHECK(global.details["index"]["index_url_source"] == "/etc/pip.conf [global]");
    CHECK(global.details["index"]["extra_index_urls"] ==
          json::array({"http://***@127.0.0.1:1/extra"}));
    root.file("/root/.config/pip/pip.conf",
              "[install]\nindex-url = " + server().index("json") + "\n");
    auto install = run_online(root, test::image_env());
    CHECK(status_of(install) == "pass");
    CHECK(install.details["index"]["index_url_source"] == "/root/.config/pip/pip.conf [install]");
    auto env = env_with_index(server().index("html"));
    auto overridden = run_online(root, env);
    CHECK(overridden.details["index"]["index_url"] == server().index("html"));
    CHECK(overridden.details["index"]["format"] == "html (PEP 503)");
  }
  SECTION("a venv's site config (<venv>/pip.conf) applies to the venv's python") {
    root.symlink("/opt/venv/bin/python3", "/usr/local/bin/python3")
        .file("/opt/venv/pyvenv.cfg", "home = /usr/local/bin\nversion = 3.11.15\n")
        .file("/opt/venv/lib/python3.11/site-packages/pip-26.2.1.dist-info/METADATA",
              test::pip_metadata("26.2.1"))
        .mkdir("/opt/venv/lib/python3.11/site-packages/pip")
        .file("/opt/venv/pip.conf", "[global]\nindex-url = " + server().index("json") + "\n")
        .file("/usr/local/pip.conf", "[global]\nindex-url = " + server().index("status500") + "\n");
    auto venv = run_online(root, test::image_env("/opt/venv/bin:" + std::string(test::kImagePath)));
    INFO(venv.summary);
    CHECK(status_of(venv) == "pass");
    CHECK(venv.details["index"]["index_url_source"] == "/opt/venv/pip.conf [global]");
    auto base = run_online(root, test::image_env());  // the base python reads /usr/local/pip.conf
    CHECK(status_of(base) == "error");
    CHECK_THAT(said(base), Catch::Contains("500"));
  }
  SECTION("PIP_CONFIG_FILE=/dev/null disables files; garbage or FIFO config is an error") {
    root.file("/etc/pip.conf", "[global]\nindex-url = " + server().index("json") + "\n");
    Environment env = test::image_env();
    env.set("PIP_CONFIG_FILE", "/dev/null");
    // pip reads no file, so /etc/pip.conf's index does not apply: pip's default does.
    auto disabled = compare_with_default(root, env, server().index("html"));
    CHECK(disabled.state == PipIndexComparison::State::compared);
    CHECK(disabled.details["index_url_source"] == "pip's default");
    CHECK(disabled.details["config_disabled_by_PIP_CONFIG_FILE"] == true);

    root.file("/etc/pip.conf", "index-url = nowhere\n");
    auto garbage = run_online(root, test::image_env());
    CHECK(status_of(garbage) == "error");
    CHECK_THAT(said(garbage),
               Catch::Contains("/etc/pip.conf: line 1: key outside any [section]"));

    std::filesystem::remove(root.host_path("/etc/pip.conf"));
    REQUIRE(::mkfifo(root.host_path("/etc/pip.conf").c_str(), 0644) == 0);
    auto fifo = run_online(root, test::image_env());
    CHECK(status_of(fifo) == "error");
    CHECK_THAT(said(fifo), Catch::Contains("/etc/pip.conf"));
  }
  SECTION("offline: today's result, and a note that the comparison needs --online") {
    root.file("/etc/pip.conf", "[global]\nindex-url = " + server().index("json") + "\n");
    auto offline = test::run_check("pip.version", root, test::image_env());
    CHECK(status_of(offline) == "pass");
    CHECK(offline.details["index"]["status"] == "skipped");
    CHECK_THAT(offline.details["index_comparison"].get<std::string>(), Catch::Contains("--online"));
    CHECK(offline.summary.find("latest") == std::string::npos);
  }
}
