#include "checks/online/pip_index.h"

#include <algorithm>
#include <cerrno>

#include "agent/http/http_client.h"
#include "checks/formats/pip_config.h"

namespace pycheck {
namespace {

// pip's own Accept header: PEP 691 JSON first, PEP 503 HTML as a fallback.
constexpr const char* kAccept =
    "Accept: application/vnd.pypi.simple.v1+json, "
    "application/vnd.pypi.simple.v1+html;q=0.1, text/html;q=0.01";

PipIndexComparison skipped(std::string note, json details) {
  PipIndexComparison c;
  c.note = std::move(note);
  details["status"] = "skipped";
  details["reason"] = c.note;
  c.details = std::move(details);
  return c;
}

PipIndexComparison failed(std::string note, json details, const Error* cause = nullptr) {
  PipIndexComparison c = skipped(std::move(note), std::move(details));
  c.state = PipIndexComparison::State::failed;
  c.details["status"] = "error";
  if (cause != nullptr && cause->timed_out()) c.deadline = *cause;
  return c;
}

bool is_http(const std::string& url) {
  return url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
}

}  // namespace

PipIndexComparison compare_pip_with_index(const Context& ctx, const PythonRuntime& runtime,
                                          const Pep440Version& installed,
                                          std::string_view default_index) {
  json details = json::object();
  if (!ctx.online || ctx.http == nullptr) {
    return skipped(
        "comparing with the newest pip on the package index needs the network "
        "(--online)",
        std::move(details));
  }
  // Which index: the files pip reads for this interpreter, then PIP_INDEX_URL,
  // else pip's default.
  const std::string sys_prefix =
      runtime.venv ? runtime.venv->prefix : (runtime.base ? runtime.base->prefix : "");
  const auto env_file = ctx.env.get("PIP_CONFIG_FILE");
  const bool env_file_exists = env_file && !env_file->empty() && ctx.fs.exists(*env_file);
  const PipConfigPlan plan = pip_config_files(ctx.env, sys_prefix, env_file_exists);
  std::vector<LoadedPipConfig> loaded;
  json read = json::array();
  for (const PipConfigFile& file : plan.files) {
    auto text = ctx.fs.read_file(file.path, 1u << 20);
    if (!text) {
      if (text.error().errno_value == ENOENT || text.error().errno_value == ENOTDIR) continue;
      return failed("cannot tell which index pip uses: " + text.error().message, std::move(details),
                    &text.error());
    }
    auto sections = parse_pip_config(*text);
    if (!sections) {
      return failed(
          "cannot tell which index pip uses: " + file.path + ": " + sections.error().message,
          std::move(details));
    }
    read.push_back({{"path", file.path}, {"kind", file.kind}});
    loaded.push_back({file, std::move(*sections)});
  }
  details["config_files_read"] = std::move(read);
  details["config_disabled_by_PIP_CONFIG_FILE"] = plan.config_disabled;
  const PipIndexSetting setting = resolve_pip_index(ctx.env, loaded, default_index);
  json extras = json::array();
  for (const std::string& u : setting.extra_index_urls) extras.push_back(redact_url(u));
  details["extra_index_urls"] = std::move(extras);
  details["extra_index_urls_source"] = setting.extra_source;
  details["extra_index_urls_compared"] = false;
  const std::string shown_index = redact_url(setting.index_url);
  const std::string from = " (" + setting.source + ")";  // the notes say where the index came from
  details["index_url"] = shown_index;
  details["index_url_source"] = setting.source;
  if (!is_http(setting.index_url)) {
    return skipped(
        "index \"" + shown_index + "\"" + from + " is not http(s); pycheck fetches only http(s)",
        std::move(details));
  }
  std::string url = setting.index_url;
  if (url.back() != '/') url += '/';
  url += "pip/";
  details["url"] = redact_url(url);

  HttpRequestOptions request;
  request.headers.push_back(kAccept);
  auto response = ctx.http->get(url, request);
  if (!response) {
    return failed(response.error().message + from, std::move(details), &response.error());
  }
  const std::string type = response->content_type;
  const bool is_json =
      type.find("json") != std::string::npos ||
      (type.empty() && response->body.find_first_not_of(" \t\r\n") != std::string::npos &&
       response->body[response->body.find_first_not_of(" \t\r\n")] == '{');
  details["format"] = is_json ? "json (PEP 691)" : "html (PEP 503)";
  auto files =
      is_json ? parse_simple_index_json(response->body) : parse_simple_index_html(response->body);
  if (!files) {
    return failed(redact_url(url) + ": " + files.error().message + from, std::move(details));
  }

  const std::string python_text = runtime.version();
  const auto python_version = parse_pep440(python_text);
  details["requires_python_checked_against"] = python_version ? json(python_text) : json(nullptr);
  std::vector<Pep440Version> candidates;
  int yanked = 0, pre_releases = 0, python_excluded = 0, specifiers_not_understood = 0;
  for (const IndexFile& file : *files) {
    auto text = release_version_of(file.filename, "pip");
    if (!text) continue;
    auto version = parse_pep440(*text);
    if (!version) continue;
    if (file.yanked) {
      ++yanked;
      continue;
    }
    if (version->pre_kind != 0 || version->dev) {
      ++pre_releases;
      continue;
    }
    if (!file.requires_python.empty() && python_version) {
      auto allowed = requires_python_allows(file.requires_python, *python_version);
      if (!allowed) {
        ++specifiers_not_understood;  // kept: pip would decide, pycheck cannot
      } else if (!*allowed) {
        ++python_excluded;
        continue;
      }
    }
    candidates.push_back(*version);
  }
  details["ignored_files"] = {{"yanked", yanked},
                              {"pre_releases", pre_releases},
                              {"requires_python_excludes_this_python", python_excluded}};
  details["requires_python_not_understood"] = specifiers_not_understood;
  if (candidates.empty()) {
    return failed(redact_url(url) + ": no installable pip release listed (" +
                      std::to_string(files->size()) + " files)" + from,
                  std::move(details));
  }
  const auto less = [](const Pep440Version& a, const Pep440Version& b) {
    return compare_pep440(a, b) < 0;
  };
  std::sort(candidates.begin(), candidates.end(), less);
  PipIndexComparison c;
  c.state = PipIndexComparison::State::compared;
  c.latest = candidates.back().str();
  for (const Pep440Version& v : candidates) {
    if (compare_pep440(v, installed) > 0 &&
        (c.newer_releases.empty() ||
         compare_pep440(*parse_pep440(c.newer_releases.back()), v) != 0)) {
      c.newer_releases.push_back(v.str());
    }
  }
  c.behind = !c.newer_releases.empty();
  details["status"] = "compared";
  details["latest"] = c.latest;
  details["releases_behind"] = c.newer_releases.size();
  details["newer_releases"] = c.newer_releases;
  const int versus_latest = compare_pep440(installed, candidates.back());
  if (c.behind) {
    c.note = "pip " + installed.str() + " is " + std::to_string(c.newer_releases.size()) +
             (c.newer_releases.size() == 1 ? " release" : " releases") + " behind " + c.latest +
             " on " + shown_index + from;
  } else if (versus_latest > 0) {
    c.note = "pip " + installed.str() + " is newer than " + c.latest + ", the latest on " +
             shown_index + from;
  } else {
    c.note = "pip " + installed.str() + " is the latest on " + shown_index + from;
  }
  details["reason"] = nullptr;
  c.details = std::move(details);
  return c;
}

}  // namespace pycheck
