/* global clearInterval, URL */
// usage: node bench/write/seed-probes/seed-pair.js <worktree> <db> <patients> [label] (a worktree built: its dist/)
// createdb, migrations (not counted), then /usr/bin/time -v node dist/cli/seed.js ... with the db's backends' CPU sampled from /proc.
const SERVER = process.env.PROBE_SERVER ?? 'postgres://postgres@127.0.0.1:5432';
// Where the exported rows and the results go: a folder the PostgreSQL server can write and read (COPY TO/FROM a file).
const DIR = process.env.PROBE_DIR ?? '/tmp/seed-probe';
const { execFileSync, spawn } = require('node:child_process');
const { readdirSync, readFileSync, appendFileSync } = require('node:fs');
const { loadavg } = require('node:os');
const [wt, db, patients, label = ''] = process.argv.slice(2);
const url = `${SERVER}/${db}`;
function stat(pid) {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ').trim();
    if (!cmd.startsWith('postgres: ')) return null;
    const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { ticks: Number(f[11]) + Number(f[12]), cmd };
  } catch { return null; }
}
const first = new Map(), last = new Map(); let baseline = true;
function sample() {
  const leaders = new Set(), workers = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const s = stat(pid); if (!s) continue;
    const w = /parallel worker for PID (\d+)/.exec(s.cmd);
    if (w) workers.push({ pid, leader: w[1], ticks: s.ticks });
    else if (s.cmd.split(' ').includes(db)) { leaders.add(pid); rec(pid, s.ticks); }
  }
  for (const w of workers) if (leaders.has(w.leader)) rec(w.pid, w.ticks);
}
function rec(pid, t) { if (!first.has(pid)) first.set(pid, baseline ? t : 0); last.set(pid, t); }
execFileSync('createdb', ['-h', new URL(SERVER).hostname, '-U', 'postgres', db]);
execFileSync('node', ['dist/cli/migration-run.js'], { cwd: wt, env: { ...process.env, DATABASE_URL: url }, stdio: 'ignore' });
const load0 = loadavg()[0];
sample(); baseline = false;
const timer = setInterval(sample, 100);
const t0 = Date.now();
const child = spawn('/usr/bin/time', ['-v', 'node', 'dist/cli/seed.js', '--org', 'bench', '--kind', 'physiotherapy', '--patients', patients, '--seed', '42', '--no-score'],
  { cwd: wt, env: { ...process.env, DATABASE_URL: url }, stdio: ['ignore', 'pipe', 'pipe'] });
let out = '', err = '';
child.stdout.on('data', (d) => (out += d)); child.stderr.on('data', (d) => (err += d));
child.on('exit', (code) => {
  clearInterval(timer); sample();
  let ticks = 0; for (const [pid, l] of last) ticks += l - (first.get(pid) ?? l);
  const user = Number(/User time \(seconds\): ([\d.]+)/.exec(err)?.[1]);
  const sys = Number(/System time \(seconds\): ([\d.]+)/.exec(err)?.[1]);
  const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(err)?.[1]);
  const phases = (/\n {2}(generate .*)\n/.exec(out) || [])[1];
  const slow = (/slowest index builds: (.*)\n/.exec(out) || [])[1];
  const line = `${new Date().toISOString()} ${label} ${db} code=${code} wall=${((Date.now() - t0) / 1000).toFixed(1)}s pgcpu=${(ticks / 100).toFixed(1)}s node=${(user + sys).toFixed(1)}s (u${user} s${sys}) rss=${Math.round(rss / 1024)}MB load ${load0.toFixed(1)}->${loadavg()[0].toFixed(1)} | ${phases} | ${slow}\n`;
  process.stdout.write(line); appendFileSync(`${DIR}/results.log`, line);
  if (code !== 0) process.stdout.write(out + err);
});
