#include "agent/cli/run_inputs.h"

#include <cstdio>
#include <ctime>
#include <set>

#include "agent/cli/config.h"
#include "agent/cli/file_output.h"
#include "agent/core/duration.h"
#include "agent/http/http_client.h"
#include "checks/check_table.h"

namespace pycheck {
namespace {

// "2026-11-28" or "2026-11-28T12:00:00Z": the moment dates are judged against.
Result<std::chrono::system_clock::time_point> parse_now(const std::string& text) {
  std::tm tm{};
  int n = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &n) != 3) {
    return Error{"--now: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, got \"" + text + "\""};
  }
  std::string rest = text.substr(static_cast<std::size_t>(n));
  if (!rest.empty() &&
      std::sscanf(rest.c_str(), "T%2d:%2d:%2dZ", &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 3) {
    return Error{"--now: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, got \"" + text + "\""};
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

Result<std::optional<std::chrono::system_clock::time_point>> given_now(const RunArgs& args) {
  if (args.now.empty()) return std::optional<std::chrono::system_clock::time_point>{};
  auto now = parse_now(args.now);
  if (!now) return now.error();
  return std::optional(*now);
}

Result<Config> load_config(const RunArgs& args) {
  if (args.config_file.empty()) return Config{};
  auto text = read_host_file(args.config_file);
  if (!text) return Error{"--config: " + text.error().message};
  auto parsed = parse_config(*text, check_table());
  if (!parsed) return Error{args.config_file + ": " + parsed.error().message};
  return parsed;
}

// The run's deadline (agent/cli/run_timeout.h).
Result<std::chrono::milliseconds> run_timeout(const RunArgs& args, const Config& config,
                                              RunKind kind, bool online) {
  std::optional<std::chrono::milliseconds> given;
  if (!args.timeout.empty()) {
    auto t = parse_duration(args.timeout);
    if (!t) return Error{"--timeout: " + t.error().message};
    given = *t;
  }
  return resolve_run_timeout(given, config.timeout, kind, online);
}

CheckStatus effective_fail_on(const RunArgs& args, const Config& config) {
  if (args.fail_on.empty()) return config.fail_on.value_or(CheckStatus::fail);
  return args.fail_on == "warn" ? CheckStatus::warn : CheckStatus::fail;
}

// Which checks run: the table, minus config-disabled ones, narrowed by
// --check, minus --skip. Unknown ids are a usage error listing the known ones.
Result<std::vector<PlannedCheck>> plan_checks(const RunArgs& args, const Config& config) {
  for (const auto* list : {&args.only, &args.skip}) {
    for (const std::string& id : *list) {
      if (find_check(id) == nullptr) return unknown_check(id);
    }
  }
  std::set<std::string, std::less<>> only(args.only.begin(), args.only.end());
  std::set<std::string, std::less<>> skip(args.skip.begin(), args.skip.end());
  std::vector<PlannedCheck> planned;
  for (const CheckInfo& check : check_table()) {
    auto cc = config.checks.find(check.id);
    bool enabled = cc == config.checks.end() || cc->second.enabled;
    if (!only.empty()) enabled = only.contains(check.id);  // an explicit --check wins over config
    if (skip.contains(check.id)) enabled = false;
    if (!enabled) continue;
    PlannedCheck p;
    p.info = &check;
    p.params = effective_params(check, config);
    if (cc != config.checks.end()) p.severity = cc->second.severity;
    planned.push_back(std::move(p));
  }
  return planned;
}

}  // namespace

Error unknown_check(const std::string& id) {
  std::string known;
  for (const CheckInfo& c : check_table()) known += "\n  " + std::string(c.id);
  return Error{"unknown check id \"" + id + "\"; known ids:" + known};
}

Result<Environment> judged_environment(const RunArgs& args) {
  if (!args.env_file.empty()) {
    auto text = read_host_file(args.env_file);
    if (!text) return Error{"--env-file: " + text.error().message};
    auto env = Environment::parse_env_file(*text);
    if (!env) return Error{"--env-file " + args.env_file + ": " + env.error().message};
    return env;
  }
  if (args.pid > 0) {
    std::string path = "/proc/" + std::to_string(args.pid) + "/environ";
    auto block = read_host_file(path);
    if (!block) return Error{"--pid: " + block.error().message};
    return Environment::parse_environ_block(*block);
  }
  return Environment::from_process();
}

Result<RunInputs> build_run(const RunArgs& args, RunKind kind) {
  auto config = load_config(args);
  if (!config) return config.error();
  const bool online = args.online || config->online.value_or(false);
  auto timeout = run_timeout(args, *config, kind, online);
  if (!timeout) return timeout.error();
  std::string root = args.pid > 0 ? "/proc/" + std::to_string(args.pid) + "/root" : args.root;
  auto fs = RootFs::open(root);
  if (!fs) return Error{"--root: " + fs.error().message};
  auto env = judged_environment(args);
  if (!env) return env.error();
  auto checks = plan_checks(args, *config);
  if (!checks) return checks.error();
  if (!online && !args.cache_dir.empty())
    return Error{"--cache-dir needs --online: offline runs make no requests"};
  auto now = given_now(args);
  if (!now) return now.error();
  return RunInputs{.root = std::move(root),
                   .fs = std::move(fs).value(),
                   .env = std::move(env).value(),
                   .checks = std::move(checks).value(),
                   .online = online,
                   .timeout = *timeout,
                   .fail_on = effective_fail_on(args, *config),
                   .now = *now,
                   .cache_dir = args.cache_dir};
}

std::shared_ptr<RunSetup> new_run_setup(RootFs fs, Environment env, bool online,
                                        std::chrono::system_clock::time_point now) {
  auto setup = std::make_shared<RunSetup>(std::move(fs), std::move(env));
  setup->now = now;
  setup->online = online;
  return setup;
}

std::shared_ptr<const HttpClient> run_http_client(const std::string& cache_dir,
                                                  std::chrono::milliseconds timeout) {
  HttpClientOptions http;
  http.deadline = std::chrono::steady_clock::now() + timeout;
  http.cache_dir = cache_dir;
  return std::make_shared<const HttpClient>(http);
}

}  // namespace pycheck
