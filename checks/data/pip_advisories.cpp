#include "checks/data/pip_advisories.h"

namespace pycheck {
namespace {

constexpr PipAdvisory kAdvisories[] = {
    {"CVE-2019-20916", "19.2", "",
     "a Content-Disposition filename with ../ writes outside the target folder (pip#6413)"},
    {"CVE-2021-3572", "21.1", "",
     "unicode separators in git references let a branch name pass for a tag (pip#9827)"},
    {"CVE-2021-28363", "21.1", "", "vendored urllib3 before 1.26.4 (HTTPS proxy not verified)"},
    {"CVE-2023-5752", "23.3", "",
     "Mercurial `-r=` injects configuration when installing from an hg URL (pip#12306)"},
    {"pip#13079 (no CVE)", "25.0", "24.1b1",
     "a crafted wheel runs code through the lazily imported self version check"},
    {"CVE-2025-8869 / GHSA-4xh5-x5gv-qwph", "25.3", "",
     "an sdist symlink can point outside the extraction folder on pre-PEP 706 Pythons "
     "(pip#13550)"},
    {"CVE-2026-1703 / GHSA-6vgw-5pg2-w6jp", "26.0", "",
     "a path-segment prefix check lets archive members escape (pip#13777)"},
    {"CVE-2026-3219", "26.1", "", "tar+ZIP confusion in archives (pip#13867)"},
    {"CVE-2026-6357 / GHSA-jp4c-xjxw-mgf9", "26.1", "", "post-install import warning (pip#13912)"},
    {"pip#14000 (no CVE)", "26.1.2", "", "entry-point names can escape the scripts folder"},
    {"CVE-2026-13346", "26.2", "",
     "URL path decoded twice (pip#14110); extra tar symlink hardening (pip#14127)"},
};

}  // namespace

std::span<const PipAdvisory> pip_advisories() { return kAdvisories; }

std::vector<const PipAdvisory*> pip_advisories_for(const Pep440Version& version) {
  std::vector<const PipAdvisory*> out;
  for (const PipAdvisory& a : kAdvisories) {
    auto fixed = parse_pep440(a.fixed_in);
    if (!fixed || compare_pep440(version, *fixed) >= 0) continue;
    if (!a.introduced_in.empty()) {
      auto introduced = parse_pep440(a.introduced_in);
      if (introduced && compare_pep440(version, *introduced) < 0) continue;
    }
    out.push_back(&a);
  }
  return out;
}

}  // namespace pycheck
