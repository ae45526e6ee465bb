// The `locale` check: do LANG / LC_ALL / LC_* name locales that glibc can
// load in this root? Looks them up the way glibc 2.36's setlocale does
// (locale/findlocale.c): built-in C/POSIX, then the locale archive (unless
// LOCPATH is set), then locale.alias, then the XPG variants of the name under
// each locale directory.
#include <algorithm>
#include <array>
#include <cerrno>
#include <optional>

#include "agent/core/findings.h"
#include "checks/check_table.h"
#include "checks/formats/locale_archive.h"
#include "checks/facts/locale_data_read.h"
#include "checks/formats/locale_name.h"

namespace pycheck {
namespace {

constexpr std::size_t kArchiveListCap = 50;
// What CPython's PEP 538 coercion tries, in order (Python/pylifecycle.c).
constexpr std::array<std::string_view, 3> kCoercionTargets{"C.UTF-8", "C.utf8", "UTF-8"};

// Where one category of a locale was found.
struct Found {
  std::string kind;                  // "builtin", "archive" or "directory"
  std::string location;              // the archive file or the locale directory
  std::string entry;                 // the archive name or directory name that matched
  std::string codeset;               // of that category's data; "" when not read
  std::optional<std::string> alias;  // the locale.alias expansion used
};

struct Lookup {
  std::optional<Found> found;
  std::vector<std::string> notes;  // data rejected on the way, or why nothing matched
};

// What glibc reads in the inspected root, read once.
class GlibcLocales {
 public:
  GlibcLocales(const RootFs& fs, const std::optional<std::string>& locpath) : fs_(fs), reader_(fs) {
    if (locpath) {
      std::string_view rest = *locpath;
      while (!rest.empty()) {  // empty LOCPATH entries are skipped, as argz does
        std::size_t colon = rest.find(':');
        std::string_view dir = rest.substr(0, colon);
        if (!dir.empty()) dirs_.emplace_back(dir);
        rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
      }
    }
    dirs_.emplace_back(kLocaleDir);
    use_archive_ = !locpath.has_value();
    if (use_archive_) load_archive();
    load_aliases();
  }

  Lookup find(std::string_view name, const LocaleCategory& cat) const {
    Lookup out;
    if (is_builtin_locale(name)) {
      out.found = Found{"builtin", "", "C", "ANSI_X3.4-1968", std::nullopt};
      return out;
    }
    if (!is_valid_locale_name(name)) {
      out.notes.push_back("not a valid locale name (glibc refuses it)");
      return out;
    }
    const std::optional<std::string> alias = aliases_.expand(name);
    if (use_archive_ && archive_) {
      if ((out.found = from_archive(name, cat, out.notes))) return out;
      if (alias && (out.found = from_archive(*alias, cat, out.notes))) {
        out.found->alias = alias;
        return out;
      }
    }
    const std::string dir_name = alias.value_or(std::string(name));
    const LocaleNameParts parts = split_locale_name(dir_name);
    for (const std::string& variant : locale_directory_variants(dir_name)) {
      for (const std::string& dir : dirs_) {
        const std::string locale_dir = path_normalize(dir + "/" + variant);
        std::string file = locale_dir + "/" + std::string(cat.name);
        auto info = fs_.stat(file);
        if (!info) {
          note_error(info.error());
          continue;
        }
        std::optional<std::uint64_t> size = info->size;
        if (info->type == FileType::directory) {
          file += "/SYS_" + std::string(cat.name);
          size.reset();
        }
        auto read = reader_.file_codeset(file, size, cat);
        if (!read) {
          note_error(read.error());
          if (!read.missing()) out.notes.push_back(read.error().message);
          continue;
        }
        const Result<std::string>& codeset = *read;
        if (!codeset) {  // glibc skips bad data and tries the next name
          out.notes.push_back(codeset.error().message);
          continue;
        }
        // glibc takes the first loadable file, then rejects it if the codeset differs.
        if (parts.codeset && !codesets_match(*parts.codeset, *codeset)) {
          out.notes.push_back(file + " has codeset " + *codeset + ", not " + *parts.codeset);
          return out;
        }
        out.found = Found{"directory", locale_dir, variant, *codeset, alias};
        return out;
      }
    }
    return out;
  }

  json archive_details() const {
    json d = {{"path", kLocaleArchivePath}};
    if (!use_archive_) {
      d["searched"] = false;
      d["reason"] = "LOCPATH is set: glibc does not read the archive";
      return d;
    }
    d["present"] = archive_present_;
    if (!archive_error_.empty()) d["error"] = archive_error_;
    if (archive_) {
      std::vector<std::string> names = archive_->names();
      d["serial"] = archive_->serial();
      d["locale_count"] = names.size();
      d["locales_truncated"] = names.size() > kArchiveListCap;
      if (names.size() > kArchiveListCap) names.resize(kArchiveListCap);
      d["locales"] = names;
    }
    return d;
  }

  json alias_details() const {
    json d = {
        {"path", kLocaleAliasPath}, {"present", alias_present_}, {"aliases", aliases_.size()}};
    if (!alias_error_.empty()) d["error"] = alias_error_;
    return d;
  }

  const std::string& archive_error() const { return archive_error_; }
  // Once the run's deadline has passed every read fails; nothing found then means nothing.
  bool timed_out() const { return timed_out_; }
  const std::vector<std::string>& dirs() const { return dirs_; }

 private:
  std::optional<Found> from_archive(std::string_view name, const LocaleCategory& cat,
                                    std::vector<std::string>& notes) const {
    const std::string key = archive_lookup_name(name);
    const ArchiveLocale* locale = archive_->find(key);
    if (locale == nullptr) return std::nullopt;
    std::string codeset;
    const std::string what = std::string(kLocaleArchivePath) + " (" + key + ")";
    auto read = reader_.archive_codeset(*locale, cat, archive_size_, what);
    if (!read) {  // the archive could be read a moment ago: say so, the codeset stays unknown
      note_error(read.error());
      notes.push_back(read.error().message);
    } else if (!*read) {  // glibc treats the entry as absent and goes on
      notes.push_back(read->error().message);
      return std::nullopt;
    } else {
      codeset = **read;
    }
    return Found{"archive", std::string(kLocaleArchivePath), key, codeset, std::nullopt};
  }

  void load_archive() {
    auto info = fs_.stat(kLocaleArchivePath);
    if (!info) {
      note_error(info.error());
      if (!info.missing()) archive_error_ = info.error().message;
      return;
    }
    archive_present_ = true;
    archive_size_ = info->size;
    auto read = read_locale_archive(fs_, info->size);
    if (!read) {
      note_error(read.error());
      archive_error_ = read.error().message;
      return;
    }
    if (!*read) {
      archive_error_ = std::string(kLocaleArchivePath) + ": " + read->error().message;
      return;
    }
    archive_ = std::move(*read).value();
  }

  void load_aliases() {
    auto text = fs_.read_file(kLocaleAliasPath, 1u << 20);
    if (!text) {
      note_error(text.error());
      if (!text.missing()) alias_error_ = text.error().message;
      return;
    }
    alias_present_ = true;
    aliases_ = parse_locale_alias(*text);
  }

  void note_error(const Error& e) const { timed_out_ = timed_out_ || e.errno_value == ETIMEDOUT; }

  const RootFs& fs_;
  LocaleDataReader reader_;
  mutable bool timed_out_ = false;
  std::vector<std::string> dirs_;
  bool use_archive_ = true;
  bool archive_present_ = false;
  std::string archive_error_;
  std::uint64_t archive_size_ = 0;
  std::optional<LocaleArchive> archive_;
  bool alias_present_ = false;
  std::string alias_error_;
  LocaleAliases aliases_;
};

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
  std::vector<std::pair<const LocaleCategory*, Lookup>> lookups;

  std::size_t found_count() const {
    return static_cast<std::size_t>(std::count_if(
        lookups.begin(), lookups.end(), [](const auto& l) { return l.second.found.has_value(); }));
  }
  bool all_found() const { return found_count() == lookups.size(); }
  // LC_CTYPE's lookup when this variable decides it, else the first found one.
  const Found* headline() const {
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
    const Found* f = ctype_use() ? ctype_use()->headline() : nullptr;
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

// What CPython 3.7+ makes of this LC_CTYPE (PEP 538 coercion, PEP 540 UTF-8 mode).
json python_expectations(const Environment& env, const Assignment& a, const GlibcLocales& glibc) {
  const bool legacy = a.ctype_is_c();
  const auto utf8_env = env_value(env, "PYTHONUTF8");
  std::optional<std::string> target;
  for (std::string_view t : kCoercionTargets) {
    if (!target && glibc.find(t, *find_locale_category("LC_CTYPE")).found) target = std::string(t);
  }
  const bool coercion = legacy && !env_value(env, "LC_ALL") &&
                        env_value(env, "PYTHONCOERCECLOCALE").value_or("") != "0" && target;
  json py = {{"legacy_c_locale", legacy},
             {"utf8_mode", utf8_env ? *utf8_env == "1" : legacy},
             {"locale_coercion", coercion}};
  if (target) py["coercion_target"] = *target;
  return py;
}

std::string describe_found(const Found& f) {
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
  if (const Found* f = use.headline()) {
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
  std::string found, missing;  // name the shorter list
  for (const auto& [cat, l] : use.lookups) {
    std::string& list = l.found ? found : missing;
    list += (list.empty() ? "" : ", ") + std::string(cat->name);
  }
  return item + (use.lookups.size() - use.found_count() <= 3
                     ? " is incomplete (no " + missing + ")"
                     : " is incomplete (only " + found + ")");
}

Finding archive_finding(CheckStatus severity, const std::string& archive_error) {
  return Finding{severity,
                 "the locale archive is unreadable: " + archive_error,
                 "",
                 "",
                 "Regenerate the archive:",
                 {"rm " + std::string(kLocaleArchivePath) + " && locale-gen"}};
}

CheckOutcome judge(const Assignment& a, const GlibcLocales& glibc, bool locpath) {
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
  std::string others;
  for (const VariableUse& u : a.uses) {
    if (&u != a.ctype_use()) others += (others.empty() ? "" : ", ") + u.variable + "=" + u.value;
  }
  if (!others.empty()) summary += "; " + others + " also found";
  if (locpath) summary += "; LOCPATH is set";
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

bool is_musl_root(const RootFs& fs) {
  auto entries = fs.list_dir("/lib");
  return entries && std::any_of(entries->begin(), entries->end(),
                                [](const DirEntry& e) { return e.name.starts_with("ld-musl-"); });
}

CheckOutcome run_locale(const Context& ctx) {
  json vars = json::object();
  for (std::string_view name :
       {"LC_ALL", "LC_CTYPE", "LC_NUMERIC", "LC_TIME", "LC_COLLATE", "LC_MONETARY", "LC_MESSAGES",
        "LC_PAPER", "LC_NAME", "LC_ADDRESS", "LC_TELEPHONE", "LC_MEASUREMENT", "LC_IDENTIFICATION",
        "LANG", "LANGUAGE", "LOCPATH", "PYTHONUTF8", "PYTHONCOERCECLOCALE"}) {
    if (auto v = ctx.env.get(name)) vars[std::string(name)] = std::string(*v);
  }
  // PEP 540: any PYTHONUTF8 other than 0 or 1 stops the interpreter at startup.
  const auto utf8_env = env_value(ctx.env, "PYTHONUTF8");
  if (utf8_env && *utf8_env != "0" && *utf8_env != "1") {
    const std::string why =
        "PYTHONUTF8=" + *utf8_env + ": Python refuses to start (only 0 or 1 is valid)";
    return CheckOutcome{
        CheckStatus::fail,
        why,
        {{"variables", vars}},
        {Finding{CheckStatus::fail, why, "", "", "Set PYTHONUTF8=1 (or 0), or unset it.", {}}}};
  }
  if (is_musl_root(ctx.fs)) {
    return skipped("musl libc: every locale name is accepted, there is no locale data to check",
                   {{"variables", vars}, {"libc", "musl"}});
  }
  const auto locpath = env_value(ctx.env, "LOCPATH");
  const GlibcLocales glibc(ctx.fs, locpath);
  const Assignment a = assign_categories(ctx.env, glibc);

  CheckOutcome out = judge(a, glibc, locpath.has_value());
  if (glibc.timed_out()) {
    out = errored("ran out of time while reading locale data");
  }
  json& d = out.details;
  d["variables"] = vars;
  d["libc"] = "glibc";
  json locales = json::array();
  for (const VariableUse& use : a.uses) locales.push_back(use_details(use));
  d["locales"] = locales;
  if (!a.ignored.empty()) d["ignored"] = a.ignored;
  d["effective_locale"] = a.ctype_locale;
  d["effective_source"] = a.ctype_use() ? json(a.ctype_use()->variable) : json(nullptr);
  if (locpath) d["locpath"] = glibc.dirs();
  d["archive"] = glibc.archive_details();
  d["alias_file"] = glibc.alias_details();
  d["python"] = python_expectations(ctx.env, a, glibc);
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
      run_locale,
      {}};
}

}  // namespace pycheck
