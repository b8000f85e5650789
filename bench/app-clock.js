/**
 * Preload for the app's processes in a bench (`node -r bench/app-clock.js`; bench/orgs-bench.ts adds it itself when
 * either variable below is set or with `--next-day`/`--days-after`): the app's SystemClock
 * - fixed at FIXED_CLOCK (an ISO instant), to compare what two builds write in a night (bench/night-md5.sh), or
 * - BENCH_CLOCK_AHEAD_MS milliseconds ahead of the machine's, so that a nightly run is "as of tomorrow" (a next-day
 *   night: the scores' decay moves a day, a seventh of the organizations refit) instead of the same day again.
 * Only the app's Clock moves: BullMQ, Redis and PostgreSQL keep the machine's time. Patches the clock module of
 * whichever build the process loads (any tree), when it is loaded.
 */
'use strict';
const Module = require('node:module');

const fixedAt = process.env.FIXED_CLOCK;
const fixed = fixedAt ? new Date(fixedAt).getTime() : null;
if (fixed !== null && Number.isNaN(fixed)) throw new Error(`FIXED_CLOCK is not an instant: ${fixedAt}`);
const ahead = Number(process.env.BENCH_CLOCK_AHEAD_MS || 0);

if (fixed !== null || ahead !== 0) {
  const load = Module._load;
  Module._load = function (...args) {
    const exported = load.apply(this, args);
    if (exported && typeof exported.SystemClock === 'function' && !exported.SystemClock.benchClock) {
      exported.SystemClock.prototype.now = fixed !== null ? () => new Date(fixed) : () => new Date(Date.now() + ahead);
      exported.SystemClock.benchClock = true;
    }
    return exported;
  };
}
