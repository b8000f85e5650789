/* global clearInterval */
// node bench/write/seed-probes/index-workers-probe.js <db> <reps> <table>...: the table's rows COPYed (FREEZE) into a fresh table, then each of its indexes built with 0, 1 or 2 parallel workers, rotated.
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
  for (const table of tables) {
    const file = `${DIR}/${table}.copy`;
    if (!existsSync(file)) await c.query(`COPY ${table} TO '${file}'`);
    const defs = (await c.query(`select pg_get_indexdef(indexrelid) d, indexrelid::regclass::text n from pg_index where indrelid='${table}'::regclass order by 2`)).rows;
    for (let r = 0; r < Number(reps); r++) {
      for (const w of [[0, 1, 2], [2, 1, 0], [1, 0, 2]][r % 3]) {
        await c.query('BEGIN');
        await c.query(`CREATE TABLE m_${table} (LIKE ${table} INCLUDING DEFAULTS)`);
        await c.query(`COPY m_${table} FROM '${file}' WITH (FREEZE)`);
        await c.query(`SET LOCAL maintenance_work_mem='1536MB'; SET LOCAL max_parallel_maintenance_workers = ${w}`);
        let cpu = 0, wall = 0; const parts = [];
        for (const d of defs) {
          const sql = d.d.replace(/^CREATE (UNIQUE )?INDEX \S+ ON (ONLY )?public\.\S+/, (_m, u) => `CREATE ${u ?? ''}INDEX ON m_${table}`);
          const m = await measure(c, pid, sql); cpu += m.cpu; wall += m.wall; parts.push(`${d.n.replace(/"/g, '').slice(0, 40)} ${m.cpu.toFixed(2)}/${m.wall.toFixed(2)}`);
        }
        await c.query('ROLLBACK');
        console.log(`${table} rep${r} workers=${w}: builds cpu ${cpu.toFixed(2)} s wall ${wall.toFixed(2)} s  [${parts.join(', ')}]`);
      }
    }
  }
  await c.end();
})().catch((e) => { console.error(e); process.exit(1); });
