/**
 * What row-level security costs on list queries. Not a test: a measurement, run by hand on a migrated scratch
 * database (it inserts 3 organizations × PATIENTS patients):
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/<scratch> PATIENTS=50000 \
 *     TS_NODE_TRANSPILE_ONLY=1 npx ts-node -r tsconfig-paths/register test/auth/rls-cost.bench.ts
 *
 * Each query runs the way TenantDb runs it (a transaction with app.organization_id set), once as the runtime role
 * (policies apply) and once as the owner (they do not), interleaved; it prints the server-side execution time
 * (EXPLAIN ANALYZE, TIMING OFF) min / median / p95 per query.
 */
import { Client } from 'pg';

const url = process.env.DATABASE_URL;
if (!url) throw new Error('DATABASE_URL (a migrated scratch database) is required');
const PATIENTS = Number(process.env.PATIENTS ?? 50_000);
const ROUNDS = Number(process.env.ROUNDS ?? 300);

const QUERIES: Record<string, string> = {
  'list page 1, at_risk by risk score': `SELECT pm.patient_id, p.name, pm.risk_score, pm.ltv_cents FROM patient_metrics pm JOIN patients p ON p.id = pm.patient_id
     WHERE pm.organization_id = $1 AND pm.status = 'at_risk' AND p.deleted_at IS NULL ORDER BY pm.risk_score DESC, pm.patient_id LIMIT 50`,
  'list page 1, all by name': `SELECT pm.patient_id, p.name, pm.status FROM patient_metrics pm JOIN patients p ON p.id = pm.patient_id
     WHERE pm.organization_id = $1 AND p.deleted_at IS NULL ORDER BY pm.sort_name, pm.patient_id LIMIT 50`,
  'list page 40 (offset 2000), all by ltv': `SELECT pm.patient_id, pm.ltv_cents FROM patient_metrics pm
     WHERE pm.organization_id = $1 ORDER BY pm.ltv_cents DESC, pm.patient_id LIMIT 50 OFFSET 2000`,
  'aggregate: counts by status': `SELECT status, count(*)::int, avg(risk_score) FROM patient_metrics WHERE organization_id = $1 GROUP BY status`,
};

async function connect(asRuntimeRole: boolean): Promise<Client> {
  const c = new Client({ connectionString: url, options: asRuntimeRole ? '-c role=patient_journey_app' : undefined });
  await c.connect();
  return c;
}

async function seed(owner: Client): Promise<string> {
  const existing = await owner.query<{ id: string }>(`SELECT id FROM organizations WHERE slug = 'rls-bench-0'`);
  if (existing.rows[0]) return existing.rows[0].id;
  for (let o = 0; o < 3; o++) {
    const { rows } = await owner.query<{ id: string }>(`INSERT INTO organizations (slug, name) VALUES ($1, $1) RETURNING id`, [`rls-bench-${o}`]);
    await owner.query(
      `WITH p AS (
         INSERT INTO patients (organization_id, source, external_id, name, registered_at)
         SELECT $1, 'bench', 'p' || g, 'Patient ' || md5(g::text), now() - (g % 1000) * interval '1 day' FROM generate_series(1, $2::int) g
         RETURNING id, name)
       INSERT INTO patient_metrics (organization_id, patient_id, sort_name, status, risk_score, risk_level, ltv_cents, computed_at, stale)
       SELECT $1, id, lower(name), (ARRAY['active','dormant','at_risk'])[1 + (hashtext(id::text) & 2147483647) % 3],
              (hashtext(name) & 2147483647) % 100, 'low', (hashtext(id::text || 'l') & 2147483647) % 500000, now(), false
         FROM p`,
      [rows[0].id, PATIENTS],
    );
  }
  await owner.query('ANALYZE patients');
  await owner.query('ANALYZE patient_metrics');
  return (await owner.query<{ id: string }>(`SELECT id FROM organizations WHERE slug = 'rls-bench-0'`)).rows[0].id;
}

/** Server-side execution time (EXPLAIN ANALYZE without per-node timing), less sensitive to client scheduling. */
async function timed(c: Client, sql: string, org: string): Promise<number> {
  await c.query('BEGIN');
  await c.query(`SELECT set_config('app.organization_id', $1, true)`, [org]);
  const { rows } = await c.query<Record<string, string>>(`EXPLAIN (ANALYZE, TIMING OFF) ${sql}`, [org]);
  await c.query('COMMIT');
  const line = rows.map((r) => r['QUERY PLAN']).find((l) => l.startsWith('Execution Time'));
  return Number(/([\d.]+) ms/.exec(line ?? '')?.[1] ?? NaN);
}

const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

async function main(): Promise<void> {
  const owner = await connect(false);
  const app = await connect(true);
  const org = await seed(owner);
  console.log(`3 organizations × ${PATIENTS} patients; ${ROUNDS} rounds per query and mode (server execution ms, warm)`);
  console.log('query | owner (no RLS) min / median / p95 | runtime role (RLS) min / median / p95 | median overhead');
  for (const [name, sql] of Object.entries(QUERIES)) {
    const plain: number[] = [];
    const rls: number[] = [];
    for (let i = 0; i < 20; i++) {
      await timed(owner, sql, org);
      await timed(app, sql, org);
    }
    for (let i = 0; i < ROUNDS; i++) {
      plain.push(await timed(owner, sql, org));
      rls.push(await timed(app, sql, org));
    }
    const [m0, m1] = [pct(plain, 50), pct(rls, 50)];
    const row = (xs: number[]): string => [pct(xs, 0), pct(xs, 50), pct(xs, 95)].map((x) => x.toFixed(2)).join(' / ');
    console.log(`${name} | ${row(plain)} | ${row(rls)} | ${(m1 - m0).toFixed(2)} ms (${(((m1 - m0) / m0) * 100).toFixed(0)} %)`);
  }
  await app.query('BEGIN');
  await app.query(`SELECT set_config('app.organization_id', $1, true)`, [org]);
  const plan = await app.query(`EXPLAIN (COSTS OFF) ${QUERIES['aggregate: counts by status'].replace('$1', `'${org}'`)}`);
  await app.query('COMMIT');
  console.log('\nplan of the aggregate as the runtime role:\n' + plan.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n'));
  await owner.end();
  await app.end();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
