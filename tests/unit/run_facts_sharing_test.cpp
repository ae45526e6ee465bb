// The checks of one run share what they read (RunFacts): the dpkg database,
// Python installations and runtimes, PATH lookups. Each fact is read once per
// run (shown by changing the file after the first read: the run keeps the
// first answer), and sharing changes nothing a check reports.
#include <catch2/catch.hpp>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "agent/core/run_facts.h"
#include "checks/check_table.h"
#include "checks/facts/dpkg_database.h"
#include "checks/facts/python_commands.h"
#include "checks/facts/python_discovery.h"
#include "checks/facts/python_install.h"
#include "tests/unit/python_image_fixture.h"

using namespace pycheck;
using test::FixtureRoot;

namespace {

// A status file of `count` installed packages, netbase among them when asked.
std::string status_file(int count, bool with_netbase) {
  std::string text;
  for (int i = 0; i < count; ++i) {
    text += "Package: lib" + std::to_string(i) +
            "\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1." + std::to_string(i) +
            "-1\nDescription: filler\n a long description line\n\n";
  }
  if (with_netbase) {
    text += "Package: netbase\nStatus: install ok installed\nArchitecture: all\nVersion: 6.4\n\n";
  }
  return text;
}

CheckOutcome run_with(std::string_view id, const FixtureRoot& root, const Environment& env,
                      const RunFacts* facts) {
  const CheckInfo* check = find_check(id);  // no REQUIRE: this runs on threads too
  if (check == nullptr) throw std::runtime_error("no check " + std::string(id));
  json params = json::object();
  for (const CheckParam& p : check->params)
    params[std::string(p.name)] = json::parse(p.default_json);
  const RootFs fs = root.fs();
  const auto now = std::chrono::system_clock::time_point(std::chrono::hours(24 * 20000));
  const Context ctx{fs, env, params, now, false, nullptr, facts};
  return check->run(ctx);
}

json as_json(const CheckOutcome& out) {
  return {{"status", to_string(out.status)},
          {"summary", out.summary},
          {"details", out.details},
          {"remediation", out.remediation()}};
}

}  // namespace

TEST_CASE("dpkg_database_of reads the status file once per run", "[run_facts_sharing]") {
  FixtureRoot root;
  root.file("/var/lib/dpkg/status", status_file(300, true));
  const RootFs fs = root.fs();
  RunFacts facts;
  const auto first = dpkg_database_of(fs, &facts);
  REQUIRE(first->ok());
  CHECK((*first)->records().size() == 301);

  root.file("/var/lib/dpkg/status", status_file(2, false));  // a second read would see this
  const auto again = dpkg_database_of(fs, &facts);
  CHECK(again.get() == first.get());
  CHECK((*again)->find_installed("netbase") != nullptr);

  const auto alone = dpkg_database_of(fs, nullptr);  // no RunFacts: read afresh
  REQUIRE(alone->ok());
  CHECK((*alone)->records().size() == 2);
  CHECK(alone.get() != first.get());

  SECTION("a missing database is shared as missing") {
    FixtureRoot empty;
    const RootFs empty_fs = empty.fs();
    RunFacts run;
    CHECK(dpkg_database_of(empty_fs, &run)->missing());
    CHECK(dpkg_database_of(empty_fs, &run).get() == dpkg_database_of(empty_fs, &run).get());
  }
}

TEST_CASE("checks of one run use the shared dpkg database", "[run_facts_sharing]") {
  FixtureRoot root;
  root.file("/etc/services", "http 80/tcp www\nhttps 443/tcp\nhttps 443/udp\ndomain 53/udp\n")
      .file("/etc/protocols", "ip 0 IP\ntcp 6 TCP\nudp 17 UDP\n")
      .file("/var/lib/dpkg/status", status_file(5, true));
  const Environment env;
  RunFacts facts;
  const CheckOutcome first = run_with("net.services", root, env, &facts);
  CHECK(first.details["netbase"]["installed"] == true);

  root.file("/var/lib/dpkg/status", status_file(5, false));
  // Same run: the database read by the first check is used, not read again.
  CHECK(run_with("net.services", root, env, &facts).details["netbase"]["installed"] == true);
  // A new run (or no RunFacts) reads the changed file.
  RunFacts next_run;
  CHECK(run_with("net.services", root, env, &next_run).details["netbase"]["installed"] == false);
  CHECK(run_with("net.services", root, env, nullptr).details["netbase"]["installed"] == false);
}

TEST_CASE("a Python installation is described once per run", "[run_facts_sharing]") {
  FixtureRoot root;
  test::add_image_python(root);
  const RootFs fs = root.fs();
  RunFacts facts;
  auto install = describe_python_install(fs, "/usr/local/bin/python3.11", &facts);
  REQUIRE(install.ok());
  CHECK(install->version == "3.11.15");

  root.file("/usr/local/include/python3.11/patchlevel.h", test::patchlevel_h("3.11.16", 3, 11));
  // The runtime (another fact) builds on the shared installation.
  const PythonRuntime rt =
      describe_python_runtime(fs, "/usr/local/bin/python3", "/usr/local/bin/python3.11", &facts);
  REQUIRE(rt.base);
  CHECK(rt.base->version == "3.11.15");
  const DiscoveredPythons found = discover_python_installs(fs, test::image_env(), {}, &facts);
  REQUIRE(found.bases.size() == 1);
  CHECK(found.bases[0].version == "3.11.15");
  // Without RunFacts everything is read afresh.
  CHECK(describe_python_install(fs, "/usr/local/bin/python3.11")->version == "3.11.16");

  SECTION("checks share it through PythonRuntimeCache") {
    const Environment env = test::image_env();
    CHECK(run_with("python.eol", root, env, &facts).details["python3"]["real_path"] ==
          "/usr/local/bin/python3.11");
    const CheckOutcome installs = run_with("python.installs", root, env, &facts);
    CHECK(installs.details["installations"][0]["version"] == "3.11.15");
    const CheckOutcome fresh = run_with("python.installs", root, env, nullptr);
    CHECK(fresh.details["installations"][0]["version"] == "3.11.16");
  }
}

TEST_CASE("PythonRuntimeCache shares PATH lookups within a run", "[run_facts_sharing]") {
  FixtureRoot root;
  test::add_image_python(root);
  const RootFs fs = root.fs();
  const SearchPath path = make_search_path(test::kImagePath);
  RunFacts facts;
  const Environment env;
  const json params = json::object();
  const Context ctx{fs, env, params, std::chrono::system_clock::now(), false, nullptr, &facts};
  PythonRuntimeCache first(ctx);
  CHECK(first.command(path, "python3").real_path == "/usr/local/bin/python3.11");
  root.symlink("/usr/local/bin/python3.12", "python3.11");
  root.symlink("/usr/local/bin/python3", "python3.12");
  PythonRuntimeCache second(ctx);  // another check of the same run
  CHECK(second.command(path, "python3").chain.size() == 1);  // the first lookup, shared
  PythonRuntimeCache alone(fs);
  CHECK(alone.command(path, "python3").chain.size() == 2);  // python3 -> 3.12 -> 3.11
}

TEST_CASE("sharing changes nothing the checks report", "[run_facts_sharing]") {
  // The image's Python, Debian's python3 next to it, a venv and pip scripts.
  FixtureRoot root;
  test::add_image_python(root);
  test::add_debian_python(root, true);
  root.file("/opt/venv/pyvenv.cfg", "home = /usr/local/bin\nversion = 3.11.15\n")
      .symlink("/opt/venv/bin/python3", "/usr/local/bin/python3")
      .symlink("/opt/venv/bin/python", "python3")
      .file("/etc/services", "http 80/tcp\n")
      .file("/etc/protocols", "tcp 6 TCP\n")
      .file("/etc/os-release", "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n");
  const Environment env = test::image_env("/opt/venv/bin:" + std::string(test::kImagePath));
  const std::vector<std::string_view> ids{"python.path", "python.installs", "pip.version",
                                          "python.venv", "python.eol",      "python.bytecode",
                                          "os.eol",      "net.services",    "locale"};
  std::vector<json> alone;
  for (std::string_view id : ids) alone.push_back(as_json(run_with(id, root, env, nullptr)));

  // All at once on threads, as the runner does, sharing one RunFacts.
  RunFacts facts;
  std::vector<json> shared(ids.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    threads.emplace_back([&, i] { shared[i] = as_json(run_with(ids[i], root, env, &facts)); });
  }
  for (std::thread& t : threads) t.join();
  for (std::size_t i = 0; i < ids.size(); ++i) {
    INFO(ids[i]);
    CHECK(shared[i] == alone[i]);
  }
}
