// What a check is and what it returns.
//
// A check is a pure function of a Context (what to read, how to judge) that
// returns a CheckOutcome. It never prints, exits, touches "/" directly or
// throws; the runner adds the id, title and duration and turns anything
// unexpected into an `error` result.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/environment.h"
#include "agent/core/run_facts.h"

namespace pycheck {

using json = nlohmann::ordered_json;

class HttpClient;  // agent/http/http_client.h
class RootFs;      // agent/rootfs/rootfs.h

enum class CheckStatus { pass, warn, fail, skip, error };
std::string_view to_string(CheckStatus status);
// Parses "pass", "warn", ... ; nullopt for anything else.
std::optional<CheckStatus> parse_check_status(std::string_view text);

struct Context {
  const RootFs& fs;                           // the inspected root: every file goes through it
  const Environment& env;                     // the environment being judged
  const json& params;                         // this check's parameters (defaults + config)
  std::chrono::system_clock::time_point now;  // the wall clock, injectable for tests
  bool online = false;                        // network allowed (--online)
  const HttpClient* http = nullptr;           // the one HTTP client; null when offline
  const RunFacts* facts = nullptr;            // shared by the run's checks; null: not shared
};

// The fact `name` of type T for this run (see shared_fact in agent/core/run_facts.h).
template <typename T, typename Compute>
std::shared_ptr<const T> shared_fact(const Context& ctx, std::string_view name, Compute&& compute) {
  return shared_fact<T>(ctx.facts, name, std::forward<Compute>(compute));
}

// One thing a check found wrong. Every renderer works from findings, so a
// cause and its fix are said once: text groups findings that share a `cause`,
// and gathers each check's fixes into one block of distinct commands.
struct Finding {
  CheckStatus severity = CheckStatus::warn;  // warn, fail or error
  std::string message;                       // what is wrong, one line, no trailing period
  std::string consequence;                   // what breaks because of it; may be empty
  std::string cause;                         // a cause findings share, said once; may be empty
  std::string fix;                           // what to do, in a sentence; may be empty
  std::vector<std::string> commands;         // shell commands that fix it, copy-paste ready

  // Chained setters for the builder (agent/core/findings.h): f.breaks(…).run(…).
  Finding& breaks(std::string what) { return consequence = std::move(what), *this; }
  Finding& because(std::string shared_cause) { return cause = std::move(shared_cause), *this; }
  Finding& fix_by(std::string advice) { return fix = std::move(advice), *this; }
  Finding& run(std::string command) { return commands.push_back(std::move(command)), *this; }
};

// The fix of a check as one text: its distinct advice sentences, then its
// distinct commands, one per line (JSON's `remediation`).
std::string remediation_text(const std::vector<Finding>& findings);

struct CheckOutcome {
  CheckStatus status = CheckStatus::error;
  std::string summary;            // the headline: one short line, no trailing period
  json details = json::object();  // structured facts for machines
  std::vector<Finding> findings;  // what is wrong; empty for pass and skip

  std::string remediation() const { return remediation_text(findings); }
};

// The values a check parameter accepts. The config is checked against it when
// it loads (agent/cli/config.h), so a check runs with parameters that are valid and
// complete: no check re-checks them or supplies its own default.
struct ParamType {
  enum class Kind { unspecified, one_of, integer, string_list };
  Kind kind = Kind::unspecified;          // unspecified: the default's JSON type, nothing more
  std::vector<std::string_view> allowed;  // one_of
  long long min = 0;                      // integer, inclusive
  long long max = 0;
  std::string_view item_form;                   // string_list: "name port/protocol"; empty: any
  bool (*item_ok)(std::string_view) = nullptr;  // string_list: whether an item has item_form

  static ParamType one_of(std::initializer_list<std::string_view> values) {
    return {Kind::one_of, values, 0, 0, {}, nullptr};
  }
  static ParamType integer(long long min, long long max) {
    return {Kind::integer, {}, min, max, {}, nullptr};
  }
  static ParamType string_list(std::string_view item_form = {},
                               bool (*item_ok)(std::string_view) = nullptr) {
    return {Kind::string_list, {}, 0, 0, item_form, item_ok};
  }
};

// A parameter a check accepts in the config file: its default is declared
// here and nowhere else.
struct CheckParam {
  std::string_view name;
  std::string_view default_json;  // JSON text of the default, a valid value of `type`
  std::string_view description;   // what it does; `pycheck explain` adds type and default
  ParamType type = {};  // every table entry gives one (unspecified only while one is reworked)
};

// Roughly what a check costs on the python image. A run starts the costlier
// checks first, so that on a few cores a long check does not start after the
// others are done (the report keeps table order).
enum class CheckCost { light, medium, heavy };

struct CheckInfo {
  std::string_view id;       // stable: "python.path"
  std::string_view title;    // short: "python3, python and pip on PATH"
  std::string_view explain;  // why it matters, how it is checked, how to fix
  CheckOutcome (*run)(const Context&) = nullptr;
  std::vector<CheckParam> params;
  CheckCost cost = CheckCost::light;
};

struct CheckResult {
  std::string id;
  std::string title;
  CheckStatus status = CheckStatus::error;
  std::string summary;
  json details = json::object();
  std::vector<Finding> findings;
  double duration_ms = 0;

  std::string remediation() const { return remediation_text(findings); }
};

}  // namespace pycheck
