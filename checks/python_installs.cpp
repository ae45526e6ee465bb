// python.installs: every CPython installation in the root, and whether there is more than one.
#include <algorithm>
#include <string>
#include <vector>

#include "checks/check_table.h"
#include "checks/dist_info.h"
#include "checks/dpkg_owner.h"
#include "checks/python_commands.h"
#include "checks/python_facts.h"
#include "checks/text.h"

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
  PythonFacts facts(ctx);
  const PythonCommand python3 = find_python_command(facts, path, "python3");
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

  CheckOutcome out;
  std::vector<std::string> warnings;
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
    for (const std::string& problem : b.problems) warnings.push_back(problem);
  }
  json venvs = json::array();
  for (const PythonRuntime& v : found.venvs) {
    json item = to_json(v);
    item["runs_as_python3"] = python3.runtime && python3.runtime->identity() == v.identity();
    venvs.push_back(std::move(item));
    for (const std::string& problem : v.problems) warnings.push_back(problem);
  }
  const auto python_version = ctx.env.get("PYTHON_VERSION");
  out.details = {{"installations", std::move(installs)},
                 {"venvs", std::move(venvs)},
                 {"python3_on_path", to_json(python3.lookup)},
                 {"python_version_env", python_version ? json(*python_version) : json(nullptr)},
                 {"dpkg_database", owners && owners->have_database},
                 {"discovery_notes", found.problems}};

  if (found.bases.empty()) {
    out.status = CheckStatus::fail;
    out.summary =
        "no CPython installation found (looked for <prefix>/bin/python3.X with "
        "<prefix>/lib/python3.X/)";
    out.remediation =
        "The image's Python lives in /usr/local; rebuild FROM the python image or "
        "check that /usr/local/bin/python3.X and /usr/local/lib/python3.X exist.";
    return out;
  }

  std::vector<std::string> remedies;
  if (found.bases.size() > 1) {
    warnings.insert(warnings.begin(), std::to_string(found.bases.size()) +
                                          " base Python installations: " + join(labels, " and "));
    const bool image_python =
        std::any_of(found.bases.begin(), found.bases.end(),
                    [](const PythonInstall& b) { return b.prefix == "/usr/local"; });
    if (!debian_owner.empty() && image_python) {
      remedies.push_back(
          "`apt-get install python3` (or python3-dev, python3-pip, or a package depending on "
          "them) added Debian's Python in /usr/bin next to the image's in /usr/local/bin. " +
          (preferred_base && preferred_base->prefix != "/usr/local"
               ? "This PATH runs " + preferred_base->interpreter + " as python3, not the image's. "
               : std::string("PATH runs the /usr/local one first. ")) +
          "Debian's python3-* packages go to /usr/lib/python3/dist-packages, which is not on the "
          "image Python's sys.path (docker-library/python #31, #174, #610). Purge it if nothing "
          "needs it "
          "(apt-get purge --auto-remove " +
          debian_owner +
          "), install packages with `python3 -m "
          "pip`, and build against /usr/local/include/python3.X instead of python3-dev.");
    } else {
      remedies.push_back(
          "Keep one base Python: remove the ones nothing uses, and start the others by full path "
          "or through a venv, so PATH order cannot switch interpreters.");
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
      warnings.push_back("PYTHON_VERSION=" + std::string(*python_version) + " but python3 runs " +
                         b.version + " (" + b.interpreter + ")");
      remedies.push_back(
          "PYTHON_VERSION is the version the image built; put that Python first on PATH, or "
          "update the ENV if the Python was replaced on purpose.");
    }
    out.details["python_version_matches"] = !differs;
  }

  std::string headline = std::to_string(found.bases.size()) + " base Python" +
                         (found.bases.size() == 1 ? ": " + labels.front() : "") + ", " +
                         std::to_string(found.venvs.size()) + " venv" +
                         (found.venvs.size() == 1 ? "" : "s");
  out.details["warnings"] = warnings;
  if (warnings.empty()) {
    out.status = CheckStatus::pass;
    out.summary = headline;
    return out;
  }
  if (remedies.empty()) {
    remedies.push_back(
        "Fix or remove the files named above; pycheck reads them to date the "
        "installation.");
  }
  out.status = CheckStatus::warn;
  out.summary = join(warnings, "; ");
  out.remediation = join(remedies, " ");
  return out;
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
