// node bench/write/seed-probes/seed-md5.js <db>: md5 per seeded table over its rows in order, ids replaced by the patients' external ids, without
// what differs per run (ids, organization id, load times, ciphertext and blind indexes under the run's keys).
const { Client } = require('pg');
const tables = ['patients', 'appointments', 'payments', 'communications', 'consent_decisions', 'journey_events', 'survey_responses', 'treatment_plans', 'automation_enrollments', 'referrals', 'patient_metrics'];
(async () => {
  const c = new Client({ connectionString: `${process.env.PROBE_SERVER ?? 'postgres://postgres@127.0.0.1:5432'}/${process.argv[2]}` }); await c.connect();
  for (const t of tables) {
    const cols = (await c.query(`select column_name n, data_type d from information_schema.columns where table_schema='public' and table_name=$1 order by ordinal_position`, [t])).rows;
    const sel = cols.filter((x) => !['id', 'organization_id', 'created_at', 'updated_at'].includes(x.n) && !/_enc$|_bidx$/.test(x.n) && !(t === 'consent_decisions' && x.n === 'external_id'))
      .map((x) => (x.d === 'uuid' ? `(select p.external_id from patients p where p.id = x.${x.n}) as ${x.n}` : `x.${x.n}`));
    const q = `select count(*) n, md5(string_agg(r, E'\\n' order by r)) h from (select (s.*)::text r from (select ${sel.join(', ')} from ${t} x) s) z`;
    const { rows } = await c.query(q);
    console.log(t.padEnd(24), rows[0].n.padStart(9), rows[0].h);
  }
  await c.end();
})();
