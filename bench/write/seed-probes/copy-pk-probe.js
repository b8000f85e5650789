// node bench/write/seed-probes/copy-pk-probe.js <db> <reps> <table>...: per table, its rows (exported once) COPYed WITH (FREEZE) into a fresh table created
// in the transaction (its CHECK constraints and defaults, no trigger) with its primary key (as the seed loads today) or
// without it and then the primary key added (as branch seed-300 tried: maintenance_work_mem 1.5GB, 2 parallel workers).
// CPU of the backend and its parallel workers from /proc.
const { Client } = require('pg');
const { SERVER, DIR, measure } = require('./probe-cpu');
const { existsSync } = require('node:fs');
const [db, reps, ...tables] = process.argv.slice(2);
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
