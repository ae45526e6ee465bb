// python.installs: every CPython installation in the root, and whether there is more than one.
#include <algorithm>
#include <string>
#include <vector>

#include "agent/core/findings.h"
#include "checks/check_table.h"
#include "checks/formats/dist_info.h"
#include "checks/facts/dpkg_owner.h"
#include "checks/facts/python_commands.h"
#include "checks/facts/python_discovery.h"
#include "checks/formats/cpython_layout.h"
#include "agent/core/text.h"

namespace pycheck {
namespace {

constexpr std::string_view kExplain =
    "The official python image compiles one CPython into /usr/local and puts /usr/local/bin "
    "first on PATH. Installing Debian's python3 (directly, or through python3-dev, python3-pip "
    "or any package depending on them) adds a second, older interpreter in /usr/bin: on "
    "python:3.11-bookworm both /usr/local/bin/python3.11 (the image's) and /usr/bin/python3.11 "
    "(Debian's 3.11.2) exist. PATH decides which one runs, Debian's python3-* packages land in "
    "/usr/lib/python3/dist-packages, which the image's Python never imports (by design), and an "
    "orchestrator that replaces PATH silently switches interpreters (docker-library/python "
    "#31, #174, #253, #610).\n\n"
    "pycheck lists every installation without running any: /usr/local, /usr, /opt/* and "
    "/opt/*/*, pyenv versions, the usual venv places (/venv, /opt/venv, /app/.venv, "
    "/root/.venv, ...), $VIRTUAL_ENV and the parents of PATH's bin folders. An installation is "
    "<prefix>/bin/python3.X next to <prefix>/lib/python3.X/; its version comes from "
    "include/python3.X/patchlevel.h, else the dpkg version of the package owning the "
    "executable, else the minor from _sysconfigdata or the file name. Venvs are listed with "
    "their base but are not extra interpreters.\n\n"
    "It warns when there is more than one base interpreter (naming the one PATH's python3 runs "
    "and the Debian package that brought the other) and when $PYTHON_VERSION, which the image "
    "sets to the version it built, differs from what python3 runs. Remove the second Python if "
    "nothing needs it, install Python packages with the image's `python3 -m pip`, and build "
    "against /usr/local/include/python3.X rather than python3-dev.";

// Short label of an installation for the summary.
std::string label(const PythonInstall& install, bool preferred, const std::string& owner) {
  std::string text = install.interpreter + " (" + install.version;
  if (preferred) text += ", PATH's python3";
  if (!owner.empty()) text += ", Debian package " + owner;
  return text + ")";
}

CheckOutcome run(const Context& ctx) {
  const DiscoveredPythons found = discover_python_installs(
      ctx.fs, ctx.env, ctx.params.at("extra_prefixes").get<std::vector<std::string>>(), ctx.facts);
  const SearchPath path = make_search_path(ctx.env.get("PATH"));
  PythonRuntimeCache pythons(ctx);
  const PythonCommand python3 = find_python_command(pythons, path, "python3");
  const PythonInstall* preferred_base =
      python3.runtime && python3.runtime->base ? &*python3.runtime->base : nullptr;

  // Owners of each interpreter and of the python3 link next to it, in one pass over dpkg's lists.
  std::vector<std::string> owned_paths;
  for (const PythonInstall& b : found.bases) {
    owned_paths.push_back(b.interpreter);
    owned_paths.push_back(b.prefix + "/bin/python3");
  }
  auto owners = find_dpkg_owners(ctx.fs, owned_paths);
  auto owner_of = [&](const std::string& p) -> std::string {
    if (!owners) return "";
    auto it = owners->owners.find(p);
    return it == owners->owners.end() || it->second.empty() ? "" : join(it->second, ", ");
  };

  std::vector<std::string> problems;
  std::vector<std::string> labels;
  json installs = json::array();
  std::string debian_owner;
  for (const PythonInstall& b : found.bases) {
    const bool preferred = preferred_base && preferred_base->interpreter == b.interpreter;
    json item = to_json(b);
    const std::string owner = owner_of(b.interpreter);
    item["owner_package"] = owner.empty() ? json(nullptr) : json(owner);
    const std::string link_owner = owner_of(b.prefix + "/bin/python3");
    item["python3_link_owner_package"] = link_owner.empty() ? json(nullptr) : json(link_owner);
    item["runs_as_python3"] = preferred;
    installs.push_back(std::move(item));
    labels.push_back(label(b, preferred, owner));
    if (!owner.empty() && debian_owner.empty()) debian_owner = owner;
    for (const std::string& problem : b.problems) problems.push_back(problem);
  }
  json venvs = json::array();
  for (const PythonRuntime& v : found.venvs) {
    json item = to_json(v);
    item["runs_as_python3"] = python3.runtime && python3.runtime->identity() == v.identity();
    venvs.push_back(std::move(item));
    for (const std::string& problem : v.problems) problems.push_back(problem);
  }
  const auto python_version = ctx.env.get("PYTHON_VERSION");
  OutcomeBuilder out(
      {{"installations", std::move(installs)},
       {"venvs", std::move(venvs)},
       {"python3_on_path", to_json(python3.lookup)},
       {"python_version_env", python_version ? json(*python_version) : json(nullptr)},
       {"dpkg_database", owners && owners->have_database},
       {"discovery_notes", found.problems}});

  if (found.bases.empty()) {
    out.fail(
           "no CPython installation found (looked for <prefix>/bin/python3.X with "
           "<prefix>/lib/python3.X/)")
        .breaks("nothing can run Python code")
        .fix_by(
            "The image's Python lives in /usr/local: rebuild FROM the python image, or check "
            "that /usr/local/bin/python3.X and /usr/local/lib/python3.X exist.");
    return std::move(out).finish("no CPython installation found");
  }

  const bool image_python =
      std::any_of(found.bases.begin(), found.bases.end(),
                  [](const PythonInstall& b) { return b.prefix == "/usr/local"; });
  const bool debian_beside_image = found.bases.size() > 1 && !debian_owner.empty() && image_python;
  const bool path_runs_other = preferred_base && preferred_base->prefix != "/usr/local";
  // Debian's python3 next to the image's is one cause with one fix, whatever it shows as.
  const std::string debian_cause =
      "Debian's python3 was installed next to the image's (apt-get install python3, python3-pip, "
      "python3-dev or a package depending on them)";
  if (found.bases.size() > 1) {
    Finding& f = out.warn(std::to_string(found.bases.size()) +
                          " base Python installations: " + join(labels, " and "));
    if (debian_beside_image) {
      f.breaks(std::string(path_runs_other ? "PATH runs " + preferred_base->interpreter +
                                                 ", not the image's python3; "
                                           : "") +
               "Debian's python3-* packages go to /usr/lib/python3/dist-packages, which the "
               "image's Python does not see (docker-library/python #31, #174, #610)")
          .because(debian_cause)
          .fix_by(std::string(path_runs_other ? "Put /usr/local/bin first on PATH (as the image's "
                                                "ENV PATH does), and purge"
                                              : "Purge") +
                  " Debian's Python if nothing needs it; install packages with `python3 -m pip`, "
                  "and build against /usr/local/include/python3.X instead of python3-dev.")
          .run("apt-get purge --auto-remove " + debian_owner);
    } else {
      f.breaks("PATH order decides which one runs, and each has its own packages")
          .fix_by(
              "Keep one base Python: remove the ones nothing uses, and start the others by "
              "full path or through a venv.");
    }
  }
  if (python_version && preferred_base) {
    const PythonInstall& b = *preferred_base;
    bool differs = false;
    if (b.version_exact) {
      auto cmp = compare_pep440(*python_version, b.version);
      differs = cmp ? *cmp != 0 : *python_version != b.version;
    } else {
      differs = minor_of(*python_version) != b.minor;
    }
    if (differs) {
      Finding& f = out.warn("PYTHON_VERSION=" + std::string(*python_version) +
                            " but python3 runs " + b.version + " (" + b.interpreter + ")");
      if (debian_beside_image && path_runs_other) {
        f.because(debian_cause);
      } else {
        f.breaks("the image's ENV no longer says which Python runs")
            .fix_by(
                "Put the Python the image built first on PATH, or update the ENV if it was "
                "replaced on purpose.");
      }
    }
    out.details()["python_version_matches"] = !differs;
  }
  for (const std::string& problem : problems) {
    out.warn(problem).fix_by(
        "Fix or remove the files named; pycheck reads them to date the "
        "installation.");
  }

  out.details()["warnings"] = problems;
  if (found.bases.size() > 1) {
    return std::move(out).finish(
        std::to_string(found.bases.size()) + " base Pythons: " +
        (debian_beside_image ? "Debian's python3 beside the image's" : "PATH order picks one"));
  }
  std::string headline = std::to_string(found.bases.size()) + " base Python: " + labels.front() +
                         ", " + std::to_string(found.venvs.size()) + " venv" +
                         (found.venvs.size() == 1 ? "" : "s");
  if (!out.empty()) headline = out.findings().front().message;
  return std::move(out).finish(std::move(headline));
}

}  // namespace

CheckInfo python_installs_check() {
  return CheckInfo{
      "python.installs",
      "CPython installations in the image",
      kExplain,
      run,
      {{"extra_prefixes", "[]", "more folders to inspect as installation prefixes or venvs",
        ParamType::string_list()}},
      CheckCost::medium};  // reads every dpkg file list
}

}  // namespace pycheck
