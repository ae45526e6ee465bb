// python.installs: every CPython installation in the root, and whether there is more than one.
#include <algorithm>
#include <string>
#include <vector>

#include "agent/core/findings.h"
#include "agent/core/text.h"
#include "checks/check_table.h"
#include "checks/facts/dpkg_owner.h"
#include "checks/facts/python_commands.h"
#include "checks/facts/python_discovery.h"
#include "checks/formats/cpython_layout.h"
#include "checks/formats/dist_info.h"

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
    "executable (dpkg's file lists are not read for /usr/local, where Debian packages never "
    "install), else the minor from _sysconfigdata or the file name. Venvs are listed with "
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

// What python.installs reads: every installation, what PATH's python3 runs,
// and the Debian packages owning the interpreters.
struct Gathered {
  DiscoveredPythons found;
  PythonCommand python3;
  const PythonInstall* preferred_base = nullptr;  // python3's base, in python3.runtime
  Result<DpkgOwners> owners = Error{"not read"};
};

// Filled once: `python3` holds the runtime preferred_base points into.
void gather(const Context& ctx, Gathered& g) {
  g.found = discover_python_installs(
      ctx.fs, ctx.env, ctx.params.at("extra_prefixes").get<std::vector<std::string>>(), ctx.facts);
  PythonRuntimeCache pythons(ctx);
  g.python3 = find_python_command(pythons, make_search_path(ctx.env.get("PATH")), "python3");
  if (g.python3.runtime && g.python3.runtime->base) g.preferred_base = &*g.python3.runtime->base;
  // Owners of each interpreter and of the python3 link next to it, in one pass over dpkg's lists.
  std::vector<std::string> owned_paths;
  for (const PythonInstall& b : g.found.bases) {
    owned_paths.push_back(b.interpreter);
    owned_paths.push_back(b.prefix + "/bin/python3");
  }
  g.owners = find_dpkg_owners(ctx.fs, owned_paths);
}

// The installations and venvs as details list them, with their labels.
struct Listing {
  json installs = json::array();
  json venvs = json::array();
  std::vector<std::string> labels;
  std::vector<std::string> problems;
  std::string debian_owner;  // the first base's Debian package, if any
};

Listing list_installs(const Gathered& g) {
  auto owner_of = [&](const std::string& p) -> std::string {
    if (!g.owners) return "";
    auto it = g.owners->owners.find(p);
    return it == g.owners->owners.end() || it->second.empty() ? "" : join(it->second, ", ");
  };
  Listing l;
  for (const PythonInstall& b : g.found.bases) {
    const bool preferred = g.preferred_base && g.preferred_base->interpreter == b.interpreter;
    json item = to_json(b);
    const std::string owner = owner_of(b.interpreter);
    item["owner_package"] = owner.empty() ? json(nullptr) : json(owner);
    const std::string link_owner = owner_of(b.prefix + "/bin/python3");
    item["python3_link_owner_package"] = link_owner.empty() ? json(nullptr) : json(link_owner);
    if (dpkg_never_installs(b.interpreter)) {
      item["owner_package_note"] = "not looked up: Debian packages never install under /usr/local";
    }
    item["runs_as_python3"] = preferred;
    l.installs.push_back(std::move(item));
    l.labels.push_back(label(b, preferred, owner));
    if (!owner.empty() && l.debian_owner.empty()) l.debian_owner = owner;
    for (const std::string& problem : b.problems) l.problems.push_back(problem);
  }
  for (const PythonRuntime& v : g.found.venvs) {
    json item = to_json(v);
    item["runs_as_python3"] = g.python3.runtime && g.python3.runtime->identity() == v.identity();
    l.venvs.push_back(std::move(item));
    for (const std::string& problem : v.problems) l.problems.push_back(problem);
  }
  return l;
}

CheckOutcome fail_without_python(OutcomeBuilder out) {
  out.fail(
         "no CPython installation found (looked for <prefix>/bin/python3.X with "
         "<prefix>/lib/python3.X/)")
      .breaks("nothing can run Python code")
      .fix_by(
          "The image's Python lives in /usr/local: rebuild FROM the python image, or check "
          "that /usr/local/bin/python3.X and /usr/local/lib/python3.X exist.");
  return std::move(out).finish("no CPython installation found");
}

// Debian's python3 next to the image's is one cause with one fix, whatever it shows as.
constexpr std::string_view kDebianCause =
    "Debian's python3 was installed next to the image's (apt-get install python3, python3-pip, "
    "python3-dev or a package depending on them)";

// How the bases relate: what the warnings say about them.
struct BaseSituation {
  bool debian_beside_image = false;
  bool path_runs_other = false;  // python3 is not the image's /usr/local one
};

BaseSituation situation_of(const Gathered& g, const Listing& l) {
  const bool image_python =
      std::any_of(g.found.bases.begin(), g.found.bases.end(),
                  [](const PythonInstall& b) { return b.prefix == "/usr/local"; });
  return {g.found.bases.size() > 1 && !l.debian_owner.empty() && image_python,
          g.preferred_base && g.preferred_base->prefix != "/usr/local"};
}

void judge_several_bases(const Gathered& g, const Listing& l, BaseSituation s,
                         OutcomeBuilder& out) {
  if (g.found.bases.size() <= 1) return;
  Finding& f = out.warn(std::to_string(g.found.bases.size()) +
                        " base Python installations: " + join(l.labels, " and "));
  if (!s.debian_beside_image) {
    f.breaks("PATH order decides which one runs, and each has its own packages")
        .fix_by(
            "Keep one base Python: remove the ones nothing uses, and start the others by "
            "full path or through a venv.");
    return;
  }
  f.breaks(std::string(s.path_runs_other ? "PATH runs " + g.preferred_base->interpreter +
                                               ", not the image's python3; "
                                         : "") +
           "Debian's python3-* packages go to /usr/lib/python3/dist-packages, which the "
           "image's Python does not see (docker-library/python #31, #174, #610)")
      .because(std::string(kDebianCause))
      .fix_by(std::string(s.path_runs_other ? "Put /usr/local/bin first on PATH (as the image's "
                                              "ENV PATH does), and purge"
                                            : "Purge") +
              " Debian's Python if nothing needs it; install packages with `python3 -m pip`, "
              "and build against /usr/local/include/python3.X instead of python3-dev.")
      .run("apt-get purge --auto-remove " + l.debian_owner);
}

// PYTHON_VERSION (the image's ENV) against what python3 runs.
void judge_python_version(std::optional<std::string_view> python_version,
                          const PythonInstall* preferred_base, BaseSituation s,
                          OutcomeBuilder& out) {
  if (!python_version || !preferred_base) return;
  const PythonInstall& b = *preferred_base;
  bool differs = false;
  if (b.version_exact) {
    auto cmp = compare_pep440(*python_version, b.version);
    differs = cmp ? *cmp != 0 : *python_version != b.version;
  } else {
    differs = minor_of(*python_version) != b.minor;
  }
  if (differs) {
    Finding& f = out.warn("PYTHON_VERSION=" + std::string(*python_version) + " but python3 runs " +
                          b.version + " (" + b.interpreter + ")");
    if (s.debian_beside_image && s.path_runs_other) {
      f.because(std::string(kDebianCause));
    } else {
      f.breaks("the image's ENV no longer says which Python runs")
          .fix_by(
              "Put the Python the image built first on PATH, or update the ENV if it was "
              "replaced on purpose.");
    }
  }
  out.details()["python_version_matches"] = !differs;
}

std::string headline(const Gathered& g, const Listing& l, BaseSituation s,
                     const OutcomeBuilder& out) {
  const std::size_t bases = g.found.bases.size();
  if (bases > 1) {
    return std::to_string(bases) + " base Pythons: " +
           (s.debian_beside_image ? "Debian's python3 beside the image's" : "PATH order picks one");
  }
  if (!out.empty()) return out.findings().front().message;
  return std::to_string(bases) + " base Python: " + l.labels.front() + ", " +
         std::to_string(g.found.venvs.size()) + " venv" + (g.found.venvs.size() == 1 ? "" : "s");
}

CheckOutcome run(const Context& ctx) {
  Gathered g;
  gather(ctx, g);
  if (auto late = ctx.fs.deadline_error("the Python installations")) return timed_out(*late);
  Listing l = list_installs(g);
  const auto python_version = ctx.env.get("PYTHON_VERSION");
  OutcomeBuilder out(
      {{"installations", std::move(l.installs)},
       {"venvs", std::move(l.venvs)},
       {"python3_on_path", to_json(g.python3.lookup)},
       {"python_version_env", python_version ? json(*python_version) : json(nullptr)},
       {"dpkg_database", g.owners && g.owners->have_database},
       {"discovery_notes", g.found.problems}});
  if (g.found.bases.empty()) return fail_without_python(std::move(out));

  const BaseSituation situation = situation_of(g, l);
  judge_several_bases(g, l, situation, out);
  judge_python_version(python_version, g.preferred_base, situation, out);
  for (const std::string& problem : l.problems) {
    out.warn(problem).fix_by(
        "Fix or remove the files named; pycheck reads them to date the "
        "installation.");
  }
  out.details()["warnings"] = l.problems;
  std::string text = headline(g, l, situation, out);
  return std::move(out).finish(std::move(text));
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
      CheckCost::medium};  // reads every dpkg file list when a Python is outside /usr/local
}

}  // namespace pycheck
