/**
 * A preload that times every statement a process sends through pg (`node -r bench/pg-trace.js ...`, or
 * BENCH_APP_NODE_ARGS="-r <path>/bench/pg-trace.js" for bench/orgs-bench.ts's workers): per statement text (its first
 * 70 characters, whitespace folded, or its prepared name), the count and the summed wall time from send to answer.
 * Written every 2 s to $PG_TRACE_DIR/pg-trace-<pid>.json. Wall time in the process: the round trip plus the server's
 * work plus, on a loaded machine, waits for a core.
 */
'use strict';
const { writeFileSync } = require('node:fs');
const pg = require('pg');
const dir = process.env.PG_TRACE_DIR || '/tmp';
const stats = new Map();
const keyOf = (q) => {
  if (q && typeof q === 'object' && typeof q.text !== 'string') return q.constructor?.name ?? 'object';
  const text = typeof q === 'string' ? q : q.text;
  const name = typeof q === 'object' && q.name ? `[${q.name}] ` : '';
  return name + String(text).replace(/\s+/g, ' ').trim().slice(0, 70);
};
const note = (key, ms) => {
  const s = stats.get(key) ?? { n: 0, ms: 0 };
  s.n++;
  s.ms += ms;
  stats.set(key, s);
};
const original = pg.Client.prototype.query;
pg.Client.prototype.query = function traced(config, values, callback) {
  const key = keyOf(config);
  const t = process.hrtime.bigint();
  const done = () => note(key, Number(process.hrtime.bigint() - t) / 1e6);
  const result = original.call(this, config, values, callback);
  if (result && typeof result.then === 'function') result.then(done, done);
  else if (result && typeof result.on === 'function') {
    result.on('finish', done);
    result.on('end', done);
  }
  return result;
};
setInterval(() => {
  writeFileSync(`${dir}/pg-trace-${process.pid}.json`, JSON.stringify([...stats].sort((a, b) => b[1].ms - a[1].ms), null, 0));
}, 2000).unref();
