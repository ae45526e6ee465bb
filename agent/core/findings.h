// The one way a check makes its outcome: add findings while judging, then
// finish with a short headline. The status is the worst finding's severity
// (fail, then error, then warn), or pass when nothing was found.
//
//   OutcomeBuilder out(std::move(details));
//   out.fail("_ssl cannot load: libssl.so.3 not found")
//       .breaks("import ssl fails: https in urllib, pip, requests")
//       .because("libssl3 is purged or was never installed")
//       .run("apt-get install -y --no-install-recommends libssl3");
//   return out.finish("2 extension modules cannot load");
#pragma once

#include <string>
#include <vector>

#include "agent/core/check.h"

namespace pycheck {

class OutcomeBuilder {
 public:
  explicit OutcomeBuilder(json details = json::object()) : details_(std::move(details)) {}

  // A new finding, to fill in with Finding's chained setters. The reference
  // holds until the next finding is added.
  Finding& add(CheckStatus severity, std::string message);
  Finding& add(Finding finding) { return findings_.emplace_back(std::move(finding)); }
  Finding& warn(std::string message) { return add(CheckStatus::warn, std::move(message)); }
  Finding& fail(std::string message) { return add(CheckStatus::fail, std::move(message)); }

  json& details() { return details_; }
  const std::vector<Finding>& findings() const { return findings_; }
  bool empty() const { return findings_.empty(); }
  // The worst severity so far: fail, then error, then warn; pass when none.
  CheckStatus status() const;

  CheckOutcome finish(std::string headline) &&;

 private:
  json details_;
  std::vector<Finding> findings_;
};

// Outcomes without findings: nothing to judge, or a check that could not tell.
CheckOutcome skipped(std::string why, json details = json::object());
CheckOutcome errored(std::string why, json details = json::object());
// The one way a check reports the run's deadline: `error` "timed out: <what>".
CheckOutcome timed_out(const Error& error, json details = json::object());

// The distinct advice sentences and the distinct commands of some findings, in
// the order they first appear: what a renderer shows once per check.
struct FixBlock {
  std::vector<std::string> advice;
  std::vector<std::string> commands;
  bool empty() const { return advice.empty() && commands.empty(); }
};
FixBlock fix_block(const std::vector<Finding>& findings);

// Findings grouped by shared cause, in order of first appearance: a group with
// an empty cause holds one finding.
struct CauseGroup {
  std::string cause;
  std::vector<const Finding*> findings;
};
std::vector<CauseGroup> group_by_cause(const std::vector<Finding>& findings);

// "message: consequence", or the message alone.
std::string finding_line(const Finding& finding);

}  // namespace pycheck
