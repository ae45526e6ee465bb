// os.eol: whether the image's OS release (Debian, Ubuntu, Alpine) still gets security updates.
#include <algorithm>
#include <optional>
#include <string>

#include "agent/core/findings.h"
#include "checks/check_table.h"
#include "checks/data/eol_tables.h"
#include "checks/facts/dpkg_database.h"
#include "checks/formats/os_release.h"

namespace pycheck {
namespace {

constexpr std::string_view kExplain =
    "The official python image is built FROM a Debian release (trixie and bookworm variants, "
    "slim or full) or Alpine (alpine3.23, alpine3.24). Everything outside /usr/local (libc, "
    "OpenSSL, zlib, libexpat, ca-certificates, tzdata) comes from that release and gets "
    "security fixes only while the release is supported. docker-library rebuilds the image "
    "when the base changes and drops variants of releases it no longer builds, but an image "
    "you built stays on the release it was built from.\n\n"
    "pycheck reads /etc/os-release (else /usr/lib/os-release, as os-release(5) says) with "
    "shell-style quoting, plus /etc/debian_version for Debian's point release, and looks ID "
    "and VERSION_ID up in tables embedded in the binary (distro-info-data's debian.csv and "
    "ubuntu.csv, Alpine's release page); pycheck works offline and does not refresh them, so "
    "the table's date is in the details. Debian releases get about three years of regular "
    "security support, then two years of Debian LTS. LTS updates come from the same "
    "security.debian.org suite the image already uses, so nothing has to change in the "
    "image's sources: pycheck counts LTS as supported (and says the release is in LTS) "
    "unless the table records LTS architectures and the image's (dpkg's) is not one of them. "
    "LTS covers fewer packages: `check-support-status` from debian-security-support lists "
    "the uncovered ones. Ubuntu counts until the end of standard support (ESM needs Ubuntu "
    "Pro, which the image does not have); Alpine until its main repository's end of support. "
    "The end date itself counts as ended.\n\n"
    "It fails after the end, warns within `warn_months` (6) months of it, passes otherwise, "
    "and skips an OS it has no dates for (Debian testing/unstable, other distributions). Fix "
    "by rebuilding on a supported variant, e.g. FROM python:3.13-slim-trixie, and rebuilding "
    "anything compiled against the old libraries.";

constexpr std::string_view kOsReleasePaths[] = {"/etc/os-release", "/usr/lib/os-release"};
constexpr std::string_view kDebianVersionPath = "/etc/debian_version";

std::string in_days(long days) {
  if (days == 0) return "today";
  if (days > 0) return "in " + std::to_string(days) + (days == 1 ? " day" : " days");
  return std::to_string(-days) + (days == -1 ? " day ago" : " days ago");
}

// The native architecture dpkg was installed for; "" when unknown. Error: the deadline.
Result<std::string> dpkg_architecture(const Context& ctx) {
  const auto db = dpkg_database_of(ctx);
  if (db->timed_out()) return db->error();
  if (!db->ok()) return std::string();
  for (std::string_view package : {"dpkg", "base-files", "libc6"}) {
    const DpkgRecord* record = (*db)->find_installed(package);
    if (record != nullptr && !record->architecture.empty() && record->architecture != "all") {
      return record->architecture;
    }
  }
  return std::string();
}

std::string os_label(const OsRelease& os, std::string_view debian_version) {
  std::string label = os.name();
  if (os.id() == "debian") label = "Debian";
  if (os.id() == "ubuntu") label = "Ubuntu";
  if (os.id() == "alpine") label = "Alpine";
  label += " " + os.version_id();
  std::string extra = os.version_codename();
  if (!debian_version.empty() && debian_version != os.version_id()) {
    extra += (extra.empty() ? "" : ", ") + std::string(debian_version);
  }
  return extra.empty() ? label : label + " (" + extra + ")";
}

// The outcome; a warning or failure carries what it means and its fix as the one finding.
CheckOutcome finish(CheckOutcome out, CheckStatus status, std::string summary, std::string fix = {},
                    std::string consequence = {}) {
  out.status = status;
  out.summary = std::move(summary);
  if (!fix.empty()) {
    out.findings.push_back(
        Finding{status, out.summary, std::move(consequence), "", std::move(fix), {}});
  }
  return out;
}

std::string remedy_for(std::string_view id) {
  if (id == "debian") {
    return "Rebuild on a supported Debian: FROM python:<minor>-slim-trixie (Debian 13), then "
           "rebuild anything compiled against the old libraries.";
  }
  if (id == "ubuntu") {
    return "Rebuild on a supported Ubuntu LTS (or attach Ubuntu Pro for ESM updates).";
  }
  return "Rebuild on a supported Alpine: FROM python:<minor>-alpine3.24.";
}

// The release as the image names it: os-release and, on Debian, the point release.
struct OsFacts {
  std::string path;  // the os-release file read
  OsRelease os;
  std::string debian_version;  // "" when unknown
};

// os-release(5): /etc/os-release, and /usr/lib/os-release only when the first
// does not exist. nullopt when neither exists; an Error when the file cannot
// be read (or the deadline stopped a read) or parsed.
Result<std::optional<OsFacts>> read_os_facts(const RootFs& fs) {
  OsFacts facts;
  Result<std::string> text = Error{"", 2};
  for (std::string_view candidate : kOsReleasePaths) {
    facts.path = std::string(candidate);
    text = fs.read_file(candidate, 64u << 10);
    if (!text.missing()) break;
  }
  if (text.missing()) return std::optional<OsFacts>();
  if (!text) return text.error();
  auto parsed = parse_os_release(*text);
  if (!parsed) return Error{facts.path + ": " + parsed.error().message};
  facts.os = std::move(*parsed);
  if (facts.os.id() == "debian") {
    auto dv = fs.read_file(kDebianVersionPath, 4096);
    if (dv.timed_out()) return dv.error();
    auto value = dv ? parse_debian_version(*dv) : Result<std::string>(dv.error());
    if (value) facts.debian_version = *value;
  }
  return std::optional<OsFacts>(std::move(facts));
}

json os_release_details(const OsFacts& facts) {
  const OsRelease& os = facts.os;
  return {{"path", facts.path},
          {"id", os.id()},
          {"id_like", os.id_like()},
          {"name", os.name()},
          {"pretty_name", os.pretty_name()},
          {"version_id", os.version_id()},
          {"version_codename", os.version_codename()},
          {"problems", os.problems}};
}

// The end of support that applies to this image.
struct SupportEnd {
  bool lts_applies = false;
  std::string arch_note;  // " (Debian LTS does not cover <arch>)" or ""
  Date end;
};

// Debian LTS counts when the table does not restrict it to architectures the image lacks.
Result<SupportEnd> support_end(const Context& ctx, const OsLifecycle& life, json& details) {
  SupportEnd s;
  s.lts_applies = life.lts_end.has_value();
  if (s.lts_applies && !life.lts_architectures.empty()) {
    const auto arch = dpkg_architecture(ctx);
    if (!arch) return arch.error();
    details["architecture"] = arch->empty() ? json(nullptr) : json(*arch);
    if (!arch->empty()) {
      s.lts_applies = std::find(life.lts_architectures.begin(), life.lts_architectures.end(),
                                *arch) != life.lts_architectures.end();
    }
    if (!s.lts_applies) s.arch_note = " (Debian LTS does not cover " + *arch + ")";
  }
  s.end = s.lts_applies ? *life.lts_end : life.security_end;
  return s;
}

json lifecycle_details(const OsLifecycle& life, bool lts_applies) {
  json lifecycle = {{"distribution", life.id},
                    {"version", life.version},
                    {"codename", life.codename},
                    {"security_support_end", format_date(life.security_end)}};
  if (life.lts_end) {
    lifecycle["lts_end"] = format_date(*life.lts_end);
    json archs = json::array();
    for (std::string_view a : life.lts_architectures) archs.push_back(a);
    lifecycle["lts_architectures"] = archs.empty() ? json(nullptr) : archs;
    lifecycle["lts_applies"] = lts_applies;
  }
  return lifecycle;
}

// The headline of a release whose end is not near.
std::string supported_summary(const std::string& label, const OsLifecycle& life,
                              const SupportEnd& support, bool in_lts, long days_left) {
  const std::string security_end = format_date(life.security_end);
  const std::string end_text = format_date(support.end);
  if (in_lts) {
    return label + " is in Debian LTS until " + end_text + " (regular security support " +
           "ended " + security_end + ")";
  }
  if (support.lts_applies) {
    return label + ": security support until " + security_end + ", then Debian LTS until " +
           end_text;
  }
  return label + ": " + (life.id == "ubuntu" ? "standard" : "security") + " support until " +
         end_text + " (" + in_days(days_left) + ")" + support.arch_note;
}

CheckOutcome judge(CheckOutcome out, const Date& today, int warn_months, const std::string& label,
                   const OsLifecycle& life, const SupportEnd& support) {
  const std::string end_text = format_date(support.end);
  out.details["lifecycle"] = lifecycle_details(life, support.lts_applies);
  const long days_left = days_between(today, support.end);
  const bool in_lts = support.lts_applies && today >= life.security_end && today < support.end;
  out.details["phase"] = today >= support.end ? "end-of-life" : (in_lts ? "lts" : "regular");
  out.details["end_used"] = end_text;
  out.details["days_left"] = days_left;
  out.details["warn_from"] = format_date(months_before(support.end, warn_months));

  const std::string lts_note = in_lts ? " (in Debian LTS since " + format_date(life.security_end) +
                                            ": fewer packages are covered)"
                                      : "";
  switch (judge_end(today, support.end, warn_months)) {
    case EndJudgement::ended:
      return finish(std::move(out), CheckStatus::fail,
                    label + " reached end of life on " + end_text + " (" + in_days(days_left) +
                        "): no more security updates" + support.arch_note,
                    remedy_for(life.id), "its packages get no more security fixes");
    case EndJudgement::in_window:
      return finish(std::move(out), CheckStatus::warn,
                    label + ": security updates end on " + end_text + " (" + in_days(days_left) +
                        ")" + lts_note + support.arch_note,
                    "Plan the move before " + end_text + ". " + remedy_for(life.id),
                    "after " + end_text + " its packages get no more security fixes");
    case EndJudgement::before_window:
      break;
  }
  return finish(std::move(out), CheckStatus::pass,
                supported_summary(label, life, support, in_lts, days_left));
}

CheckOutcome run(const Context& ctx) {
  CheckOutcome out;
  const int warn_months = ctx.params.at("warn_months").get<int>();
  const Date today = calendar_day(ctx.now);
  out.details["today"] = format_date(today);
  out.details["table"] = {{"as_of", kEolTablesAsOf}};

  const auto facts = read_os_facts(ctx.fs);
  if (facts.timed_out()) return timed_out(facts.error(), std::move(out.details));
  if (!facts) return finish(std::move(out), CheckStatus::error, facts.error().message);
  if (!*facts) {
    return finish(std::move(out), CheckStatus::skip,
                  "no /etc/os-release or /usr/lib/os-release: the OS cannot be told");
  }
  const OsRelease& os = (*facts)->os;
  const std::string& debian_version = (*facts)->debian_version;
  out.details["os_release"] = os_release_details(**facts);
  out.details["debian_version"] = debian_version.empty() ? json(nullptr) : json(debian_version);
  if (os.id() == "debian" && os.version_id().empty()) {
    return finish(std::move(out), CheckStatus::skip,
                  "Debian testing/unstable (" +
                      (debian_version.empty() ? os.pretty_name() : debian_version) +
                      ") has no end-of-life date");
  }
  const OsLifecycle* life = find_os_lifecycle(os.id(), os.version_id());
  if (life == nullptr) {
    return finish(std::move(out), CheckStatus::skip,
                  "no end-of-life dates for " + os.pretty_name() + " in the table (as of " +
                      std::string(kEolTablesAsOf) + ": Debian, Ubuntu, Alpine)");
  }
  out.details["table"]["source"] = life->source;
  const auto support = support_end(ctx, *life, out.details);
  if (!support) return timed_out(support.error(), std::move(out.details));
  return judge(std::move(out), today, warn_months, os_label(os, debian_version), *life, *support);
}

}  // namespace

CheckInfo os_eol_check() {
  return CheckInfo{"os.eol",
                   "OS release still gets security updates",
                   kExplain,
                   run,
                   {{"warn_months", "6", "warn this many months before the end of support",
                     ParamType::integer(0, 60)}}};
}

}  // namespace pycheck
