/**
 * Preload for the app's processes in a bench (`node -r bench/clock-ahead.js`): the app's SystemClock runs
 * BENCH_CLOCK_AHEAD_MS milliseconds ahead of the machine's, so that a nightly run is "as of tomorrow" (a next-day
 * night: the scores' decay moves a day, a seventh of the organizations refit) instead of the same day again.
 * Only the app's Clock moves: BullMQ, Redis and PostgreSQL keep the machine's time.
 */
const Module = require('module');

const ahead = Number(process.env.BENCH_CLOCK_AHEAD_MS || 0);
const load = Module._load;
Module._load = function (...args) {
  const exported = load.apply(this, args);
  if (ahead && exported && typeof exported.SystemClock === 'function' && !exported.SystemClock.clockAhead) {
    exported.SystemClock.prototype.now = function now() {
      return new Date(Date.now() + ahead);
    };
    exported.SystemClock.clockAhead = ahead;
  }
  return exported;
};
