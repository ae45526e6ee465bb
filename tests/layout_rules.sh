#!/bin/bash
# The include rules of README.md's "Layout": each room includes only the rooms
# listed for it, and only the checks and the CLI see the check table.
#   tests/layout_rules.sh [SOURCE_DIR]     (ctest runs it as layout-rules)
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"

# room: the rooms its files may include (a room always includes itself)
declare -A allowed=(
  [agent/core]=""
  [checks/formats]="agent/core"
  [checks/data]="agent/core checks/formats"
  [agent/rootfs]="agent/core"
  [agent/http]="agent/core"
  [checks/facts]="agent/core checks/formats checks/data agent/rootfs"
  [checks/online]="agent/core checks/formats checks/data agent/rootfs checks/facts agent/http"
  [checks]="agent/core checks/formats checks/data agent/rootfs checks/facts agent/http checks/online"
  [agent/report]="agent/core"
  [agent/run]="agent/core agent/rootfs agent/report"
  [agent/scan]="agent/core agent/rootfs agent/report agent/run checks/facts"
  [agent/serve]="agent/core agent/report agent/run agent/scan"
  [agent/cli]="agent/core agent/rootfs agent/http agent/report agent/run agent/scan agent/serve checks"
)

status=0
for room in "${!allowed[@]}"; do
  [ -d "$room" ] || { echo "layout: room $room is missing"; status=1; continue; }
  for file in "$room"/*.h "$room"/*.cpp; do
    [ -e "$file" ] || continue
    while IFS= read -r line; do
      included=${line#*\"}; included=${included%\"*}
      target=$(dirname "$included")
      ok=0
      for r in "$room" ${allowed[$room]}; do [ "$target" = "$r" ] && ok=1; done
      if [ $ok = 0 ]; then
        echo "layout: $file includes $included (room $room may include: $room ${allowed[$room]})"
        status=1
      fi
    done < <(grep -E '^#include "' "$file" || true)
  done
done

# Sources outside every room would escape the rules.
while IFS= read -r file; do
  [ -n "${allowed[$(dirname "$file")]+set}" ] || { echo "layout: $file is in no room"; status=1; }
done < <(find agent checks -name '*.cpp' -o -name '*.h')

# The check table: only the checks themselves and the CLI (tests aside).
while IFS= read -r file; do
  room=$(dirname "$file")
  [ "$room" = checks ] || [ "$room" = agent/cli ] || { echo "layout: $file includes the check table"; status=1; }
done < <(grep -rl --include='*.cpp' --include='*.h' '#include "checks/check_table.h"' agent checks || true)

[ $status = 0 ] && echo "layout: every include follows the rules"
exit $status
