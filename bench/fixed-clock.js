/**
 * A preload that fixes the app's clock (`SystemClock.prototype.now`) at FIXED_CLOCK (an ISO instant), for comparing
 * what two builds write in a night: `BENCH_APP_NODE_ARGS="-r $PWD/bench/fixed-clock.js" FIXED_CLOCK=2026-12-06T11:30:00Z
 * ... bench/orgs-bench.ts --app-root <tree>`. Patches the build of the process's working directory (the app's tree,
 * `dist/common/clock/clock.js`), then bench/night-md5.sh compares the tables. The database's own `now()` is not fixed.
 */
'use strict';
const path = require('node:path');
const at = process.env.FIXED_CLOCK;
if (at) {
  const instant = new Date(at).getTime();
  if (Number.isNaN(instant)) throw new Error(`FIXED_CLOCK is not an instant: ${at}`);
  for (const file of ['dist/common/clock/clock.js', 'dist/src/common/clock/clock.js']) {
    let mod;
    try {
      mod = require(path.join(process.cwd(), file));
    } catch {
      continue;
    }
    mod.SystemClock.prototype.now = () => new Date(instant);
  }
}
