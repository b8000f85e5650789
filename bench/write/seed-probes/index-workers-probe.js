// node bench/write/seed-probes/index-workers-probe.js <db> <reps> <table>...: the table's rows COPYed (FREEZE) into a fresh table, then each of its indexes built with 0, 1 or 2 parallel workers, rotated.
const { Client } = require('pg');
const { SERVER, DIR, measure } = require('./probe-cpu');
const { existsSync } = require('node:fs');
const [db, reps, ...tables] = process.argv.slice(2);
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
