/* global clearInterval */
// What the seed probes share: the server and the folder of the exported rows, and a statement's CPU (its backend and
// its parallel workers, from /proc) and wall time.
const SERVER = process.env.PROBE_SERVER ?? 'postgres://postgres@127.0.0.1:5432';
// Where the exported rows and the results go: a folder the PostgreSQL server can write and read (COPY TO/FROM a file).
const DIR = process.env.PROBE_DIR ?? '/tmp/seed-probe';
const { readdirSync, readFileSync } = require('node:fs');
function ticksOf(pid) { try { const s = readFileSync(`/proc/${pid}/stat`, 'latin1'); const f = s.slice(s.lastIndexOf(')') + 2).split(' '); return Number(f[11]) + Number(f[12]); } catch { return 0; } }
function workersOf(leader) { const r = []; for (const p of readdirSync('/proc')) { if (!/^\d+$/.test(p)) continue; try { const c = readFileSync(`/proc/${p}/cmdline`, 'latin1'); if (c.includes(`parallel worker for PID ${leader}`)) r.push(p); } catch { /* gone */ } } return r; }
/** Runs `sql` on client `c` (backend `pid`): CPU seconds of the backend and its parallel workers, wall seconds. */
async function measure(c, pid, sql) {
  const seen = new Map(); const poll = setInterval(() => { for (const w of workersOf(pid)) seen.set(w, ticksOf(w)); }, 30);
  const b = ticksOf(pid); const t = Date.now(); await c.query(sql); const wall = Date.now() - t;
  clearInterval(poll); let wt = 0; for (const v of seen.values()) wt += v;
  return { cpu: (ticksOf(pid) - b) / 100 + wt / 100, wall: wall / 1000 };
}
module.exports = { SERVER, DIR, ticksOf, workersOf, measure };
