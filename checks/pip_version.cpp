// pip.version: the pip that `python3 -m pip` imports, its version against known
// security fixes, and the pip commands on PATH that start that Python.
#include <algorithm>
#include <string>
#include <vector>

#include "agent/core/findings.h"
#include "agent/core/text.h"
#include "checks/check_table.h"
#include "checks/data/pip_advisories.h"
#include "checks/facts/python_commands.h"
#include "checks/formats/cpython_layout.h"
#include "checks/formats/dist_info.h"
#include "checks/formats/pip_config.h"
#include "checks/online/pip_index.h"

namespace pycheck {
namespace {

constexpr std::string_view kExplain =
    "Since 2024-09 the official python image installs pip with CPython's own ensurepip, the "
    "same pip venv installs; the version is no longer written in the Dockerfile, so the only "
    "record is the installed dist-info. Images are rebuilt when Python or Debian changes, not "
    "when pip does, so an image (and every venv made from it) can carry a pip with known "
    "security problems: older than 23.3 is flagged for CVE-2023-5752 by every scanner, which "
    "included the 3.10 images with pip 23.0.1.\n\n"
    "pycheck finds the Python that python3 runs on the judged PATH, walks its site-packages in "
    "import order (a venv's own first, then the base's when include-system-site-packages is "
    "true; Debian's /usr/local/lib/python3.X/dist-packages then /usr/lib/python3/dist-packages) "
    "and reads the first pip-*.dist-info/METADATA. It compares the version with an embedded "
    "table of pip releases that fixed security problems (pip NEWS and advisories, up to 26.2), "
    "lists the pip, pip3 and pip3.X commands on PATH with the Python their shebang starts, and "
    "the pip wheel bundled in ensurepip.\n\n"
    "With --online it also asks the package index this pip would use for the newest pip. The "
    "index is found as pip finds it: PIP_INDEX_URL, else index-url from pip.conf files in "
    "pip's order (global /etc/xdg/pip and /etc/pip.conf, user ~/.pip and ~/.config/pip, the "
    "interpreter's or venv's sys.prefix, PIP_CONFIG_FILE; [install] over [global]), else "
    "pip's own default, https://pypi.org/simple; details name the index and where it came "
    "from. The project page is fetched as PEP 691 JSON or PEP 503 HTML; yanked files, "
    "pre-releases and releases whose Requires-Python excludes this Python are not candidates. "
    "extra-index-url values are reported, not fetched. Offline, details say the comparison "
    "needs --online.\n\n"
    "It warns when python3 has no pip, when two pip dist-info folders sit side by side (a "
    "half-finished upgrade), when pip lacks a fix from the table, and (with --online, "
    "behind_is = \"warn\", the default) when the index has a newer final pip: pip fixes "
    "problems only in new releases, never on older branches, so any lag means missing fixes "
    "the table may not know yet. Set behind_is = \"pass\" when pip is pinned on purpose. A "
    "failed fetch is an error naming the URL, never a pass. Upgrade with "
    "`python3 -m pip install --upgrade pip` in the Dockerfile, or rebuild from a current "
    "python image.";

struct FoundPip {
  std::string site_dir;
  std::vector<std::string> dist_infos;  // full paths of pip-*.dist-info folders
  bool has_package = false;             // <site>/pip/ exists: what `import pip` loads
};

std::optional<FoundPip> find_pip(const RootFs& fs, const std::vector<std::string>& site_dirs) {
  for (const std::string& dir : site_dirs) {
    auto entries = fs.list_dir(dir);
    if (!entries) continue;
    FoundPip found;
    found.site_dir = dir;
    for (const DirEntry& e : *entries) {
      auto dist = parse_dist_info_dir_name(e.name);
      if (dist && (dist->name == "pip" || dist->name == "Pip" || dist->name == "PIP")) {
        found.dist_infos.push_back(path_join(dir, e.name));
      }
      if (e.name == "pip" && fs.is_directory(path_join(dir, e.name))) found.has_package = true;
    }
    if (found.has_package || !found.dist_infos.empty()) return found;
  }
  return std::nullopt;
}

// `__version__ = "24.0"` in pip/__init__.py: the version of the code that runs.
std::optional<std::string> version_in_init(const RootFs& fs, const std::string& site_dir) {
  auto text = fs.read_file(site_dir + "/pip/__init__.py", 1u << 20);
  if (!text) return std::nullopt;
  std::size_t pos = text->find("__version__");
  if (pos == std::string::npos) return std::nullopt;
  std::size_t open = text->find_first_of("\"'", pos);
  std::size_t eol = text->find('\n', pos);
  if (open == std::string::npos || open > eol) return std::nullopt;
  std::size_t close = text->find((*text)[open], open + 1);
  if (close == std::string::npos || close > eol) return std::nullopt;
  return text->substr(open + 1, close - open - 1);
}

// The pip scripts on PATH (pip, pip3, pip3.X) and the Python each starts;
// `bound` gets the names of those starting `rt`.
json commands_json(PythonRuntimeCache& pythons, const SearchPath& path, const PythonRuntime& rt,
                   std::vector<std::string>& bound) {
  std::vector<std::string> names{"pip", "pip3"};
  if (rt.base) names.push_back("pip" + rt.base->minor);
  json commands = json::array();
  for (const std::string& name : names) {
    ScriptCommand script = find_script_command(pythons, path, name);
    json item = to_json(script);
    const bool same = script.runtime && script.runtime->identity() == rt.identity();
    item["starts_python3"] = same;
    commands.push_back(std::move(item));
    if (same) bound.push_back(name);
  }
  return commands;
}

json ensurepip_json(const PythonRuntime& rt) {
  if (!rt.base || !rt.base->ensurepip_pip_wheel) return nullptr;
  auto wheel = parse_wheel_file_name(path_basename(*rt.base->ensurepip_pip_wheel));
  return {{"wheel", *rt.base->ensurepip_pip_wheel}, {"version", wheel ? wheel->version : ""}};
}

// What the installed pip says its version is.
struct PipVersionRead {
  std::string version;        // the first readable METADATA's, or the code's
  std::string metadata_path;  // where `version` came from
  std::vector<std::string> metadata_errors;
  std::optional<std::string> code_version;  // pip/__init__.py's __version__
};

PipVersionRead read_pip_version(const RootFs& fs, const FoundPip& found) {
  PipVersionRead read;
  for (const std::string& dist_info : found.dist_infos) {
    const std::string file = dist_info + "/METADATA";
    auto text = fs.read_file(file, 4u << 20);
    if (!text) {
      read.metadata_errors.push_back(text.error().message);
      continue;
    }
    auto meta = parse_dist_metadata(*text);
    if (!meta) {
      read.metadata_errors.push_back(file + ": " + meta.error().message);
      continue;
    }
    if (read.version.empty()) {
      read.version = meta->version;
      read.metadata_path = file;
    }
  }
  if (found.has_package) read.code_version = version_in_init(fs, found.site_dir);
  return read;
}

CheckOutcome cannot_read_version(std::string message, OutcomeBuilder out, json pip) {
  out.details()["pip"] = std::move(pip);
  out.add(CheckStatus::error, std::move(message))
      .fix_by("Reinstall pip to rewrite its METADATA (or `python3 -m ensurepip`):")
      .run("python3 -m pip install --force-reinstall pip");
  return std::move(out).finish("cannot read pip's version");
}

// The embedded advisories pip's version lacks fixes for, as one warning.
void judge_advisories(const Pep440Version& parsed, const std::string& version, bool apt_managed,
                      json& pip, OutcomeBuilder& out) {
  json advisories = json::array();
  std::vector<std::string> advisory_names;  // the first id of each, for a one-line summary
  std::string all_fixed_in;                 // the release that fixes every one of them
  for (const PipAdvisory* a : pip_advisories_for(parsed)) {
    advisories.push_back({{"id", a->ids}, {"fixed_in", a->fixed_in}, {"summary", a->summary}});
    std::string_view ids = a->ids;
    advisory_names.emplace_back(ids.substr(0, ids.find(" / ")));
    all_fixed_in = std::string(a->fixed_in);
  }
  pip["advisories"] = std::move(advisories);
  if (advisory_names.empty()) return;
  // Keep the line short: Docker shows only the head of a probe's output.
  constexpr std::size_t kNamed = 3;
  const auto named_end = advisory_names.begin() + std::min(kNamed, advisory_names.size());
  std::string named = join(std::vector<std::string>(advisory_names.begin(), named_end), ", ");
  if (advisory_names.size() > kNamed) {
    named += " and " + std::to_string(advisory_names.size() - kNamed) + " more";
  }
  Finding& f =
      out.warn("pip " + version + " lacks fixes for " + std::to_string(advisory_names.size()) +
               (advisory_names.size() == 1 ? " advisory (" : " advisories (") + named +
               "; all fixed in " + all_fixed_in + ")");
  if (apt_managed) {
    f.fix_by(
         "This pip is Debian's python3-pip (Debian backports some fixes without changing "
         "the version). If Debian's python3 came in by accident, remove it as "
         "python.installs says and use the image's own pip; else upgrade it with apt:")
        .run("apt-get update && apt-get install -y --only-upgrade python3-pip");
  } else {
    f.fix_by("Upgrade pip in the Dockerfile, or rebuild from a current python image:")
        .run("python3 -m pip install --upgrade pip");
  }
}

// The index comparison's failure: an error naming the index.
CheckOutcome index_failed(const PipIndexComparison& index, const std::string& version,
                          OutcomeBuilder out) {
  out.add(CheckStatus::error,
          "cannot compare pip " + version + " with the package index: " + index.note)
      .fix_by(index.details.value("index_url_source", "") == kPipDefaultIndexSource
                  ? "Nothing configures an index, so pip (and pycheck) use pip's default, " +
                        std::string(kPipDefaultIndexUrl) +
                        ": let pycheck reach it, or set PIP_INDEX_URL to the index pip really "
                        "uses here, or run without --online."
                  : "Check that the index URL (PIP_INDEX_URL or index-url in pip.conf) is right "
                    "and reachable from where pycheck runs, then run again.");
  std::string headline = "cannot compare pip " + version + " with the package index";
  if (index.details.contains("index_url")) {  // absent when pip's config could not be read
    headline += " " + index.details.value("index_url", std::string()) + " (" +
                index.details.value("index_url_source", std::string()) + ")";
  }
  return std::move(out).finish(std::move(headline));
}

// pip's version and where it lives, once python3 and its pip are found.
CheckOutcome judge_pip(const Context& ctx, const PythonRuntime& rt, const FoundPip& found,
                       std::vector<std::string> bound, OutcomeBuilder out) {
  json pip = {{"site_packages", found.site_dir},
              {"package_dir", found.has_package ? json(found.site_dir + "/pip") : json(nullptr)},
              {"dist_infos", found.dist_infos}};
  PipVersionRead read = read_pip_version(ctx.fs, found);
  if (auto late = ctx.fs.deadline_error("pip's metadata")) return timed_out(*late);
  pip["code_version"] = read.code_version ? json(*read.code_version) : json(nullptr);
  if (found.dist_infos.size() > 1) {
    out.warn(std::to_string(found.dist_infos.size()) + " pip dist-info folders in " +
             found.site_dir)
        .breaks("pip may report and uninstall the wrong version")
        .fix_by("Reinstall pip once, so that a single dist-info remains:")
        .run("python3 -m pip install --force-reinstall pip");
    if (read.code_version) {  // with two dist-infos, the code that runs says which pip it is
      read.version = *read.code_version;
      read.metadata_path = found.site_dir + "/pip/__init__.py";
    }
  }
  if (read.version.empty() && !read.metadata_errors.empty()) {
    return cannot_read_version(read.metadata_errors.front(), std::move(out), std::move(pip));
  }
  if (read.version.empty() && read.code_version) {
    read.version = *read.code_version;
    read.metadata_path = found.site_dir + "/pip/__init__.py";
  }
  if (!found.has_package) {
    out.warn(found.site_dir + " has pip's dist-info but no pip package")
        .breaks("`python3 -m pip` fails: No module named pip")
        .fix_by("Reinstall pip:")
        .run("python3 -m ensurepip --upgrade");
  }
  const std::string& version = read.version;
  pip["version"] = version;
  pip["version_source"] = read.metadata_path;
  pip["metadata_problems"] = read.metadata_errors;
  const auto parsed = parse_pep440(version);
  if (!parsed) {
    out.details()["pip"] = std::move(pip);
    out.add(CheckStatus::error,
            read.metadata_path + ": pip version \"" + version + "\" is not a PEP 440 version")
        .fix_by("Reinstall pip to rewrite its metadata:")
        .run("python3 -m pip install --force-reinstall pip");
    return std::move(out).finish("cannot read pip's version");
  }
  const bool apt_managed = found.site_dir == "/usr/lib/python3/dist-packages";
  judge_advisories(*parsed, version, apt_managed, pip, out);
  pip["managed_by_apt"] = apt_managed;
  out.details()["pip"] = std::move(pip);
  out.details()["pip_commands_starting_python3"] = bound;

  // No python3 in it: python.path names python3.
  const std::string headline = "pip " + version + " in " + found.site_dir;
  const PipIndexComparison index = compare_pip_with_index(ctx, rt, *parsed);
  if (index.deadline) return timed_out(*index.deadline);
  if (auto late = ctx.fs.deadline_error("pip's configuration")) return timed_out(*late);
  out.details()["index_comparison"] = index.note;
  out.details()["index"] = index.details;
  out.details()["index"]["behind_is"] = ctx.params.at("behind_is").get<std::string>();
  if (index.state == PipIndexComparison::State::failed) {
    return index_failed(index, version, std::move(out));
  }
  if (index.behind && ctx.params.at("behind_is").get<std::string>() == "warn") {
    out.warn(index.note)
        .fix_by("Upgrade pip in the Dockerfile (the index has " + index.latest + "):")
        .run("python3 -m pip install --upgrade pip");
  }
  json warnings = json::array();
  for (const Finding& f : out.findings()) warnings.push_back(f.message);
  out.details()["warnings"] = std::move(warnings);
  if (!out.empty()) return std::move(out).finish(headline);
  std::string summary = headline + "; no known pip advisory applies";
  if (index.state == PipIndexComparison::State::compared) summary += "; " + index.note;
  return std::move(out).finish(std::move(summary));
}

CheckOutcome run(const Context& ctx) {
  OutcomeBuilder out;
  // Replaced by the comparison's own note once pip's version is known.
  out.details()["index_comparison"] =
      ctx.online ? "not compared with the package index: no installed pip version to compare"
                 : "not compared with the newest pip on the package index: that needs the "
                   "network (--online)";
  const SearchPath path = make_search_path(ctx.env.get("PATH"));
  PythonRuntimeCache pythons(ctx);
  const PythonCommand python3 = find_python_command(pythons, path, "python3");
  if (auto late = ctx.fs.deadline_error("python3 on PATH")) return timed_out(*late);
  if (!python3.runtime) {
    return skipped("python3 is not on PATH (see python.path)", std::move(out.details()));
  }
  const PythonRuntime& rt = *python3.runtime;
  out.details()["python3"] = to_json(rt);
  if (rt.site_packages.empty()) {
    return skipped("python3 (" + rt.real_path + ") has no site-packages pycheck can find" +
                       (rt.base_error.empty() ? "" : ": " + rt.base_error),
                   std::move(out.details()));
  }
  std::vector<std::string> bound;
  out.details()["commands"] = commands_json(pythons, path, rt, bound);
  out.details()["ensurepip_bundled"] = ensurepip_json(rt);
  const auto found = find_pip(ctx.fs, rt.site_packages);
  if (auto late = ctx.fs.deadline_error("python3's pip")) return timed_out(*late);
  if (!found) {
    out.warn("python3 " + rt.describe() + " has no pip in " + join(rt.site_packages, ", "))
        .breaks("`python3 -m pip` fails: nothing can be installed")
        .fix_by("Install pip for this Python (venvs: create them without --without-pip):")
        .run("python3 -m ensurepip --upgrade");
    return std::move(out).finish("no pip for python3 " + rt.describe());
  }
  return judge_pip(ctx, rt, *found, std::move(bound), std::move(out));
}

}  // namespace

CheckInfo pip_version_check() {
  return CheckInfo{
      "pip.version",
      "pip for python3, known pip advisories and the index's newest pip",
      kExplain,
      run,
      {{"behind_is", "\"warn\"", "status when --online finds a newer final pip on the index",
        ParamType::one_of({"warn", "pass"})}}};
}

}  // namespace pycheck
