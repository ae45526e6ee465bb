#include "agent/cli/cli.h"

#include <malloc.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <optional>
#include <set>

#include "agent/cli/config.h"
#include "agent/core/duration.h"
#include "agent/cli/file_output.h"
#include "agent/http/http_client.h"
#include "agent/cli/run_timeout.h"
#include "agent/run/runner.h"
#include "agent/serve/serve.h"
#include "agent/run/worker.h"
#include "checks/check_table.h"

namespace pycheck {
namespace {

constexpr int kExitUsage = 2;

struct RunArgs {
  std::string root = "/";
  int pid = 0;
  std::string env_file;
  std::string format = "text";
  std::string output;
  std::vector<std::string> only;
  std::vector<std::string> skip;
  std::string timeout;
  std::string config_file;
  std::string fail_on;
  std::string now;
  bool no_color = false;
  bool verbose = false;
  bool online = false;
  std::string cache_dir;
};

struct UsageError {
  std::string message;
};

std::string known_ids() {
  std::string out;
  for (const CheckInfo& c : check_table()) out += "\n  " + std::string(c.id);
  return out;
}

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

// Which checks run: the table, minus config-disabled ones, narrowed by
// --check, minus --skip. Unknown ids are a usage error listing the known ones.
Result<std::vector<PlannedCheck>> plan_checks(const RunArgs& args, const Config& config) {
  for (const auto* list : {&args.only, &args.skip}) {
    for (const std::string& id : *list) {
      if (find_check(id) == nullptr)
        return Error{"unknown check id \"" + id + "\"; known ids:" + known_ids()};
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

Config load_config(const RunArgs& args) {
  if (args.config_file.empty()) return {};
  auto text = read_host_file(args.config_file);
  if (!text) throw UsageError{"--config: " + text.error().message};
  auto parsed = parse_config(*text, check_table());
  if (!parsed) throw UsageError{args.config_file + ": " + parsed.error().message};
  return std::move(parsed).value();
}

// The run's deadline (agent/cli/run_timeout.h); a malformed --timeout is a usage error.
std::chrono::milliseconds run_timeout(const RunArgs& args, const Config& config, RunKind kind,
                                      bool online) {
  std::optional<std::chrono::milliseconds> given;
  if (!args.timeout.empty()) {
    auto t = parse_duration(args.timeout);
    if (!t) throw UsageError{"--timeout: " + t.error().message};
    given = *t;
  }
  return resolve_run_timeout(given, config.timeout, kind, online);
}

CheckStatus effective_fail_on(const RunArgs& args, const Config& config) {
  if (args.fail_on.empty()) return config.fail_on.value_or(CheckStatus::fail);
  return args.fail_on == "warn" ? CheckStatus::warn : CheckStatus::fail;
}

int run_command(const RunArgs& args) {
  hold_closed_stdio();  // before opening anything: the worker redirects fds 0-2
  Config config = load_config(args);
  const bool online = args.online || config.online.value_or(false);
  std::chrono::milliseconds timeout = run_timeout(args, config, RunKind::command, online);
  CheckStatus fail_on = effective_fail_on(args, config);

  std::string root = args.pid > 0 ? "/proc/" + std::to_string(args.pid) + "/root" : args.root;
  auto fs = RootFs::open(root);
  if (!fs) throw UsageError{"--root: " + fs.error().message};
  auto env = judged_environment(args);
  if (!env) throw UsageError{env.error().message};
  auto planned = plan_checks(args, config);
  if (!planned) throw UsageError{planned.error().message};

  auto setup = std::make_shared<RunSetup>(std::move(fs).value(), std::move(env).value());
  setup->checks = std::move(planned).value();
  setup->online = online;
  if (!setup->online && !args.cache_dir.empty()) {
    throw UsageError{"--cache-dir needs --online: offline runs make no requests"};
  }
  const auto started = std::chrono::system_clock::now();
  setup->now = started;
  if (!args.now.empty()) {
    auto now = parse_now(args.now);
    if (!now) throw UsageError{now.error().message};
    setup->now = *now;
  }

  // Asked here: the worker has no terminal.
  const char* no_color_env = std::getenv("NO_COLOR");
  const bool terminal = args.output.empty() && ::isatty(STDOUT_FILENO);
  TextOptions text;
  text.color = terminal && !args.no_color && (no_color_env == nullptr || *no_color_env == '\0');
  text.verbose = args.verbose;
  struct winsize size {};
  if (terminal && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
    text.width = size.ws_col;
  }
  auto render = [&](Report& report) {
    report.pycheck_version = PYCHECK_VERSION;
    report.root = root;
    report.started_at = format_rfc3339(started);
    if (args.format == "json") return render_json(report);
    if (args.format == "junit") return render_junit(report);
    if (args.format == "tap") return render_tap(report);
    if (args.format == "prometheus") return render_prometheus(report);
    return render_text(report, text);
  };
  // The checks run in a worker process (agent/run/worker.h): a check thread stuck
  // in a hung filesystem then cannot keep this process from exiting. Threads
  // and the HTTP client start in the worker only. The outcome lives in this
  // frame, as `setup` does: the worker exits from inside run_in_worker, so
  // it never spends time freeing the details it has just sent.
  std::optional<RunOutcome> outcome;
  auto work = [&] {
    // One run, then exit: keep freed memory for the next allocation instead of
    // handing it back to the kernel and faulting it in again (about a fifth of
    // a run's page faults), and serve big file reads from the heap, not mmap.
    ::mallopt(M_TRIM_THRESHOLD, 64 << 20);
    ::mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's largest
    reserve_descriptors_for_rootfs();
    if (setup->online) {
      // The one HTTP client of the run: bounded by the same deadline as the checks.
      HttpClientOptions http;
      http.deadline = std::chrono::steady_clock::now() + timeout;
      http.cache_dir = args.cache_dir;
      setup->http = std::make_shared<const HttpClient>(http);
    }
    outcome = run_checks(setup, timeout);
    return WorkerOutput{outcome->report.exit_code(fail_on), render(outcome->report),
                        verdict_line(outcome->report), outcome->abandoned_checks > 0};
  };
  constexpr auto kWorkerGrace = std::chrono::milliseconds(250);  // to render and send the report
  auto worker = run_in_worker(work, std::chrono::steady_clock::now() + timeout + kWorkerGrace);
  if (!worker) {
    // Never healthy when the worker could not tell: every check is an error.
    std::cerr << "pycheck: ERROR — " << worker.error().message << "\n";
    Report report = worker_failure_report(setup->checks, worker.error().message);
    const auto took = std::chrono::system_clock::now() - started;
    report.duration_ms = std::chrono::duration<double, std::milli>(took).count();
    worker = WorkerOutput{1, render(report), verdict_line(report), false};
  }
  int code = worker->exit_code;
  if (!args.output.empty()) {
    auto written = write_file_atomically(args.output, worker->report);
    if (!written) {
      std::cerr << "pycheck: --output: " << written.error().message << "\n";
      code = kExitUsage;
    } else {
      std::cout << worker->verdict << "\n";
    }
  } else {
    std::cout << worker->report;
  }
  std::cout.flush();
  if (worker->threads_left_behind) {
    // No worker could start and a check thread of ours is stuck in a read: do
    // not wait for it, do not run destructors under it.
    std::fflush(nullptr);
    std::_Exit(code);
  }
  return code;
}

struct ServeArgs {
  std::string listen = std::string(kDefaultListen);
  std::string interval = "30s";
  std::string online_interval = "6h";
};

// `pycheck serve`: the run options apply to every background run. What cannot
// work at all is a usage error now; each run then re-opens the root (and
// re-reads a --pid's environment), so a restarted container is seen.
int serve_command(const RunArgs& args, const ServeArgs& serve_args) {
  Config config = load_config(args);
  auto listen = parse_listen_address(serve_args.listen);
  if (!listen) throw UsageError{listen.error().message};
  SchedulerOptions options;
  options.online = args.online || config.online.value_or(false);
  options.timeout = run_timeout(args, config, RunKind::serve, options.online);
  options.fail_on = effective_fail_on(args, config);
  auto interval = parse_duration(serve_args.interval);
  if (!interval) throw UsageError{"--interval: " + interval.error().message};
  auto online_interval = parse_duration(serve_args.online_interval);
  if (!online_interval) throw UsageError{"--online-interval: " + online_interval.error().message};
  options.interval = *interval;
  options.online_interval = *online_interval;
  if (!options.online && !args.cache_dir.empty()) {
    throw UsageError{"--cache-dir needs --online: offline runs make no requests"};
  }
  std::string root = args.pid > 0 ? "/proc/" + std::to_string(args.pid) + "/root" : args.root;
  if (auto fs = RootFs::open(root); !fs) throw UsageError{"--root: " + fs.error().message};
  auto env = judged_environment(args);
  if (!env) throw UsageError{env.error().message};
  auto planned = plan_checks(args, config);
  if (!planned) throw UsageError{planned.error().message};
  std::optional<std::chrono::system_clock::time_point> now;
  if (!args.now.empty()) {
    auto parsed = parse_now(args.now);
    if (!parsed) throw UsageError{parsed.error().message};
    now = *parsed;
  }
  options.checks = std::move(planned).value();
  options.root = root;

  // Only a --pid's environment is read again for each run; an --env-file is
  // read once (it may be a pipe, which has nothing more to give).
  std::optional<Environment> fixed_env;
  if (args.pid == 0 || !args.env_file.empty()) fixed_env = std::move(env).value();
  SetupFactory make_setup =
      [args, root, fixed_env, now](
          bool online, std::chrono::milliseconds timeout) -> Result<std::shared_ptr<RunSetup>> {
    auto fs = RootFs::open(root);
    if (!fs) return Error{"cannot open the root " + root + ": " + fs.error().message};
    auto env = fixed_env ? Result<Environment>(*fixed_env) : judged_environment(args);
    if (!env) return Error{env.error().message};
    auto setup = std::make_shared<RunSetup>(std::move(fs).value(), std::move(env).value());
    setup->now = now.value_or(std::chrono::system_clock::now());
    setup->online = online;
    if (online) {
      HttpClientOptions http;
      http.deadline = std::chrono::steady_clock::now() + timeout;
      http.cache_dir = args.cache_dir;
      setup->http = std::make_shared<const HttpClient>(http);
    }
    return setup;
  };
  return run_serve(*listen, std::move(options), std::move(make_setup));
}

void print_list() {
  std::size_t width = 0;
  for (const CheckInfo& c : check_table()) width = std::max(width, c.id.size());
  for (const CheckInfo& c : check_table()) {
    std::cout << c.id << std::string(width - c.id.size() + 2, ' ') << c.title << "\n";
  }
}

int print_explain(const std::string& id) {
  const CheckInfo* c = find_check(id);
  if (c == nullptr) throw UsageError{"unknown check id \"" + id + "\"; known ids:" + known_ids()};
  std::cout << c->id << " — " << c->title << "\n\n" << c->explain << "\n";
  if (!c->params.empty()) {
    std::cout << "\nParameters (config file: checks.\"" << c->id << "\".params):\n";
    for (const CheckParam& p : c->params) {
      std::cout << "  " << p.name << ": " << describe_param_type(p) << "; default "
                << p.default_json << "\n      " << p.description << "\n";
    }
  }
  return 0;
}

void add_run_options(CLI::App& app, RunArgs& args) {
  app.add_option("--root", args.root,
                 "Root filesystem to inspect (a mounted image, /proc/PID/root)")
      ->check(CLI::ExistingDirectory);
  app.add_option(
         "--pid", args.pid,
         "Inspect process PID's container: root /proc/PID/root, environment /proc/PID/environ")
      ->check(CLI::PositiveNumber);
  app.add_option("--env-file", args.env_file,
                 "Judge the environment in FILE (KEY=VALUE lines) instead of pycheck's own");
  app.add_option("--format", args.format, "Output format: text, json, junit, tap, prometheus")
      ->check(CLI::IsMember({"text", "json", "junit", "tap", "prometheus"}));
  app.add_option("--output", args.output,
                 "Write the report to FILE atomically (the verdict line still goes to stdout)");
  app.add_option("--check", args.only, "Run only this check (repeatable)");
  app.add_option("--skip", args.skip, "Do not run this check (repeatable)");
  app.add_option("--timeout", args.timeout,
                 "Deadline for the whole run, e.g. 800ms, 2s; without it the config's "
                 "\"timeout\", else 800ms (10s with --online, and under serve)");
  app.add_option("--config", args.config_file, "JSON config: per-check enabled, severity, params");
  app.add_option("--fail-on", args.fail_on,
                 "Exit 1 on failures only (fail, default) or on warnings too (warn)")
      ->check(CLI::IsMember({"warn", "fail"}));
  app.add_option("--now", args.now,
                 "Judge dates (certificate expiry, end of life) as of this day, YYYY-MM-DD");
  app.add_flag("--no-color", args.no_color, "No colour in text output (also: NO_COLOR=1)");
  app.add_flag(
      "--verbose", args.verbose,
      "Text output: also the facts behind each line, and each skipped check on its own line");
  app.add_flag("--online", args.online,
               "Allow checks to use the network (default: no network at all)");
  app.add_option("--cache-dir", args.cache_dir,
                 "With --online: keep fetched files here and revalidate them (ETag/Last-Modified)");
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"pycheck: is this container what the official python image promises?", "pycheck"};
  app.set_version_flag("--version", std::string("pycheck ") + PYCHECK_VERSION);
  app.require_subcommand(0, 1);
  app.fallthrough();
  RunArgs args;
  add_run_options(app, args);
  auto* run = app.add_subcommand("run", "Run the checks and print the report (the default)");
  auto* list = app.add_subcommand("list", "List the checks: id and title");
  std::string explain_id;
  auto* explain =
      app.add_subcommand("explain", "Why a check matters, how it is checked, how to fix it");
  explain->add_option("id", explain_id, "Check id")->required();
  ServeArgs serve_args;
  auto* serve = app.add_subcommand("serve",
                                   "Serve /livez, /readyz, /readyz/<check>, /metrics and /report "
                                   "over HTTP; checks run in the background");
  serve->add_option(
      "--listen", serve_args.listen,
      "ADDR:PORT: 127.0.0.1:8079 (default), [::1]:8079, :8079 (all IPv4 interfaces), [::]:8079");
  serve->add_option("--interval", serve_args.interval, "Time between offline runs (default 30s)");
  serve->add_option(
      "--online-interval", serve_args.online_interval,
      "With --online: time between runs of the checks that use the network (default 6h, ±10%)");
  (void)run;
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  try {
    if (list->parsed()) {
      print_list();
      return 0;
    }
    if (explain->parsed()) return print_explain(explain_id);
    if (serve->parsed()) {
      if (app.count("--format") > 0 || app.count("--output") > 0) {
        throw UsageError{
            "--format and --output do not apply to serve: it serves /report (JSON) and /metrics"};
      }
      return serve_command(args, serve_args);
    }
    return run_command(args);
  } catch (const UsageError& e) {
    std::cerr << "pycheck: " << e.message << "\n";
    return kExitUsage;
  }
}

}  // namespace pycheck
