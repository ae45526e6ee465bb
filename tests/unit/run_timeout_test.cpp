// The run's deadline: what the user asked for, else a default that fits the run.
#include "agent/cli/run_timeout.h"

#include <catch2/catch.hpp>

using namespace pycheck;
using namespace std::chrono_literals;

TEST_CASE("run timeout: 800ms offline, 10s online and under serve, unless given", "[core]") {
  const std::optional<std::chrono::milliseconds> none;
  // Nothing given: the default fits where the run happens.
  CHECK(resolve_run_timeout(none, none, RunKind::command, false) == 800ms);
  CHECK(resolve_run_timeout(none, none, RunKind::command, true) == 10s);
  CHECK(resolve_run_timeout(none, none, RunKind::serve, false) == 10s);
  CHECK(resolve_run_timeout(none, none, RunKind::serve, true) == 10s);
  // An explicit value always wins, online or not; --timeout over the config's.
  for (bool online : {false, true}) {
    for (RunKind kind : {RunKind::command, RunKind::serve}) {
      INFO("online " << online << ", serve " << (kind == RunKind::serve));
      CHECK(resolve_run_timeout(300ms, none, kind, online) == 300ms);
      CHECK(resolve_run_timeout(none, 20s, kind, online) == 20s);
      CHECK(resolve_run_timeout(2s, 20s, kind, online) == 2s);
    }
  }
}
