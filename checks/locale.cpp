// The `locale` check: do LANG / LC_ALL / LC_* name locales that glibc can
// load in this root? Each category's locale is looked up the way glibc's
// setlocale does (checks/facts/glibc_locale.h).
#include <algorithm>
#include <array>
#include <optional>

#include "agent/core/findings.h"
#include "agent/core/text.h"
#include "checks/check_table.h"
#include "checks/facts/glibc_locale.h"
#include "checks/formats/locale_archive.h"
#include "checks/formats/locale_name.h"

namespace pycheck {
namespace {

// What CPython's PEP 538 coercion tries, in order (Python/pylifecycle.c).
constexpr std::array<std::string_view, 3> kCoercionTargets{"C.UTF-8", "C.utf8", "UTF-8"};

// A non-empty environment value; glibc treats empty as unset.
std::optional<std::string> env_value(const Environment& env, std::string_view name) {
  auto v = env.get(name);
  if (!v || v->empty()) return std::nullopt;
  return std::string(*v);
}

// One variable that decides at least one category, and how its locale resolved there.
struct VariableUse {
  std::string variable;
  std::string value;
  std::vector<std::pair<const LocaleCategory*, LocaleLookup>> lookups;

  std::size_t found_count() const {
    return static_cast<std::size_t>(std::count_if(
        lookups.begin(), lookups.end(), [](const auto& l) { return l.second.found.has_value(); }));
  }
  bool all_found() const { return found_count() == lookups.size(); }
  // LC_CTYPE's lookup when this variable decides it, else the first found one.
  const LocaleFound* headline() const {
    for (const auto& [cat, l] : lookups) {
      if (cat->id == kLcCtype) return l.found ? &*l.found : nullptr;
    }
    for (const auto& [cat, l] : lookups) {
      if (l.found) return &*l.found;
    }
    return nullptr;
  }
};

// Which variable decides each category: LC_ALL, then LC_<category>, then LANG.
struct Assignment {
  std::vector<VariableUse> uses;  // in category order: the one deciding LC_CTYPE first
  json ignored = json::array();   // set variables that decide nothing, and why
  std::string ctype_locale = "C";
  // The variable deciding LC_CTYPE (LC_CTYPE is assigned first), or nullptr.
  const VariableUse* ctype_use() const {
    return !uses.empty() && uses[0].lookups[0].first->id == kLcCtype ? &uses[0] : nullptr;
  }

  // Python sees "C" in LC_CTYPE: nothing set, C/POSIX, or a locale glibc cannot load.
  bool ctype_is_c() const {
    const LocaleFound* f = ctype_use() ? ctype_use()->headline() : nullptr;
    return f == nullptr || f->kind == "builtin";
  }
};

Assignment assign_categories(const Environment& env, const GlibcLocales& glibc) {
  Assignment a;
  const auto lc_all = env_value(env, "LC_ALL");
  const auto lang = env_value(env, "LANG");
  for (auto it = locale_categories().rbegin(); it != locale_categories().rend(); ++it) {
    const LocaleCategory& cat = *it;
    const auto own = env_value(env, cat.name);
    if (lc_all && own) {
      a.ignored.push_back({{"variable", cat.name}, {"reason", "overridden by LC_ALL"}});
    }
    const std::string var = lc_all ? "LC_ALL" : own ? std::string(cat.name) : lang ? "LANG" : "";
    if (var.empty()) continue;
    const std::string value = lc_all ? *lc_all : own ? *own : *lang;
    auto use = std::find_if(a.uses.begin(), a.uses.end(),
                            [&](const VariableUse& u) { return u.variable == var; });
    if (use == a.uses.end()) use = a.uses.insert(a.uses.end(), VariableUse{var, value, {}});
    use->lookups.emplace_back(&cat, glibc.find(value, cat));
    if (cat.id == kLcCtype) a.ctype_locale = value;
  }
  for (const auto& [name, value] : env.vars()) {
    if ((name.starts_with("LC_") || name == "LANG") && value.empty()) {
      a.ignored.push_back({{"variable", name}, {"reason", "empty (glibc treats it as unset)"}});
    }
  }
  const bool lang_used = std::any_of(a.uses.begin(), a.uses.end(),
                                     [](const VariableUse& u) { return u.variable == "LANG"; });
  if (lang && !lang_used) {
    a.ignored.push_back(
        {{"variable", "LANG"}, {"reason", lc_all ? "overridden by LC_ALL" : "every LC_* is set"}});
  }
  return a;
}

// The first of PEP 538's coercion targets that glibc finds, as CPython tries them.
Result<std::optional<std::string>> coercion_target(const GlibcLocales& glibc) {
  for (std::string_view t : kCoercionTargets) {
    const LocaleLookup lookup = glibc.find(t, *find_locale_category("LC_CTYPE"));
    if (lookup.timeout) return *lookup.timeout;
    if (lookup.found) return std::optional<std::string>(t);
  }
  return std::optional<std::string>();
}

// What CPython 3.7+ makes of this LC_CTYPE (PEP 538 coercion, PEP 540 UTF-8 mode).
json python_expectations(const Environment& env, const Assignment& a,
                         const std::optional<std::string>& target) {
  const bool legacy = a.ctype_is_c();
  const auto utf8_env = env_value(env, "PYTHONUTF8");
  const bool coercion = legacy && !env_value(env, "LC_ALL") &&
                        env_value(env, "PYTHONCOERCECLOCALE").value_or("") != "0" && target;
  json py = {{"legacy_c_locale", legacy},
             {"utf8_mode", utf8_env ? *utf8_env == "1" : legacy},
             {"locale_coercion", coercion}};
  if (target) py["coercion_target"] = *target;
  return py;
}

std::string describe_found(const LocaleFound& f) {
  std::string where = "found in " + f.location;
  if (f.kind == "archive") where += " as " + f.entry;
  if (f.alias) where += " (alias of " + *f.alias + ")";
  if (f.codeset.empty()) return where;
  return where + " (" + f.codeset + (is_utf8_codeset(f.codeset) ? ")" : ", not UTF-8)");
}

// How to generate locale `name` in the image: advice and the commands.
void add_localedef_fix(Finding& f, std::string_view name) {
  const LocaleNameParts p = split_locale_name(name);
  const std::string input =
      p.language + (p.territory ? "_" + *p.territory : "") + (p.modifier ? "@" + *p.modifier : "");
  f.run("apt-get update && apt-get install -y --no-install-recommends locales");
  if (p.codeset && is_utf8_codeset(*p.codeset)) {
    f.fix_by("Generate the locale in the image (or add \"" + input +
             ".UTF-8 UTF-8\" to /etc/locale.gen and run locale-gen), or use LANG=C.UTF-8, which "
             "Debian always ships:")
        .run("localedef -i " + input + " -f UTF-8 " + std::string(name));
    return;
  }
  f.fix_by("Generate the locale in the image with localedef -i <input> -f <charmap> " +
           std::string(name) +
           " (see /usr/share/i18n/SUPPORTED), or add it to /etc/locale.gen and run locale-gen; "
           "or use LANG=C.UTF-8, which Debian always ships.");
}

json use_details(const VariableUse& use) {
  json j = {{"variable", use.variable}, {"locale", use.value}};
  json cats = json::array(), missing = json::array(), problems = json::array();
  for (const auto& [cat, l] : use.lookups) {
    cats.push_back(cat->name);
    if (!l.found) missing.push_back(cat->name);
    for (const std::string& n : l.notes) {
      if (std::find(problems.begin(), problems.end(), n) == problems.end()) problems.push_back(n);
    }
  }
  j["categories"] = cats;
  j["status"] = use.all_found() ? "found" : use.found_count() == 0 ? "missing" : "incomplete";
  j["normalized"] = archive_lookup_name(use.value);
  if (const LocaleFound* f = use.headline()) {
    j["found_in"] = f->kind;
    if (!f->location.empty()) j["path"] = f->location;
    j["entry"] = f->entry;
    if (f->alias) j["alias_of"] = *f->alias;
    if (!f->codeset.empty()) {
      j["codeset"] = f->codeset;
      j["utf8"] = is_utf8_codeset(f->codeset);
    }
  }
  if (!missing.empty()) j["missing_categories"] = missing;
  if (!problems.empty()) j["problems"] = problems;
  return j;
}

// "LANG=xx is not installed", "... is incomplete (no LC_MESSAGES)", or "" when fine.
std::string use_failure(const VariableUse& use) {
  if (use.all_found()) return "";
  const std::string item = use.variable + "=" + use.value;
  if (!is_valid_locale_name(use.value)) return item + " is not a valid locale name";
  if (use.found_count() == 0) return item + " is not installed";
  std::vector<std::string> found, missing;  // name the shorter list
  for (const auto& [cat, l] : use.lookups) (l.found ? found : missing).emplace_back(cat->name);
  return item + (use.lookups.size() - use.found_count() <= 3
                     ? " is incomplete (no " + join(missing, ", ") + ")"
                     : " is incomplete (only " + join(found, ", ") + ")");
}

Finding archive_finding(CheckStatus severity, const std::string& archive_error) {
  return Finding{severity,
                 "the locale archive is unreadable: " + archive_error,
                 "",
                 "",
                 "Regenerate the archive:",
                 {"rm " + std::string(kLocaleArchivePath) + " && locale-gen"}};
}

// The failing outcome when a variable names a locale glibc cannot load; nullopt when none does.
std::optional<CheckOutcome> missing_locales(const Assignment& a, const GlibcLocales& glibc,
                                            bool locpath) {
  CheckOutcome out;
  const std::string& archive_error = glibc.archive_error();
  std::vector<std::string> failures;
  for (const VariableUse& use : a.uses) {
    const std::string failure = use_failure(use);
    if (failure.empty()) continue;
    failures.push_back(failure);
    Finding& f = out.findings.emplace_back();
    f.severity = CheckStatus::fail;
    f.message = failure;
    if (!is_valid_locale_name(use.value)) {
      f.breaks("setlocale(LC_ALL, \"\") fails for it")
          .fix_by("Fix the variable: a locale name is language[_territory][.codeset][@modifier].");
      continue;
    }
    f.breaks(
        "setlocale(LC_ALL, \"\") fails: Python's locale.setlocale(locale.LC_ALL, \"\") "
        "raises locale.Error, C extensions and subprocesses get the C locale");
    add_localedef_fix(f, use.value);
  }
  if (!failures.empty()) {
    out.status = CheckStatus::fail;
    out.summary = failures.size() == 1 ? failures.front()
                                       : std::to_string(failures.size()) +
                                             " locale variables name "
                                             "missing locales";
    if (!archive_error.empty()) {
      out.findings.push_back(archive_finding(CheckStatus::fail, archive_error));
    }
    if (locpath) {
      out.findings.push_back(Finding{CheckStatus::fail,
                                     "LOCPATH is set, so the locale archive is not searched",
                                     "",
                                     "",
                                     "Unset LOCPATH, or compile the locale into a LOCPATH "
                                     "directory with localedef --no-archive.",
                                     {}});
    }
    return out;
  }
  return std::nullopt;
}

// The headline when every variable's locale loads: LC_CTYPE's, then the others.
std::string found_summary(const Assignment& a, bool locpath) {
  const std::string ctype_var = a.ctype_use() ? a.ctype_use()->variable : "";
  std::string summary;
  if (a.uses.empty()) {
    summary =
        "No locale variables set: programs run in the C locale; Python 3.7+ switches itself "
        "to UTF-8 (PEP 538/540)";
  } else if (a.ctype_use()) {
    summary = ctype_var + "=" + a.ctype_locale + ": " + describe_found(*a.ctype_use()->headline());
  } else {
    summary = "LC_CTYPE is C (no LANG)";
  }
  std::vector<std::string> others;
  for (const VariableUse& u : a.uses) {
    if (&u != a.ctype_use()) others.push_back(u.variable + "=" + u.value);
  }
  if (!others.empty()) summary += "; " + join(others, ", ") + " also found";
  if (locpath) summary += "; LOCPATH is set";
  return summary;
}

CheckOutcome judge(const Assignment& a, const GlibcLocales& glibc, bool locpath) {
  if (auto failed = missing_locales(a, glibc, locpath)) return std::move(*failed);
  CheckOutcome out;
  const std::string ctype_var = a.ctype_use() ? a.ctype_use()->variable : "";
  if (a.ctype_use() && is_builtin_locale(a.ctype_locale)) {
    out.status = CheckStatus::warn;
    out.summary = ctype_var + "=" + a.ctype_locale +
                  ": the ASCII C locale; Python coerces itself to UTF-8 (PEP 538/540), C libraries "
                  "and other programs do not";
    if (ctype_var == "LC_ALL") out.summary += ", and LC_ALL turns PEP 538 coercion off";
    out.findings.push_back(Finding{
        CheckStatus::warn,
        out.summary,
        "",
        "",
        "Set LANG=C.UTF-8 (ENV LANG=C.UTF-8 in the Dockerfile; Debian ships it in libc-bin)" +
            (ctype_var == "LANG" ? std::string(".") : " and unset " + ctype_var + "."),
        {}});
    return out;
  }
  const std::string summary = found_summary(a, locpath);
  const std::string& archive_error = glibc.archive_error();
  if (!archive_error.empty()) {
    out.status = CheckStatus::warn;
    out.summary = summary + "; but the locale archive is unreadable";
    out.findings.push_back(archive_finding(CheckStatus::warn, archive_error));
    return out;
  }
  out.status = CheckStatus::pass;
  out.summary = summary;
  return out;
}

// musl has no locale data to look up. An Error only for the deadline.
Result<bool> is_musl_root(const RootFs& fs) {
  auto entries = fs.list_dir("/lib");
  if (entries.timed_out()) return entries.error();
  return entries && std::any_of(entries->begin(), entries->end(),
                                [](const DirEntry& e) { return e.name.starts_with("ld-musl-"); });
}

// The locale variables that are set, as they are.
json variables_json(const Environment& env) {
  json vars = json::object();
  for (std::string_view name :
       {"LC_ALL", "LC_CTYPE", "LC_NUMERIC", "LC_TIME", "LC_COLLATE", "LC_MONETARY", "LC_MESSAGES",
        "LC_PAPER", "LC_NAME", "LC_ADDRESS", "LC_TELEPHONE", "LC_MEASUREMENT", "LC_IDENTIFICATION",
        "LANG", "LANGUAGE", "LOCPATH", "PYTHONUTF8", "PYTHONCOERCECLOCALE"}) {
    if (auto v = env.get(name)) vars[std::string(name)] = std::string(*v);
  }
  return vars;
}

// PEP 540: any PYTHONUTF8 other than 0 or 1 stops the interpreter at startup.
std::optional<CheckOutcome> python_refuses_to_start(const Environment& env, const json& vars) {
  const auto utf8_env = env_value(env, "PYTHONUTF8");
  if (!utf8_env || *utf8_env == "0" || *utf8_env == "1") return std::nullopt;
  const std::string why =
      "PYTHONUTF8=" + *utf8_env + ": Python refuses to start (only 0 or 1 is valid)";
  return CheckOutcome{
      CheckStatus::fail,
      why,
      {{"variables", vars}},
      {Finding{CheckStatus::fail, why, "", "", "Set PYTHONUTF8=1 (or 0), or unset it.", {}}}};
}

// The first read the run's deadline stopped, if any: then nothing found means nothing.
const Error* first_timeout(const GlibcLocales& glibc, const Assignment& a,
                           const Result<std::optional<std::string>>& target) {
  if (glibc.timeout()) return &*glibc.timeout();
  for (const VariableUse& use : a.uses) {
    for (const auto& [cat, lookup] : use.lookups) {
      if (lookup.timeout) return &*lookup.timeout;
    }
  }
  return target ? nullptr : &target.error();
}

json locale_details(json vars, const Assignment& a, const GlibcLocales& glibc, bool locpath,
                    json python) {
  json d = {{"variables", std::move(vars)}, {"libc", "glibc"}};
  json locales = json::array();
  for (const VariableUse& use : a.uses) locales.push_back(use_details(use));
  d["locales"] = locales;
  if (!a.ignored.empty()) d["ignored"] = a.ignored;
  d["effective_locale"] = a.ctype_locale;
  d["effective_source"] = a.ctype_use() ? json(a.ctype_use()->variable) : json(nullptr);
  if (locpath) d["locpath"] = glibc.dirs();
  d["archive"] = glibc.archive_details();
  d["alias_file"] = glibc.alias_details();
  d["python"] = std::move(python);
  return d;
}

CheckOutcome run(const Context& ctx) {
  json vars = variables_json(ctx.env);
  if (auto refused = python_refuses_to_start(ctx.env, vars)) return std::move(*refused);
  const Result<bool> musl = is_musl_root(ctx.fs);
  if (!musl) return timed_out(musl.error(), {{"variables", vars}});
  if (*musl) {
    return skipped("musl libc: every locale name is accepted, there is no locale data to check",
                   {{"variables", vars}, {"libc", "musl"}});
  }
  const auto locpath = env_value(ctx.env, "LOCPATH");
  const GlibcLocales glibc(ctx.fs, locpath);
  const Assignment a = assign_categories(ctx.env, glibc);
  const auto target = coercion_target(glibc);
  const json python = python_expectations(ctx.env, a, target.value_or(std::nullopt));
  json details = locale_details(std::move(vars), a, glibc, locpath.has_value(), python);
  if (const Error* timeout = first_timeout(glibc, a, target)) {
    return timed_out(*timeout, std::move(details));
  }
  CheckOutcome out = judge(a, glibc, locpath.has_value());
  out.details = std::move(details);
  return out;
}

}  // namespace

CheckInfo locale_check() {
  return CheckInfo{
      "locale",
      "LANG / LC_* name installed locales",
      "Why: the official python image sets LANG=C.UTF-8 only for 3.10-3.12 (dropped for 3.13+), "
      "and python:slim has no `locales` package: only C, POSIX and C.UTF-8 exist. A LANG or LC_* "
      "naming a locale that is not installed makes setlocale(LC_ALL, \"\") fail: Python's "
      "locale.setlocale(locale.LC_ALL, \"\") raises locale.Error, and C extensions, readline and "
      "subprocesses run in the ASCII C locale. LANG=C is valid but ASCII for everything except "
      "Python, which coerces itself to UTF-8 (PEP 538/540, bpo-19846).\n\n"
      "How: each locale category takes its locale from LC_ALL, else LC_<category>, else LANG "
      "(empty counts as unset), and is looked up as glibc does: C and POSIX are built in; then "
      "the archive /usr/lib/locale/locale-archive (not when LOCPATH is set) under the normalised "
      "name (en_US.UTF-8 -> en_US.utf8), also via /usr/share/locale/locale.alias; then the "
      "directories in LOCPATH and /usr/lib/locale under the names glibc derives (C.UTF-8 -> "
      "C.utf8). The locale data is validated and its codeset reported. A corrupt archive is "
      "reported and, as glibc does, ignored.\n\n"
      "Fix: use LANG=C.UTF-8, or install `locales` and generate the locale in the image "
      "(locale-gen or localedef).",
      run,
      {}};
}

}  // namespace pycheck
