/**
 * A preload that times every statement a process sends through pg (`node -r bench/pg-trace.js ...`, or
 * BENCH_APP_NODE_ARGS="-r <path>/bench/pg-trace.js" for bench/orgs-bench.ts's workers): per statement text (its first
 * 70 characters, whitespace folded, or its prepared name), the count and the summed wall time from send to answer.
 * Written every 2 s to $PG_TRACE_DIR/pg-trace-<pid>.json. Wall time in the process: the round trip plus the server's
 * work plus, on a loaded machine, waits for a core. With PG_TRACE_CPU=1 (the server on this machine), also the
 * server's CPU per statement: the backend's scheduler time (/proc/<backend pid>/schedstat, in ns) read when the
 * statement is sent and again at its ReadyForQuery (the backend is idle in between otherwise: one statement at a
 * time per connection), so a load-independent figure where the wall time is not. Costs the process two small reads
 * per statement.
 */
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
// The app's pg (its tree's node_modules, from the process's working directory), not this file's tree's: patched
// where the app loads it when the bench runs another worktree's build (orgs-bench --app-root).
const pg = require(require.resolve('pg', { paths: [process.cwd(), __dirname] }));
const dir = process.env.PG_TRACE_DIR || '/tmp';
const stats = new Map();
/**
 * A tenant message's head (`PREPARE "s:…" AS …;` of statements prepared in it, then the tenant setting with its
 * organization id and the other settings set with it): left out of the key, so that the same statement of every
 * organization counts under one key (`[+prepare]` marks a message that prepared one).
 */
const TENANT_HEAD = /^((?:PREPARE "s:[^"]+" AS [\s\S]*?; )*)SELECT set_config\('app\.organization_id', '[^']*', true\)(?:, set_config\('[^']*', '[^']*', true\))*; /;
const keyOf = (q) => {
  if (q && typeof q === 'object' && typeof q.text !== 'string') return q.constructor?.name ?? 'object';
  let text = String(typeof q === 'string' ? q : q.text);
  const name = typeof q === 'object' && q.name ? `[${q.name}] ` : '';
  const head = TENANT_HEAD.exec(text);
  if (head) text = `[tenant${head[1] ? ' +prepare' : ''}] ${text.slice(head[0].length)}`;
  return name + text.replace(/\s+/g, ' ').trim().slice(0, 70);
};
const note = (key, ms, cpuMs) => {
  const s = stats.get(key) ?? { n: 0, ms: 0, cpu: 0, cpuN: 0 };
  if (ms !== null) {
    s.n++;
    s.ms += ms;
  }
  if (cpuMs !== null && cpuMs !== undefined) {
    s.cpu += cpuMs;
    s.cpuN++;
  }
  stats.set(key, s);
};
const withCpu = process.env.PG_TRACE_CPU === '1';
const schedNs = (pid) => {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'latin1').split(' ')[0]);
  } catch {
    return Number.NaN;
  }
};
if (withCpu) {
  const Query = require(require.resolve('pg/lib/query', { paths: [process.cwd(), __dirname] }));
  const pulse = pg.Client.prototype._pulseQueryQueue;
  pg.Client.prototype._pulseQueryQueue = function tracedPulse(...args) {
    const r = pulse.apply(this, args);
    const q = this._activeQuery;
    if (q && q.__traceCpu0 === undefined && this.processID) {
      q.__tracePid = this.processID;
      q.__traceCpu0 = schedNs(this.processID);
    }
    return r;
  };
  const ready = Query.prototype.handleReadyForQuery;
  Query.prototype.handleReadyForQuery = function tracedReady(...args) {
    if (this.__traceCpu0 !== undefined && !this.__traceDone) {
      this.__traceDone = true;
      const cpu = (schedNs(this.__tracePid) - this.__traceCpu0) / 1e6;
      if (!Number.isNaN(cpu)) note(keyOf(this), null, cpu);
    }
    return ready.apply(this, args);
  };
}
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
