// node bench/write/seed-probes/read-first-probe.js <db>: appointments of the 200,000-patient seed COPYed 5 times (WITH FREEZE) into a fresh table (9.46 million
// rows, 1.5 GB: as at a million patients), then its three secondary indexes built as the seed builds them (1.5GB, 2 workers),
// either straight away (as the seed does) or after reading the table once by `WHERE ctid >= (0,0)` (meant as a TID range scan, which reads without a buffer ring; the planner chose a parallel seq scan, which uses one: inconclusive)
// Alternated, each in its own transaction. CPU of the backend and its workers from /proc.
const { Client } = require('pg');
const { SERVER, DIR, measure } = require('./probe-cpu');
(async () => {
  const c = new Client({ connectionString: `${SERVER}/${process.argv[2]}` }); await c.connect();
  const pid = (await c.query('select pg_backend_pid() p')).rows[0].p;
  for (const warm of [false, true, true, false]) {
    await c.query('BEGIN');
    await c.query(`CREATE TABLE m_big (LIKE appointments INCLUDING DEFAULTS)`);
    for (let i = 0; i < 5; i++) await c.query(`COPY m_big FROM '${DIR}/appointments.copy' WITH (FREEZE)`);
    await c.query(`SET LOCAL maintenance_work_mem='1536MB'`);
    let pre = null;
    if (warm) pre = await measure(c, pid, `SELECT count(*) FROM m_big WHERE ctid >= '(0,0)'::tid`);
    const parts = []; let cpu = 0, wall = 0;
    for (const d of ['(organization_id, starts_at, patient_id) WHERE status = \'completed\'', '(organization_id, patient_id, starts_at)', '(organization_id, source, external_id)']) {
      const m = await measure(c, pid, `CREATE INDEX ON m_big ${d}`); cpu += m.cpu; wall += m.wall;
      parts.push(`${m.cpu.toFixed(1)}/${m.wall.toFixed(1)}`);
    }
    const size = (await c.query(`select pg_size_pretty(pg_relation_size('m_big')) s`)).rows[0].s;
    await c.query('ROLLBACK');
    console.log(`${warm ? 'read first' : 'as the seed'} (${size}): ${pre ? `TID range read ${pre.cpu.toFixed(1)}/${pre.wall.toFixed(1)} s, ` : ''}builds ${parts.join(', ')} s (cpu/wall); builds total ${cpu.toFixed(1)} s CPU, ${wall.toFixed(1)} s wall; with the read ${(cpu + (pre?.cpu ?? 0)).toFixed(1)} s CPU, ${(wall + (pre?.wall ?? 0)).toFixed(1)} s wall`);
  }
  await c.end();
})().catch((e) => { console.error(e); process.exit(1); });
