// python.eol: whether the Python that PATH's python3 runs still gets fixes from CPython.
#include <string>
#include <variant>
#include <vector>

#include "agent/core/findings.h"
#include "agent/core/text.h"
#include "checks/check_table.h"
#include "checks/data/eol_tables.h"
#include "checks/facts/python_commands.h"
#include "checks/formats/cpython_layout.h"

namespace pycheck {
namespace {

constexpr std::string_view kExplain =
    "Each CPython feature release gets bugfix releases for 18 months (2 years from 3.13 on), "
    "then source-only security releases until five years after its first release, then none. "
    "The official python image follows this: docker-library/python builds every supported "
    "minor (3.10 to 3.14 plus the 3.15 pre-release as of mid-2026) and removes a minor's tags "
    "when it reaches end of life (3.9 was removed on 2025-10-31). An image built FROM "
    "python:3.9 keeps running, but its interpreter, its ensurepip pip and its stdlib (ssl, "
    "http, tarfile, email) no longer get security fixes, and no new image will be published "
    "for it.\n\n"
    "pycheck finds python3 through the judged PATH (as python.path does), reads its version "
    "from the installation's layout (patchlevel.h, dpkg, _sysconfigdata) and looks its minor "
    "up in a table embedded in the binary, taken from python/peps "
    "release_management/python-releases.toml. pycheck works offline, so the table is a "
    "snapshot; its date is in the details. For scheduled ends the PEPs give only a month "
    "(\"2027-10\"); the TOML stores the first of that month and pycheck uses that day, the "
    "earliest reading, and says so in the details. The run's clock (--now) decides: the end "
    "date itself counts as ended.\n\n"
    "It fails once the end of life has passed, warns within `warn_months` (6) months of it, "
    "and passes otherwise, saying whether bugfix or only security releases are still made. "
    "Fix by moving to a supported minor (FROM python:3.13-slim or newer), rebuilding the venv "
    "and any compiled wheels for it, and running the tests.";

constexpr std::string_view kSource = "python/peps release_management/python-releases.toml";

// "3.11" -> {3, 11}; {0, 0} when not X.Y.
std::pair<int, int> minor_numbers(std::string_view minor) {
  std::size_t dot = minor.find('.');
  if (dot == std::string_view::npos) return {0, 0};
  try {
    return {std::stoi(std::string(minor.substr(0, dot))),
            std::stoi(std::string(minor.substr(dot + 1)))};
  } catch (...) {
    return {0, 0};
  }
}

bool is_prerelease(std::string_view version) {
  return version.find('a') != std::string_view::npos ||
         version.find('b') != std::string_view::npos ||
         version.find("rc") != std::string_view::npos;
}

std::string in_days(long days) {
  if (days == 0) return "today";
  if (days > 0) return "in " + std::to_string(days) + (days == 1 ? " day" : " days");
  return std::to_string(-days) + (days == -1 ? " day ago" : " days ago");
}

// Minors out now and not yet at end of life, from the table.
std::vector<std::string> supported_minors(const Date& today) {
  std::vector<std::string> out;
  for (const PythonLifecycle& p : python_lifecycles()) {
    if (p.first_release <= today && today < p.end_of_life) out.emplace_back(p.minor);
  }
  return out;
}

// python3's minor and version, or why python.eol cannot tell them.
struct Python3Version {
  std::string version;  // "3.11.15", or the minor alone
  std::string minor;    // "3.11"
  std::string label;    // "Python 3.11.15", " (pre-release)" added for one
};

// Finds python3 on PATH and its version, adding what it found to `details`;
// the outcome when there is nothing to judge.
std::variant<Python3Version, CheckOutcome> gather_python3(const Context& ctx, json& details) {
  const SearchPath path = make_search_path(ctx.env.get("PATH"));
  PythonRuntimeCache pythons(ctx);
  const PythonCommand python3 = find_python_command(pythons, path, "python3");
  if (auto late = ctx.fs.deadline_error("python3 on PATH")) return timed_out(*late);
  details["python3"] = to_json(python3.lookup);
  if (!python3.lookup.found()) {
    return skipped("python3 not found on PATH (python.path reports it)", std::move(details));
  }
  const PythonRuntime& rt = *python3.runtime;
  Python3Version found;
  found.version = rt.version();
  found.minor = minor_of(found.version).value_or("");
  details["python3"]["version"] = found.version;
  details["python3"]["version_source"] =
      rt.base ? json(rt.base->version_source)
              : (found.version.empty() ? json(nullptr) : json("pyvenv.cfg"));
  if (found.minor.empty()) {
    return skipped("cannot tell the version of python3 (" + python3.lookup.real_path +
                       "): " + (rt.base_error.empty() ? "unknown" : rt.base_error),
                   std::move(details));
  }
  details["minor"] = found.minor;
  found.label = "Python " + found.version + (is_prerelease(found.version) ? " (pre-release)" : "");
  return found;
}

// A minor the table does not know: ended long ago when older than 3.5, else unknown.
CheckOutcome judge_unknown_minor(const Python3Version& python3, const Date& today, json details) {
  const auto [major, minor_number] = minor_numbers(python3.minor);
  if (major == 2 || (major == 3 && minor_number < 5)) {
    OutcomeBuilder out(std::move(details));
    const std::string headline = python3.label + " reached end of life before 2020";
    out.fail(headline).fix_by("Move to a supported Python (" + join(supported_minors(today), ", ") +
                              "): FROM python:<minor>-slim, then rebuild and test.");
    return std::move(out).finish(headline);
  }
  return skipped(python3.label + " is not in the end-of-life table (as of " +
                     std::string(kEolTablesAsOf) + ")",
                 std::move(details));
}

// "bugfix", "security", "end-of-life" or "not yet released" on `today`.
std::string support_on(const PythonLifecycle& life, const Date& today) {
  if (today < life.first_release) return "not yet released";
  if (today < life.end_of_bugfix) return "bugfix";
  if (today < life.end_of_life) return "security";
  return "end-of-life";
}

json lifecycle_json(const PythonLifecycle& life) {
  json lifecycle = {{"pep", life.pep},
                    {"first_release", format_date(life.first_release)},
                    {"end_of_bugfix", format_date(life.end_of_bugfix)},
                    {"end_of_life", format_date(life.end_of_life)}};
  if (life.end_of_life_month_only) {
    const std::string eol = format_date(life.end_of_life);
    lifecycle["end_of_life_note"] = "PEP " + std::to_string(life.pep) + " gives the month " +
                                    eol.substr(0, 7) + " only; " + eol +
                                    " (the day python-releases.toml stores) is used";
  }
  return lifecycle;
}

// A known minor: fail once ended, warn within warn_months, else pass.
CheckOutcome judge_lifecycle(const Python3Version& python3, const PythonLifecycle& life,
                             const Date& today, int warn_months, json details) {
  details["lifecycle"] = lifecycle_json(life);
  const long days_left = days_between(today, life.end_of_life);
  details["days_left"] = days_left;
  details["warn_from"] = format_date(months_before(life.end_of_life, warn_months));
  details["supported_minors"] = supported_minors(today);
  const std::string support = support_on(life, today);
  details["support"] = support;

  const std::string eol = format_date(life.end_of_life);
  const std::string remedy = "Move to a supported Python (" + join(supported_minors(today), ", ") +
                             "): FROM python:<minor>-slim, rebuild the venv and compiled wheels "
                             "for it, and run the tests.";
  const std::string& label = python3.label;
  OutcomeBuilder out(std::move(details));
  switch (judge_end(today, life.end_of_life, warn_months)) {
    case EndJudgement::ended: {
      const std::string headline = label + " reached end of life on " + eol + " (" +
                                   in_days(days_left) + "): no more security fixes";
      out.fail(headline).fix_by(remedy);
      return std::move(out).finish(headline);
    }
    case EndJudgement::in_window: {
      const std::string headline =
          label + " reaches end of life on " + eol + " (" + in_days(days_left) + ")";
      out.warn(headline).fix_by("Plan the move before " + eol + ". " + remedy);
      return std::move(out).finish(headline);
    }
    case EndJudgement::before_window:
      break;
  }
  if (support == "bugfix") {
    return std::move(out).finish(label + ": bugfix releases until " +
                                 format_date(life.end_of_bugfix) + ", security fixes until " + eol);
  }
  return std::move(out).finish(label + ": " +
                               (support == "security" ? "security fixes only, " : "") +
                               "end of life " + eol + " (" + in_days(days_left) + ")");
}

CheckOutcome run(const Context& ctx) {
  const int warn_months = ctx.params.at("warn_months").get<int>();
  const Date today = calendar_day(ctx.now);
  json details = {{"today", format_date(today)},
                  {"table", {{"as_of", kEolTablesAsOf}, {"source", kSource}}}};
  auto gathered = gather_python3(ctx, details);
  if (auto* outcome = std::get_if<CheckOutcome>(&gathered)) return std::move(*outcome);
  const Python3Version& python3 = std::get<Python3Version>(gathered);
  const PythonLifecycle* life = find_python_lifecycle(python3.minor);
  if (life == nullptr) return judge_unknown_minor(python3, today, std::move(details));
  return judge_lifecycle(python3, *life, today, warn_months, std::move(details));
}

}  // namespace

CheckInfo python_eol_check() {
  return CheckInfo{"python.eol",
                   "Python release still supported upstream",
                   kExplain,
                   run,
                   {{"warn_months", "6", "warn this many months before the end of life",
                     ParamType::integer(0, 60)}}};
}

}  // namespace pycheck
