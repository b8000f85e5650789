/* global clearInterval */
// node bench/write/seed-probes/index-workers-1m-probe.js <db>: appointments of the 200,000-patient seed COPYed 5 times into a fresh table (9.46 million rows, as at a
// million patients), then its three secondary indexes built with 0 or 2 parallel workers (alternated), CPU and wall.
const SERVER = process.env.PROBE_SERVER ?? 'postgres://postgres@127.0.0.1:5432';
// Where the exported rows and the results go: a folder the PostgreSQL server can write and read (COPY TO/FROM a file).
const DIR = process.env.PROBE_DIR ?? '/tmp/seed-probe';
const { Client } = require('pg');
const { readdirSync, readFileSync } = require('node:fs');
function ticksOf(pid) { try { const s = readFileSync(`/proc/${pid}/stat`, 'latin1'); const f = s.slice(s.lastIndexOf(')') + 2).split(' '); return Number(f[11]) + Number(f[12]); } catch { return 0; } }
function workersOf(leader) { const r = []; for (const p of readdirSync('/proc')) { if (!/^\d+$/.test(p)) continue; try { const c = readFileSync(`/proc/${p}/cmdline`, 'latin1'); if (c.includes(`parallel worker for PID ${leader}`)) r.push(p); } catch { /* gone */ } } return r; }
async function measure(c, pid, sql) {
  const seen = new Map(); const poll = setInterval(() => { for (const w of workersOf(pid)) seen.set(w, ticksOf(w)); }, 30);
  const b = ticksOf(pid); const t = Date.now(); await c.query(sql); const wall = Date.now() - t;
  clearInterval(poll); let wt = 0; for (const v of seen.values()) wt += v;
  return { cpu: (ticksOf(pid) - b) / 100 + wt / 100, wall: wall / 1000 };
}
(async () => {
  const c = new Client({ connectionString: `${SERVER}/${process.argv[2]}` }); await c.connect();
  const pid = (await c.query('select pg_backend_pid() p')).rows[0].p;
  await c.query('BEGIN');
  await c.query(`CREATE TABLE m_big (LIKE appointments INCLUDING DEFAULTS)`);
  for (let i = 0; i < 5; i++) await c.query(`COPY m_big FROM '${DIR}/appointments.copy' WITH (FREEZE)`);
  await c.query(`SET LOCAL maintenance_work_mem='1536MB'`);
  const defs = ['(organization_id, starts_at, patient_id) WHERE status = \'completed\'', '(organization_id, patient_id, starts_at)', '(organization_id, source, external_id)'];
  for (const order of [[0, 2], [2, 0], [0, 2]]) for (const w of order) {
    await c.query(`SET LOCAL max_parallel_maintenance_workers = ${w}`);
    const parts = [];
    for (const d of defs) {
      await c.query('SAVEPOINT s');
      const m = await measure(c, pid, `CREATE INDEX ON m_big ${d.replace(/WHERE.*/, '')} ${d.includes('WHERE') ? d.slice(d.indexOf('WHERE')) : ''}`);
      await c.query('ROLLBACK TO SAVEPOINT s');
      parts.push(`${m.cpu.toFixed(1)}/${m.wall.toFixed(1)}`);
    }
    console.log(`workers=${w}: cpu/wall per index (completed partial, patient+starts_at, external id) ${parts.join(', ')} s`);
  }
  await c.query('ROLLBACK'); await c.end();
})().catch((e) => { console.error(e); process.exit(1); });
