/**
 * Recompute benchmark: `TS_NODE_TRANSPILE_ONLY=1 npx ts-node -r tsconfig-paths/register bench/recompute-bench.ts
 *   --patients 1000000 [--database bench_recompute] [--chunk 50000] [--regenerate]`
 * Needs DATABASE_URL (a server where it may create the database). Generates, once, an organization
 * `recompute-bench-<N>` with a synthetic history per patient (about 8 appointments, 6 messages, 6 payments,
 * 1 survey, 0.1 referrals and 0.3 treatment plans), then times two organization-wide recomputes: the first
 * inserts the metrics rows, the second updates them (the nightly case).
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { runMigrations } from 'src/database/migrate';
import { Database } from 'src/database/database';
import { recomputeOrganization } from 'src/scoring/recompute/organization-recompute';
import { ScoringRepositories } from 'src/scoring/scoring-repositories';

const { values } = parseArgs({
  options: {
    patients: { type: 'string', default: '100000' },
    database: { type: 'string', default: 'bench_recompute' },
    chunk: { type: 'string' },
    regenerate: { type: 'boolean', default: false },
    runs: { type: 'string', default: '2' },
  },
});
const patients = Number(values.patients);
const server = process.env.DATABASE_URL;
if (!server) throw new Error('DATABASE_URL is required');
const url = (() => {
  const u = new URL(server);
  u.pathname = `/${values.database}`;
  return u.toString();
})();
const now = new Date();
const slug = `recompute-bench-${patients}`;

async function step(client: Client, label: string, sql: string, params: unknown[]): Promise<void> {
  const started = Date.now();
  const result = await client.query(sql, params);
  process.stderr.write(`  ${label}: ${result.rowCount ?? 0} rows in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

async function generate(client: Client): Promise<string> {
  await client.query('DELETE FROM organizations WHERE slug = $1', [slug]);
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO organizations (slug, name, timezone, currency, settings) VALUES ($1, $1, 'UTC', 'USD', '{}') RETURNING id`,
    [slug],
  );
  const org = rows[0].id;
  process.stderr.write(`Generating ${patients} patients in ${values.database} (${slug})...\n`);
  await client.query('SET synchronous_commit = off');
  const p = [org, now];
  await step(client, 'patients', `INSERT INTO patients (organization_id, source, external_id, name, registered_at, preferred_channel, marketing_consent)
    SELECT $1, 'bench', 'p' || g, 'Patient ' || g, $2::timestamptz - random() * interval '1500 days',
      (ARRAY['phone','sms','email','whatsapp'])[1 + floor(random() * 4)::int], random() < 0.6
    FROM generate_series(1, $3::int) g`, [...p, patients]);
  // Per patient a random count; `p.id IS NOT NULL` ties the lateral to the row so random() is drawn per patient.
  const each = (max: number): string => `generate_series(1, floor(random() * ${max + 1})::int + (p.id IS NULL)::int)`;
  await step(client, 'appointments', `INSERT INTO appointments (organization_id, source, external_id, patient_id, starts_at, type, status, value_cents)
    SELECT $1, 'bench', p.id || '-' || k, p.id, at, 'visit',
      CASE WHEN at > $2 THEN 'scheduled' WHEN r < 0.8 THEN 'completed' WHEN r < 0.9 THEN 'no_show' ELSE 'cancelled' END,
      (5000 + random() * 20000)::int
    FROM patients p, LATERAL (SELECT k, random() AS r, $2::timestamptz - (random() * 1000 - 15) * interval '1 day' AS at FROM ${each(16)} k) x
    WHERE p.organization_id = $1`, p);
  await step(client, 'communications', `INSERT INTO communications (organization_id, source, external_id, patient_id, occurred_at, channel, kind, direction, responded_at)
    SELECT $1, 'bench', p.id || '-' || k, p.id, at, (ARRAY['phone','sms','email','whatsapp'])[1 + floor(random() * 4)::int],
      (ARRAY['message','call','email'])[1 + floor(random() * 3)::int], CASE WHEN r < 0.3 THEN 'inbound' ELSE 'outbound' END,
      CASE WHEN r >= 0.3 AND random() < 0.5 THEN at + random() * interval '48 hours' END
    FROM patients p, LATERAL (SELECT k, random() AS r, $2::timestamptz - random() * interval '900 days' AS at FROM ${each(12)} k) x
    WHERE p.organization_id = $1`, p);
  await step(client, 'payments', `INSERT INTO payments (organization_id, source, external_id, patient_id, occurred_at, amount_cents, kind, status)
    SELECT $1, 'bench', p.id || '-' || k, p.id, $2::timestamptz - random() * interval '1000 days', (5000 + random() * 20000)::int,
      CASE WHEN r < 0.05 THEN 'refund' ELSE 'payment' END,
      CASE WHEN r < 0.9 THEN 'paid' WHEN r < 0.95 THEN 'failed' ELSE 'overdue' END
    FROM patients p, LATERAL (SELECT k, random() AS r FROM ${each(12)} k) x
    WHERE p.organization_id = $1`, p);
  await step(client, 'survey_responses', `INSERT INTO survey_responses (organization_id, source, external_id, patient_id, submitted_at, satisfaction, nps, complaint)
    SELECT $1, 'bench', p.id || '-' || k, p.id, $2::timestamptz - random() * interval '700 days', 1 + floor(random() * 5)::int,
      floor(random() * 11)::int, random() < 0.05
    FROM patients p, LATERAL (SELECT k FROM ${each(2)} k) x
    WHERE p.organization_id = $1`, p);
  await step(client, 'referrals', `INSERT INTO referrals (organization_id, source, external_id, referrer_patient_id, referred_patient_id, referred_at)
    SELECT $1, 'bench', id || '-' || next_id, id, next_id, $2::timestamptz - random() * interval '600 days'
    FROM (SELECT id, lead(id) OVER (ORDER BY id) AS next_id, row_number() OVER (ORDER BY id) AS n FROM patients WHERE organization_id = $1) x
    WHERE n % 10 = 0 AND next_id IS NOT NULL`, p);
  await step(client, 'treatment_plans', `INSERT INTO treatment_plans (organization_id, source, external_id, patient_id, name, planned_sessions, completed_sessions, session_value_cents, status, started_at, ends_at)
    SELECT $1, 'bench', p.id || '-plan', p.id, 'plan', 10, floor(random() * 11)::int, 8000,
      (ARRAY['active','completed','abandoned'])[1 + floor(random() * 3)::int], $2::timestamptz - interval '120 days', $2::timestamptz + interval '60 days'
    FROM patients p WHERE p.organization_id = $1 AND random() < 0.3`, p);
  await step(client, 'analyze', 'ANALYZE', []);
  return org;
}

async function main(): Promise<void> {
  const admin = new Client({ connectionString: server });
  await admin.connect();
  const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [values.database]);
  if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${values.database}"`);
  await admin.end();
  await runMigrations(url);
  const client = new Client({ connectionString: url, options: '-c timezone=UTC' });
  await client.connect();
  const found = await client.query<{ id: string }>('SELECT id FROM organizations WHERE slug = $1', [slug]);
  const org = found.rows[0] && !values.regenerate ? found.rows[0].id : await generate(client);
  await client.end();
  for (let run = 1; run <= Number(values.runs); run++) {
    let last = 0;
    const cpu = watchBackends(url);
    const nodeCpu = process.cpuUsage();
    const database = new Database({ url, poolSize: 1, applicationName: 'recompute-bench' });
    const result = await recomputeOrganization(database, new ScoringRepositories(), org, now, {
      chunkSize: values.chunk ? Number(values.chunk) : undefined,
      onProgress: (done, total) => {
        if (done - last >= total / 10 || done === total) {
          process.stderr.write(`    ${done}/${total}\n`);
          last = done;
        }
      },
    }).finally(() => database.close());
    const node = process.cpuUsage(nodeCpu);
    const backends = await cpu.stop();
    const nodeSeconds = (node.user + node.system) / 1e6;
    const pgSeconds = backends.reduce((a, b) => a + b, 0);
    process.stdout.write(
      `run ${run}: ${result.patients} patients in ${(result.totalMs / 1000).toFixed(1)} s wall (fit ${(result.fitMs / 1000).toFixed(1)} s); ` +
        `CPU: node ${nodeSeconds.toFixed(1)} s, PostgreSQL backends ${backends.map((b) => b.toFixed(1)).join(' + ')} s; ` +
        `load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores\n`,
    );
    process.stdout.write(`  lower bound on an idle machine: max(total CPU / cores, busiest process) = ${Math.max((nodeSeconds + pgSeconds) / cpus().length, nodeSeconds, ...backends).toFixed(1)} s\n`);
  }
}

/** CPU seconds (user + system, from /proc) of the recompute's PostgreSQL backends, sampled until `stop`. */
function watchBackends(databaseUrl: string): { stop(): Promise<number[]> } {
  const seen = new Map<number, number>();
  const client = new Client({ connectionString: databaseUrl });
  const ready = client.connect();
  const tick = hz();
  let active = true;
  const sample = async (): Promise<void> => {
    await ready;
    const { rows } = await client.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name = 'patient-journey-recompute'`);
    for (const { pid } of rows) {
      try {
        const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
        seen.set(pid, (Number(fields[11]) + Number(fields[12])) / tick);
      } catch {
        // the backend just ended: keep its last sample
      }
    }
  };
  const loop = (async () => {
    while (active) {
      await sample().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    async stop() {
      active = false;
      await loop;
      await client.end();
      return [...seen.values()];
    },
  };
}

function hz(): number {
  return 100; // USER_HZ on Linux
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
