/**
 * The request path's recompute of one patient (what an ingestion batch triggers for the patients it touched; issue
 * #5: "one patient in ≤ 20 ms") on a real-sized clinic: `ScoringService.recomputePatients` as the app calls it
 * (runtime role, row-level security, one transaction: features query, scoring, upsert), for random patients of the
 * organization, one after another. Prints p50, p95 and max.
 *
 *   DATABASE_URL=... TS_NODE_TRANSPILE_ONLY=1 npx ts-node -r tsconfig-paths/register bench/patient-recompute-bench.ts
 *     --org <slug> [--runs 300] [--batch 1] [--seed 7]
 *
 * It rewrites the chosen patients' metrics rows with their current scores (as an ingestion would), nothing else.
 * The sample (`--seed`) decides which patients: the first run over a sample reads their records from disk or the
 * OS cache (cold); a second run over the same sample finds them in shared buffers, as a recompute right after the
 * ingestion that wrote them does.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { SystemClock } from 'src/common/clock/clock';
import { Database } from 'src/database/database';
import { ScoringRepositories } from 'src/scoring/scoring-repositories';
import { ScoringEvents } from 'src/scoring/scoring-events';
import { ScoringService } from 'src/scoring/scoring.service';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { org: { type: 'string' }, runs: { type: 'string', default: '300' }, batch: { type: 'string', default: '1' }, seed: { type: 'string', default: '7' } } });
  const url = process.env.DATABASE_URL;
  const runs = Number(values.runs);
  const batch = Number(values.batch);
  if (!values.org || !url || !(runs > 0) || !(batch > 0)) throw new Error('usage: DATABASE_URL=... patient-recompute-bench.ts --org <slug> [--runs 300] [--batch 1]');
  const database = new Database({ url, poolSize: 2, applicationName: 'patient-recompute-bench' });
  try {
    // The organization and a random sample of its live patients (Bernoulli, so spread over the whole clinic rather
    // than its first ids), read as the connecting user: the runtime role sees no row outside a tenant transaction.
    const owner = new Client({ connectionString: url });
    await owner.connect();
    let org: { id: string } | undefined;
    let n = 0;
    let ids: string[] = [];
    try {
      [org] = (await owner.query<{ id: string }>(`SELECT id FROM organizations WHERE slug = $1`, [values.org])).rows;
      if (!org) throw new Error(`no organization ${values.org}`);
      n = Number((await owner.query<{ n: string }>(`SELECT count(*) AS n FROM patients WHERE organization_id = $1 AND deleted_at IS NULL`, [org.id])).rows[0].n);
      const percent = Math.min(100, (100 * runs * batch * 2) / Math.max(1, n));
      ids = (
        await owner.query<{ id: string }>(
          `SELECT id FROM patients TABLESAMPLE BERNOULLI ($2) REPEATABLE ($4) WHERE organization_id = $1 AND deleted_at IS NULL LIMIT $3`,
          [org.id, percent, runs * batch, Number(values.seed)],
        )
      ).rows.map((r) => r.id);
    } finally {
      await owner.end();
    }
    if (ids.length < batch) throw new Error(`organization ${values.org} has too few patients`);
    const scoring = new ScoringService(database, database.tenants, database.crossTenant, new ScoringRepositories(), new SystemClock(), new ScoringEvents(), { jobs: { concurrency: 1 } });
    await scoring.recomputePatients(org.id, ids.slice(0, batch)); // loads the organization's settings and models
    const times: number[] = [];
    for (let i = 0; i + batch <= ids.length; i += batch) {
      const started = process.hrtime.bigint();
      await scoring.recomputePatients(org.id, ids.slice(i, i + batch));
      times.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    times.sort((a, b) => a - b);
    const at = (q: number): string => times[Math.min(times.length - 1, Math.floor(q * times.length))].toFixed(1);
    process.stdout.write(
      `${values.org}: ${times.length} recomputes of ${batch} patient${batch === 1 ? '' : 's'} (of ${n.toLocaleString('en-US')}): ` +
        `p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${times[times.length - 1].toFixed(1)} ms\n`,
    );
  } finally {
    await database.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
