// node bench/write/seed-probes/index-workers-1m-probe.js <db>: appointments of the 200,000-patient seed COPYed 5 times into a fresh table (9.46 million rows, as at a
// million patients), then its three secondary indexes built with 0 or 2 parallel workers (alternated), CPU and wall.
const { Client } = require('pg');
const { SERVER, DIR, measure } = require('./probe-cpu');
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
