// pip.version's online half, the parsing: pip.conf reading and precedence,
// pip's default index, and simple-index pages (PEP 691 JSON, PEP 503 HTML) with
// Requires-Python. The check against a local index: pip_index_test.cpp.
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
#include "checks/facts/python_commands.h"
#include "checks/formats/pip_config.h"
#include "checks/online/pip_index.h"
#include "tests/unit/local_server.h"
#include "tests/unit/outcome_text.h"
#include "tests/unit/python_image_fixture.h"

using namespace pycheck;
using test::FixtureRoot;

TEST_CASE("pip.conf: INI sections, keys, comments, continuations, errors", "[pipindex]") {
  auto ok = parse_pip_config(
      "# comment\n; other comment\n[global]\nindex_url = https://a.example/simple\n"
      "timeout: 60\n\n[install]\nINDEX-URL=https://b.example/simple \r\n"
      "extra-index-url =\n  https://c.example/simple\n  https://d.example/simple\n");
  REQUIRE(ok);
  CHECK(ok->at("global").at("index-url") == "https://a.example/simple");
  CHECK(ok->at("global").at("timeout") == "60");
  CHECK(ok->at("install").at("index-url") == "https://b.example/simple");
  CHECK(ok->at("install").at("extra-index-url") ==
        "\nhttps://c.example/simple\nhttps://d.example/simple");
  CHECK(parse_pip_config("").value().empty());

  auto outside = parse_pip_config("index-url = x\n");
  REQUIRE_FALSE(outside);
  CHECK(outside.error().message == "line 1: key outside any [section]");
  auto no_sep = parse_pip_config("[global]\njust words\n");
  REQUIRE_FALSE(no_sep);
  CHECK(no_sep.error().message == "line 2: expected \"key = value\"");
  CHECK_FALSE(parse_pip_config("[global\n"));
}

TEST_CASE("pip.conf: the files pip reads, in its order", "[pipindex]") {
  Environment env;
  auto plan = pip_config_files(env, "/usr/local", false);
  std::vector<std::string> paths;
  for (const auto& f : plan.files) paths.push_back(f.path + " " + f.kind);
  CHECK(paths == std::vector<std::string>{"/etc/xdg/pip/pip.conf global", "/etc/pip.conf global",
                                          "/root/.pip/pip.conf user",
                                          "/root/.config/pip/pip.conf user",
                                          "/usr/local/pip.conf site"});

  env.set("XDG_CONFIG_DIRS", "/a:/b/");
  env.set("HOME", "/home/u/");
  env.set("XDG_CONFIG_HOME", "/cfg");
  env.set("PIP_CONFIG_FILE", "/srv/pip.ini");
  paths.clear();
  for (const auto& f : pip_config_files(env, "/opt/venv", false).files) paths.push_back(f.path);
  CHECK(paths == std::vector<std::string>{"/a/pip/pip.conf", "/b/pip/pip.conf", "/etc/pip.conf",
                                          "/home/u/.pip/pip.conf", "/cfg/pip/pip.conf",
                                          "/opt/venv/pip.conf", "/srv/pip.ini"});
  // An existing PIP_CONFIG_FILE makes pip skip the user files.
  paths.clear();
  for (const auto& f : pip_config_files(env, "/opt/venv", true).files) paths.push_back(f.path);
  CHECK(paths == std::vector<std::string>{"/a/pip/pip.conf", "/b/pip/pip.conf", "/etc/pip.conf",
                                          "/opt/venv/pip.conf", "/srv/pip.ini"});
  env.set("PIP_CONFIG_FILE", "/dev/null");  // os.devnull: no file at all
  auto disabled = pip_config_files(env, "/usr/local", true);
  CHECK(disabled.config_disabled);
  CHECK(disabled.files.empty());
}

TEST_CASE("pip.conf: index-url precedence", "[pipindex]") {
  auto load = [](std::string path, std::string text) {
    return LoadedPipConfig{{path, "x"}, parse_pip_config(text).value()};
  };
  const auto global_etc = load("/etc/pip.conf", "[global]\nindex-url = http://etc/g\n");
  const auto user_global =
      load("/root/.config/pip/pip.conf", "[global]\nindex-url = http://user/g\n");
  const auto etc_install = load("/etc/pip.conf", "[install]\nindex-url = http://etc/i\n");
  const auto site_download =
      load("/usr/local/pip.conf",
           "[download]\nindex-url = http://site/d\n[global]\nextra-index-url = http://x/1 "
           "http://x/2\n");
  Environment env;
  // Later files beat earlier ones within a section.
  auto a = resolve_pip_index(env, {global_etc, user_global});
  CHECK(a.index_url == "http://user/g");
  CHECK(a.source == "/root/.config/pip/pip.conf [global]");
  // [install] of any file beats [global] of a later file (pip orders by section).
  auto b = resolve_pip_index(env, {etc_install, user_global});
  CHECK(b.index_url == "http://etc/i");
  CHECK(b.source == "/etc/pip.conf [install]");
  // [download] does not apply to pip install; extra-index-url is split on whitespace.
  auto c = resolve_pip_index(env, {global_etc, site_download});
  CHECK(c.index_url == "http://etc/g");
  CHECK(c.extra_index_urls == std::vector<std::string>{"http://x/1", "http://x/2"});
  // The environment beats every file.
  env.set("PIP_INDEX_URL", "http://env/simple");
  auto d = resolve_pip_index(env, {etc_install, user_global});
  CHECK(d.index_url == "http://env/simple");
  CHECK(d.source == "PIP_INDEX_URL");
}

TEST_CASE("pip's index: pip's own default when nothing configures one", "[pipindex]") {
  // Nothing at all: pip uses PyPI, and so does the comparison.
  auto none = resolve_pip_index(Environment{}, {});
  CHECK(none.index_url == "https://pypi.org/simple");
  CHECK(none.source == "pip's default");
  // Extra indexes add to the default; they do not replace it.
  Environment extra_env;
  extra_env.set("PIP_EXTRA_INDEX_URL", "http://x/1");
  const auto extra_file = LoadedPipConfig{
      {"/etc/pip.conf", "global"},
      parse_pip_config("[global]\nextra-index-url = http://x/2\ntimeout = 5\n").value()};
  for (const auto& setting :
       {resolve_pip_index(extra_env, {}), resolve_pip_index(Environment{}, {extra_file})}) {
    CHECK(setting.index_url == "https://pypi.org/simple");
    CHECK(setting.source == "pip's default");
    CHECK(setting.extra_index_urls.size() == 1);
  }
  // Anything configured wins, as today; an empty PIP_INDEX_URL configures nothing.
  Environment env;
  env.set("PIP_INDEX_URL", "");
  CHECK(resolve_pip_index(env, {}).source == "pip's default");
  env.set("PIP_INDEX_URL", "http://env/simple");
  CHECK(resolve_pip_index(env, {}).index_url == "http://env/simple");
  // Tests stand a local index in for PyPI.
  auto injected = resolve_pip_index(Environment{}, {}, "http://127.0.0.1:1/simple");
  CHECK(injected.index_url == "http://127.0.0.1:1/simple");
  CHECK(injected.source == "pip's default");
}

TEST_CASE("simple index pages: JSON, HTML, file names, Requires-Python", "[pipindex]") {
  auto json_files = parse_simple_index_json(
      R"({"files":[{"filename":"pip-1.0.tar.gz","yanked":false},)"
      R"({"filename":"pip-2.0-py3-none-any.whl","yanked":"bad","requires-python":">=3.9"},)"
      R"({"filename":"pip-3.0.tar.gz","yanked":true},{"filename":"pip-4.0.tar.gz","yanked":""}]})");
  REQUIRE(json_files);
  REQUIRE(json_files->size() == 4);
  CHECK_FALSE((*json_files)[0].yanked);
  CHECK((*json_files)[1].yanked);
  CHECK((*json_files)[1].requires_python == ">=3.9");
  CHECK((*json_files)[2].yanked);
  CHECK_FALSE((*json_files)[3].yanked);
  CHECK_FALSE(parse_simple_index_json("{not json"));
  CHECK_FALSE(parse_simple_index_json(R"({"projects":[]})"));
  CHECK_FALSE(parse_simple_index_json(R"({"files":[{"url":"x"}]})"));

  auto html_files = parse_simple_index_html(
      "<html><body><abbr>x</abbr><a href=\"../f/pip-1.0.tar.gz#sha256=1\" "
      "data-requires-python=\"&gt;=3.7, &lt;4\">pip-1.0.tar.gz</a>\n"
      "<A HREF='/f/pip-2.0-py3-none-any.whl' data-yanked>pip-2.0-py3-none-any.whl</A>"
      "<a href=/f/pip-3.0.tar.gz?x=1 data-yanked=\"\"></a></body></html>");
  REQUIRE(html_files);
  REQUIRE(html_files->size() == 3);
  CHECK((*html_files)[0].filename == "pip-1.0.tar.gz");
  CHECK((*html_files)[0].requires_python == ">=3.7, <4");
  CHECK_FALSE((*html_files)[0].yanked);
  CHECK((*html_files)[1].yanked);
  CHECK((*html_files)[2].filename == "pip-3.0.tar.gz");  // from href when the text is empty
  CHECK((*html_files)[2].yanked);
  CHECK_FALSE(parse_simple_index_html("<a href=\"x>pip-1.0.tar.gz</a>"));
  CHECK_FALSE(parse_simple_index_html("<a href=x>pip-1.0.tar.gz"));

  CHECK(release_version_of("pip-24.0-py3-none-any.whl", "pip") == "24.0");
  CHECK(release_version_of("pip-24.0.tar.gz", "pip") == "24.0");
  CHECK(release_version_of("pip-24.0b1.tar.gz", "pip") == "24.0b1");
  CHECK_FALSE(release_version_of("pip-tools-7.0.tar.gz", "pip"));
  CHECK_FALSE(release_version_of("setuptools-1.0.tar.gz", "pip"));
  CHECK_FALSE(release_version_of("pip-1.0.zip", "pip"));
  CHECK_FALSE(release_version_of("pip-1.0-py2.7.egg", "pip"));

  const auto py = parse_pep440("3.11.15").value();
  struct Vector {
    const char* spec;
    std::optional<bool> allowed;
  };
  for (const Vector& v : std::vector<Vector>{{">=3.9", true},
                                             {">=3.12", false},
                                             {" >=3.7 , <4 ", true},
                                             {">3.11", true},
                                             {"<3.11", false},
                                             {"<=3.11.15", true},
                                             {"==3.11.*", true},
                                             {"!=3.11.*", false},
                                             {">=3.8,!=3.9.*", true},
                                             {"~=3.10", true},
                                             {"~=3.11.16", false},
                                             {"==3.11.15", true},
                                             {"", true},
                                             {">=banana", std::nullopt},
                                             {"===3.11.15", std::nullopt},
                                             {"3.11", std::nullopt}}) {
    INFO(v.spec);
    CHECK(requires_python_allows(v.spec, py) == v.allowed);
  }
}
