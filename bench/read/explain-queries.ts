/**
 * Writes the `EXPLAIN (ANALYZE, BUFFERS)` plans of the read path's SQL to docs/queries/ (one Markdown file per
 * query, the exact SQL the repositories send) and fails if any plan scans `patients` or `appointments` sequentially.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test TS_NODE_TRANSPILE_ONLY=1 \
 *     npx ts-node -r tsconfig-paths/register bench/read/explain-queries.ts --org bench
 *
 * Runs as the runtime role inside a tenant transaction (row-level security on, as in the app).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { RUNTIME_ROLE } from 'src/database/database';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import { PatientCountsRepository } from 'src/patients/patient-counts.repository';
import { PatientsRepository } from 'src/patients/patients.repository';
import type { ListSpec } from 'src/patients/profile-list';

const { values } = parseArgs({ options: { org: { type: 'string', default: 'bench' }, out: { type: 'string', default: 'docs/queries' } } });

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const client = new Client({ connectionString: url, options: `-c timezone=UTC -c role=${RUNTIME_ROLE}` });
  await client.connect();
  const org = (await client.query<{ id: string }>(`SELECT id FROM organizations WHERE slug = $1`, [values.org])).rows[0];
  if (!org) throw new Error(`No organization ${values.org}`);
  await client.query('BEGIN');
  await client.query(`SELECT set_config('app.organization_id', $1, true)`, [org.id]);
  const patientsInOrg = Number((await client.query<{ n: string }>(`SELECT sum(patients) AS n FROM patient_metric_counts WHERE organization_id = $1`, [org.id])).rows[0].n);

  const plans: { name: string; sql: string; params: unknown[]; plan: string }[] = [];
  let current = '';
  const manager: TenantSql = {
    organizationId: org.id,
    query: async <T>(sql: string, params: readonly unknown[] = []): Promise<T[]> => {
      const res = await client.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params as unknown[]);
      // A step of several statements (a deep OFFSET page: the counts, then the page) gets -2, -3... after the first.
      const nth = plans.filter((p) => p.name === current || p.name.startsWith(`${current}-`)).length;
      plans.push({ name: nth === 0 ? current : `${current}-${nth + 1}`, sql, params: [...params], plan: res.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n') });
      return (await client.query(sql, params as unknown[])).rows as never;
    },
  };

  const counts = new PatientCountsRepository();
  const patients = new PatientsRepository(counts);
  const spec = (over: Partial<ListSpec>): ListSpec => ({ sort: 'name', order: 'asc', status: null, search: null, limit: 100, offset: 0, after: null, ...over });
  const deep = Math.max(0, Math.min(900_000, patientsInOrg - 100));

  const run = async (name: string, work: () => Promise<unknown>): Promise<unknown> => {
    current = name;
    return work();
  };
  for (const sort of ['name', 'ltv', 'last_appointment', 'risk_score'] as const) {
    const order = sort === 'name' ? 'asc' : 'desc';
    const first = (await run(`list-${sort}-first-page`, () => patients.listSegment(manager, spec({ sort, order }), 'keyed', null, 0, 101))) as { id: string; sort_key: string }[];
    await run(`list-${sort}-status-at_risk-first-page`, () => patients.listSegment(manager, spec({ sort, order, status: 'at_risk' }), 'keyed', null, 0, 101));
    const last = first[first.length - 1];
    if (last) await run(`list-${sort}-cursor-page`, () => patients.listSegment(manager, spec({ sort, order }), 'keyed', { segment: 'keyed', key: last.sort_key, id: last.id }, 0, 101));
    // A deep OFFSET page as the app reads it (PatientsRepository.page: the segment sizes, then the page from the
    // nearer end of its segment).
    await run(`list-${sort}-offset-${deep}`, () => patients.page(manager, spec({ sort, order, offset: deep })));
  }
  const la = spec({ sort: 'last_appointment', order: 'desc' });
  const unkeyed = (await run('list-last_appointment-unkeyed-segment', () => patients.listSegment(manager, la, 'unkeyed', null, 0, 101))) as { id: string }[];
  const lastUnkeyed = unkeyed[unkeyed.length - 1];
  if (lastUnkeyed) await run('list-last_appointment-unkeyed-cursor-page', () => patients.listSegment(manager, la, 'unkeyed', { segment: 'unkeyed', key: null, id: lastUnkeyed.id }, 0, 101));
  await run('list-name-search-prefix', () => patients.listSegment(manager, spec({ search: 'ma' }), 'keyed', null, 0, 101));
  await run('count-organization-summary', () => counts.organizationCounts(manager));
  await run('count-name-prefix', () => counts.countNamePrefix(manager, null, 'ma'));
  const some = (await client.query<{ id: string }>(`SELECT patient_id AS id FROM patient_metrics WHERE organization_id = $1 LIMIT 1`, [org.id])).rows[0];
  if (some) await run('profile', () => patients.findProfile(manager, some.id, { historyLimit: 50, now: new Date(), withMedical: true }));
  await client.query('ROLLBACK');
  await client.end();

  const dir = resolve(__dirname, '../..', values.out);
  mkdirSync(dir, { recursive: true });
  const bad: string[] = [];
  const index: string[] = [`# Read path query plans`, '', `Organization \`${values.org}\` (${patientsInOrg} patients), generated by \`bench/read/explain-queries.ts\` on ${new Date().toISOString()}.`, ''];
  for (const p of plans) {
    const file = `${p.name}.md`;
    const seq = /Seq Scan on (patients|appointments)\b/.test(p.plan);
    if (seq) bad.push(p.name);
    const time = /Execution Time: ([\d.]+) ms/.exec(p.plan)?.[1];
    index.push(`- [${p.name}](${file}): ${time} ms${seq ? ' **SEQUENTIAL SCAN**' : ''}`);
    writeFileSync(
      resolve(dir, file),
      `# ${p.name}\n\n\`\`\`sql\n${p.sql.trim()}\n\`\`\`\n\nParameters: \`${JSON.stringify(p.params.map((v) => (typeof v === 'string' && v.length > 60 ? v.slice(0, 60) + '…' : v)))}\`\n\n\`\`\`\n${p.plan}\n\`\`\`\n`,
    );
  }
  writeFileSync(resolve(dir, 'index.md'), index.join('\n') + '\n');
  process.stdout.write(index.join('\n') + '\n');
  if (bad.length) {
    process.stderr.write(`Sequential scan of patients/appointments in: ${bad.join(', ')}\n`);
    process.exit(1);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
