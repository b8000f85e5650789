// node bench/write/seed-probes/org-default-probe.js: appointments' rows (exported by COPY TO into PROBE_DIR) COPYed WITH (FREEZE) into a fresh table with
// its primary key, organization_id in the text (as the seed sends it) or left out of the file and the column list, filled by a
// constant column default set in the transaction. Alternated, 3 pairs; the backend's CPU from /proc. PROBE_ORG, PROBE_URL, PROBE_DIR.
const { Client } = require('pg');
const DIR = process.env.PROBE_DIR ?? '/tmp/seed-probe';
// The organization of the exported rows; the file without it: cut -f1,3- appointments.copy > appointments_noorg.copy
const ORG = process.env.PROBE_ORG;
const { readFileSync } = require('node:fs');
function ticksOf(pid) { const s = readFileSync('/proc/' + pid + '/stat', 'latin1'); const f = s.slice(s.lastIndexOf(')') + 2).split(' '); return Number(f[11]) + Number(f[12]); }
(async () => {
  const c = new Client({ connectionString: process.env.PROBE_URL ?? 'postgres://postgres@127.0.0.1:5432/seed_300_a1' }); await c.connect();
  const pid = (await c.query('select pg_backend_pid() p')).rows[0].p;
  const cols = (await c.query("select string_agg(column_name, ', ' order by ordinal_position) s from information_schema.columns where table_schema='public' and table_name='appointments' and column_name <> 'organization_id'")).rows[0].s;
  for (let r = 0; r < 3; r++) for (const dflt of r % 2 ? [true, false] : [false, true]) {
    await c.query('BEGIN');
    await c.query('CREATE TABLE m_a (LIKE appointments INCLUDING DEFAULTS INCLUDING CONSTRAINTS)');
    await c.query('ALTER TABLE m_a ADD PRIMARY KEY (id)');
    if (dflt) await c.query(`ALTER TABLE m_a ALTER organization_id SET DEFAULT '${ORG}'::uuid`);
    const b = ticksOf(pid);
    await c.query(dflt ? `COPY m_a (${cols}) FROM '${DIR}/appointments_noorg.copy' WITH (FREEZE)` : `COPY m_a FROM '${DIR}/appointments.copy' WITH (FREEZE)`);
    const cpu = (ticksOf(pid) - b) / 100;
    const n = (await c.query(`select count(*) filter (where organization_id = '${ORG}') n from m_a`)).rows[0].n;
    await c.query('ROLLBACK');
    console.log(dflt ? 'organization_id by default' : 'organization_id in the text', cpu.toFixed(2), 's CPU', n, 'rows of the org');
  }
  await c.end();
})();
