#include "agent/core/findings.h"

#include <algorithm>

namespace pycheck {
namespace {

int rank(CheckStatus s) {
  switch (s) {
    case CheckStatus::fail:
      return 3;
    case CheckStatus::error:
      return 2;
    case CheckStatus::warn:
      return 1;
    default:
      return 0;
  }
}

void add_distinct(std::vector<std::string>& to, const std::string& item) {
  if (!item.empty() && std::find(to.begin(), to.end(), item) == to.end()) to.push_back(item);
}

CheckOutcome without_findings(CheckStatus status, std::string summary, json details) {
  CheckOutcome out;
  out.status = status;
  out.summary = std::move(summary);
  out.details = std::move(details);
  return out;
}

}  // namespace

Finding& OutcomeBuilder::add(CheckStatus severity, std::string message) {
  Finding& f = findings_.emplace_back();
  f.severity = severity;
  f.message = std::move(message);
  return f;
}

CheckStatus OutcomeBuilder::status() const {
  CheckStatus worst = CheckStatus::pass;
  for (const Finding& f : findings_) {
    if (rank(f.severity) > rank(worst)) worst = f.severity;
  }
  return worst;
}

CheckOutcome OutcomeBuilder::finish(std::string headline) && {
  CheckOutcome out = without_findings(status(), std::move(headline), std::move(details_));
  out.findings = std::move(findings_);
  return out;
}

CheckOutcome skipped(std::string why, json details) {
  return without_findings(CheckStatus::skip, std::move(why), std::move(details));
}

CheckOutcome errored(std::string why, json details) {
  return without_findings(CheckStatus::error, std::move(why), std::move(details));
}

CheckOutcome timed_out(const Error& error, json details) {
  // RootFs and the HTTP client already say "timed out" in their messages.
  std::string why = error.message.find("timed out") != std::string::npos
                        ? error.message
                        : "timed out: " + error.message;
  return errored(std::move(why), std::move(details));
}

FixBlock fix_block(const std::vector<Finding>& findings) {
  FixBlock block;
  for (const Finding& f : findings) {
    add_distinct(block.advice, f.fix);
    for (const std::string& c : f.commands) add_distinct(block.commands, c);
  }
  return block;
}

std::string remediation_text(const std::vector<Finding>& findings) {
  const FixBlock block = fix_block(findings);
  std::string out;
  for (const std::string& a : block.advice) out += (out.empty() ? "" : " ") + a;
  for (const std::string& c : block.commands) out += (out.empty() ? "" : "\n") + c;
  return out;
}

std::vector<CauseGroup> group_by_cause(const std::vector<Finding>& findings) {
  std::vector<CauseGroup> groups;
  for (const Finding& f : findings) {
    auto same = std::find_if(groups.begin(), groups.end(), [&](const CauseGroup& g) {
      return !f.cause.empty() && g.cause == f.cause;
    });
    if (same == groups.end()) same = groups.insert(groups.end(), CauseGroup{f.cause, {}});
    same->findings.push_back(&f);
  }
  return groups;
}

std::string finding_line(const Finding& finding) {
  if (finding.consequence.empty()) return finding.message;
  return finding.message + ": " + finding.consequence;
}

}  // namespace pycheck
