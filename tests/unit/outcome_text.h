// said(outcome): everything a check's outcome tells a person — the headline,
// then each finding's message, consequence, cause, fix and commands — for tests
// that ask whether something was said, not where.
#pragma once

#include <string>

#include "agent/core/check.h"

namespace pycheck {

template <typename Outcome>  // CheckOutcome or CheckResult
std::string said(const Outcome& out) {
  std::string text = out.summary;
  for (const Finding& f : out.findings) {
    for (const std::string* part : {&f.message, &f.consequence, &f.cause, &f.fix}) {
      if (!part->empty()) text += "\n" + *part;
    }
    for (const std::string& c : f.commands) text += "\n" + c;
  }
  return text;
}

}  // namespace pycheck
