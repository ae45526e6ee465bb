#include "agent/cli/cli.h"

#include <malloc.h>
#include <sys/sysinfo.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <optional>

#include "agent/cli/config.h"
#include "agent/cli/file_output.h"
#include "agent/cli/run_inputs.h"
#include "agent/core/duration.h"
#include "agent/run/worker.h"
#include "agent/scan/node_scan.h"
#include "agent/serve/scan_scheduler.h"
#include "agent/serve/scheduler.h"
#include "agent/serve/serve.h"
#include "checks/check_table.h"

namespace pycheck {
namespace {

constexpr int kExitUsage = 2;

// Text options asked here: the worker has no terminal.
TextOptions text_options(const RunArgs& args) {
  const char* no_color_env = std::getenv("NO_COLOR");
  const bool terminal = args.output.empty() && ::isatty(STDOUT_FILENO);
  TextOptions text;
  text.color = terminal && !args.no_color && (no_color_env == nullptr || *no_color_env == '\0');
  text.verbose = args.verbose;
  struct winsize size {};
  if (terminal && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
    text.width = size.ws_col;
  }
  return text;
}

// The report to --output (the verdict line to stdout), else to stdout.
Result<int> deliver(const RunArgs& args, const WorkerOutput& worker) {
  if (!args.output.empty()) {
    auto written = write_file_atomically(args.output, worker.report);
    if (!written) return Error{"--output: " + written.error().message};
    std::cout << worker.verdict << "\n";
  } else {
    std::cout << worker.report;
  }
  std::cout.flush();
  return worker.exit_code;
}

// The one place a usage error is told: the message on stderr, exit code 2.
int exit_code(const Result<int>& code) {
  if (code) return *code;
  std::cerr << "pycheck: " << code.error().message << "\n";
  return kExitUsage;
}

// Delivers the output. When no worker could start and a thread of ours is
// stuck in a read, exits here: do not wait for it, do not run destructors under it.
Result<int> finish(const RunArgs& args, const WorkerOutput& worker) {
  Result<int> code = deliver(args, worker);
  if (worker.threads_left_behind) {
    const int exit = exit_code(code);
    std::fflush(nullptr);
    std::_Exit(exit);
  }
  return code;
}

Result<int> run_command(const RunArgs& args) {
  hold_closed_stdio();  // before opening anything: the worker redirects fds 0-2
  auto inputs = build_run(args, RunKind::command);
  if (!inputs) return inputs.error();
  const auto started = std::chrono::system_clock::now();
  auto setup = new_run_setup(std::move(inputs->fs), std::move(inputs->env), inputs->online,
                             inputs->now.value_or(started));
  setup->checks = std::move(inputs->checks);
  const std::chrono::milliseconds timeout = inputs->timeout;

  const TextOptions text = text_options(args);
  auto render = [&](Report& report) {
    report.pycheck_version = PYCHECK_VERSION;
    report.root = inputs->root;
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
    if (setup->online) setup->http = run_http_client(inputs->cache_dir, timeout);
    outcome = run_checks(setup, timeout);
    return WorkerOutput{outcome->report.exit_code(inputs->fail_on), render(outcome->report),
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
  return finish(args, *worker);
}

struct ServeArgs {
  std::string listen = std::string(kDefaultListen);
  std::string interval;  // 30s, or 60s with --scan
  std::string online_interval = "6h";
  bool scan = false;
};

// The options of `scan` (and `serve --scan`).
struct ScanArgs {
  int jobs = 0;  // 0: the number of online CPUs
  bool all = false;
  std::string node_root = "/";
  std::string scan_timeout = "60s";
};

// A scan looks at every container, never at one root or one environment.
Result<ScanOptions> plan_scan(const RunArgs& args, const ScanArgs& scan_args,
                              const CLI::App& app) {
  for (const char* option : {"--root", "--pid", "--env-file"}) {
    if (app.count(option) > 0)
      return Error{std::string(option) +
                   " does not apply to a scan: it checks every container with its own root "
                   "and environment"};
  }
  auto scan_timeout = parse_duration(scan_args.scan_timeout);
  if (!scan_timeout) return Error{"--scan-timeout: " + scan_timeout.error().message};
  auto inputs = build_run(args, RunKind::serve);  // a scan's runs are unattended, as serve's
  if (!inputs) return inputs.error();
  ScanOptions options;
  options.checks = std::move(inputs->checks);
  options.jobs = scan_args.jobs > 0 ? scan_args.jobs : std::max(1, ::get_nprocs());
  options.all = scan_args.all;
  options.timeout = inputs->timeout;
  options.scan_timeout = *scan_timeout;
  options.online = inputs->online;
  options.fail_on = inputs->fail_on;
  options.now = inputs->now;
  options.node_root = scan_args.node_root;
  options.prepare_online = [cache_dir = inputs->cache_dir](RunSetup& setup,
                                                           std::chrono::milliseconds timeout) {
    setup.http = run_http_client(cache_dir, timeout);
  };
  return options;
}

// `pycheck scan`: the whole scan in a worker (agent/run/worker.h), so a check
// stuck in a hung read of one container cannot keep pycheck from exiting.
Result<int> scan_command(const RunArgs& args, const ScanArgs& scan_args, const CLI::App& app) {
  hold_closed_stdio();
  if (args.format == "junit" || args.format == "tap")
    return Error{"--format " + args.format + " does not apply to a scan: use text, json or prometheus"};
  auto options = plan_scan(args, scan_args, app);
  if (!options) return options.error();
  options->keep_report_json = args.format == "json";
  const TextOptions text = text_options(args);
  auto render = [&](const ScanReport& scan) {
    if (args.format == "json") return render_scan_json(scan);
    if (args.format == "prometheus") return render_scan_prometheus(scan);
    return render_scan_text(scan, text.color);
  };
  const auto started = std::chrono::steady_clock::now();
  std::optional<ScanReport> scan;  // lives in this frame: the worker exits from inside
  auto work = [&] {
    // Jobs and their check threads allocate and free as they go: two arenas
    // keep what one container freed for the next, instead of one per thread.
    ::mallopt(M_ARENA_MAX, 2);
    reserve_descriptors_for_rootfs();
    scan = run_scan(*options, nullptr);
    return WorkerOutput{scan->exit_code(), render(*scan), scan_verdict_line(*scan),
                        scan->abandoned_checks > 0};
  };
  // The scan gives up what is still stuck 1 s past its deadline; then it
  // renders and sends the report.
  constexpr auto kWorkerGrace = std::chrono::seconds(3);
  auto worker = run_in_worker(work, started + options->scan_timeout + kWorkerGrace);
  if (!worker) {
    // Never healthy when the worker could not tell.
    ScanReport failed;
    failed.pycheck_version = PYCHECK_VERSION;
    failed.started_at = format_rfc3339(std::chrono::system_clock::now());
    failed.node_root = options->node_root;
    failed.jobs = options->jobs;
    failed.scanner_error = worker.error().message;
    worker = WorkerOutput{1, render(failed), scan_verdict_line(failed), false};
  }
  return finish(args, *worker);
}

struct ServePlan {
  ListenAddress listen;
  SchedulerOptions options;
  SetupFactory make_setup;
};

// serve's own options first, then the run options: what cannot work at all is
// a usage error now. The root opened to find that out is closed on return:
// each run opens it again (and re-reads a --pid's environment), so a restarted
// container is seen.
Result<ServePlan> plan_serve(const RunArgs& args, const ServeArgs& serve_args) {
  auto listen = parse_listen_address(serve_args.listen);
  if (!listen) return listen.error();
  auto interval = parse_duration(serve_args.interval.empty() ? "30s" : serve_args.interval);
  if (!interval) return Error{"--interval: " + interval.error().message};
  auto online_interval = parse_duration(serve_args.online_interval);
  if (!online_interval) return Error{"--online-interval: " + online_interval.error().message};
  auto inputs = build_run(args, RunKind::serve);
  if (!inputs) return inputs.error();

  SchedulerOptions options;
  options.checks = std::move(inputs->checks);
  options.interval = *interval;
  options.online_interval = *online_interval;
  options.online = inputs->online;
  options.timeout = inputs->timeout;
  options.fail_on = inputs->fail_on;
  options.root = inputs->root;
  // Only a --pid's environment is read again for each run; an --env-file is
  // read once (it may be a pipe, which has nothing more to give).
  std::optional<Environment> fixed_env;
  if (args.pid == 0 || !args.env_file.empty()) fixed_env = std::move(inputs->env);
  SetupFactory make_setup =
      [args, root = inputs->root, fixed_env, now = inputs->now](
          bool online, std::chrono::milliseconds timeout) -> Result<std::shared_ptr<RunSetup>> {
    auto fs = RootFs::open(root);
    if (!fs) return Error{"cannot open the root " + root + ": " + fs.error().message};
    auto env = fixed_env ? Result<Environment>(*fixed_env) : judged_environment(args);
    if (!env) return env.error();
    auto setup = new_run_setup(std::move(fs).value(), std::move(env).value(), online,
                               now.value_or(std::chrono::system_clock::now()));
    if (online) setup->http = run_http_client(args.cache_dir, timeout);
    return setup;
  };
  return ServePlan{*listen, std::move(options), std::move(make_setup)};
}

// `pycheck serve`: the run options apply to every background run.
Result<int> serve_command(const RunArgs& args, const ServeArgs& serve_args) {
  auto plan = plan_serve(args, serve_args);
  if (!plan) return plan.error();
  Scheduler scheduler(std::move(plan->options), std::move(plan->make_setup), serve_log);
  return run_serve(plan->listen, scheduler);
}

// `pycheck serve --scan`: a node scan in the background every --interval.
Result<int> serve_scan_command(const RunArgs& args, const ServeArgs& serve_args,
                               const ScanArgs& scan_args, const CLI::App& app) {
  auto listen = parse_listen_address(serve_args.listen);
  if (!listen) return listen.error();
  auto interval = parse_duration(serve_args.interval.empty() ? "60s" : serve_args.interval);
  if (!interval) return Error{"--interval: " + interval.error().message};
  auto options = plan_scan(args, scan_args, app);
  if (!options) return options.error();
  ::mallopt(M_ARENA_MAX, 2);  // as in scan_command: scans free what they allocate
  ScanScheduler scanner(std::move(*options), *interval, serve_log);
  return run_serve(*listen, scanner);
}

void add_scan_options(CLI::App& command, ScanArgs& args) {
  command.add_option("--jobs", args.jobs, "Containers checked at once (default: the CPUs)")
      ->check(CLI::PositiveNumber);
  command.add_flag("--all", args.all, "Check containers without Python on their PATH too");
  command.add_option("--node-root", args.node_root,
                     "Where the node's files are (runtime state, /var/log/pods) for container "
                     "names (default /)")
      ->check(CLI::ExistingDirectory);
  command.add_option("--scan-timeout", args.scan_timeout,
                     "Deadline for the whole scan (default 60s); --timeout bounds each container");
}

void print_list() {
  std::size_t width = 0;
  for (const CheckInfo& c : check_table()) width = std::max(width, c.id.size());
  for (const CheckInfo& c : check_table()) {
    std::cout << c.id << std::string(width - c.id.size() + 2, ' ') << c.title << "\n";
  }
}

Result<int> print_explain(const std::string& id) {
  const CheckInfo* c = find_check(id);
  if (c == nullptr) return unknown_check(id);
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
  serve->add_option("--interval", serve_args.interval,
                    "Time between offline runs (default 30s), or between scans (default 60s)");
  serve->add_option(
      "--online-interval", serve_args.online_interval,
      "With --online: time between runs of the checks that use the network (default 6h, ±10%)");
  serve->add_flag("--scan", serve_args.scan,
                  "Serve a scan of every container of the node instead (see pycheck scan)");
  ScanArgs scan_args;
  add_scan_options(*serve, scan_args);
  auto* scan = app.add_subcommand(
      "scan", "Check every container of this node (run on the host, or with hostPID)");
  add_scan_options(*scan, scan_args);
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
  const auto command = [&]() -> Result<int> {
    if (list->parsed()) {
      print_list();
      return 0;
    }
    if (explain->parsed()) return print_explain(explain_id);
    if (serve->parsed()) {
      if (app.count("--format") > 0 || app.count("--output") > 0)
        return Error{
            "--format and --output do not apply to serve: it serves /report (JSON) and /metrics"};
      if (serve_args.scan) return serve_scan_command(args, serve_args, scan_args, app);
      for (const char* option : {"--jobs", "--all", "--node-root", "--scan-timeout"}) {
        if (serve->count(option) > 0) return Error{std::string(option) + " needs --scan"};
      }
      return serve_command(args, serve_args);
    }
    if (scan->parsed()) return scan_command(args, scan_args, app);
    return run_command(args);
  };
  return exit_code(command());
}

}  // namespace pycheck
