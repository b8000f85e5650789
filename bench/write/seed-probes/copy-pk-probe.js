/* global clearInterval */
// node bench/write/seed-probes/copy-pk-probe.js <db> <reps> <table>...: per table, its rows (exported once) COPYed WITH (FREEZE) into a fresh table created
// in the transaction (its CHECK constraints and defaults, no trigger) with its primary key (as the seed loads today) or
// without it and then the primary key added (as branch seed-300 tried: maintenance_work_mem 1.5GB, 2 parallel workers).
// CPU of the backend and its parallel workers from /proc.
const SERVER = process.env.PROBE_SERVER ?? 'postgres://postgres@127.0.0.1:5432';
// Where the exported rows and the results go: a folder the PostgreSQL server can write and read (COPY TO/FROM a file).
const DIR = process.env.PROBE_DIR ?? '/tmp/seed-probe';
const { Client } = require('pg');
const { readdirSync, readFileSync, existsSync } = require('node:fs');
const [db, reps, ...tables] = process.argv.slice(2);
function ticksOf(pid) { try { const s = readFileSync(`/proc/${pid}/stat`, 'latin1'); const f = s.slice(s.lastIndexOf(')') + 2).split(' '); return Number(f[11]) + Number(f[12]); } catch { return 0; } }
function workersOf(leader) { const r = []; for (const p of readdirSync('/proc')) { if (!/^\d+$/.test(p)) continue; try { const c = readFileSync(`/proc/${p}/cmdline`, 'latin1'); if (c.includes(`parallel worker for PID ${leader}`)) r.push(p); } catch { /* gone */ } } return r; }
async function measure(c, pid, sql) {
  const seen = new Map(); const poll = setInterval(() => { for (const w of workersOf(pid)) seen.set(w, ticksOf(w)); }, 30);
  const b = ticksOf(pid); const t = Date.now(); await c.query(sql); const wall = Date.now() - t;
  clearInterval(poll); let wt = 0; for (const v of seen.values()) wt += v;
  return { cpu: (ticksOf(pid) - b) / 100 + wt / 100, wall: wall / 1000 };
}
(async () => {
  const c = new Client({ connectionString: `${SERVER}/${db}` }); await c.connect();
  const pid = (await c.query('select pg_backend_pid() p')).rows[0].p;
  const sum = { withPk: 0, without: 0, build: 0, n: 0 };
  for (const table of tables) {
    const file = `${DIR}/${table}.copy`;
    if (!existsSync(file)) await c.query(`COPY ${table} TO '${file}'`);
    const rows = (await c.query(`select count(*)::int n from ${table}`)).rows[0].n;
    const pk = (await c.query(`select pg_get_constraintdef(oid) d from pg_constraint where conrelid='${table}'::regclass and contype='p'`)).rows[0].d;
    const acc = { withPk: [], without: [], build: [] };
    for (let r = 0; r < Number(reps); r++) {
      for (const withPk of r % 2 ? [true, false] : [false, true]) {
        await c.query('BEGIN');
        await c.query(`CREATE TABLE m_${table} (LIKE ${table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
        if (withPk) await c.query(`ALTER TABLE m_${table} ADD ${pk}`);
        const copy = await measure(c, pid, `COPY m_${table} FROM '${file}' WITH (FREEZE)`);
        (withPk ? acc.withPk : acc.without).push(copy.cpu);
        if (!withPk) { await c.query(`SET LOCAL maintenance_work_mem='1536MB'`); acc.build.push((await measure(c, pid, `ALTER TABLE m_${table} ADD ${pk}`)).cpu); }
        await c.query('ROLLBACK');
      }
    }
    const med = (a) => [...a].sort((x, y) => x - y)[Math.floor((a.length - 1) / 2)];
    console.log(`${table.padEnd(24)} ${String(rows).padStart(8)} rows  COPY with PK ${acc.withPk.map((x) => x.toFixed(2)).join('/')}  without ${acc.without.map((x) => x.toFixed(2)).join('/')}  PK build ${acc.build.map((x) => x.toFixed(2)).join('/')} s CPU`);
    sum.withPk += med(acc.withPk); sum.without += med(acc.without); sum.build += med(acc.build); sum.n += rows;
  }
  console.log(`sum of medians: ${sum.n} rows, COPY with PK ${sum.withPk.toFixed(2)} s, without ${sum.without.toFixed(2)} s, PK builds ${sum.build.toFixed(2)} s`);
  await c.end();
})().catch((e) => { console.error(e); process.exit(1); });
