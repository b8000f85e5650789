/**
 * The metrics write of a small clinic's nightly run in each form (docs/scaling.md, "The metrics write of a small
 * clinic"): `DATABASE_URL=<the database> TS_NODE_TRANSPILE_ONLY=1 npx ts-node -r tsconfig-paths/register
 * bench/metrics-write-bench.ts [--orgs 100] [--rounds 3] [--forms upsert,update,jsonb] [--plans]` ('jsonb': the upsert as it
 * was before its rows went as `json` bytes).
 *
 * For each of the first --orgs organizations (by id), its scores are computed as its nightly run computes them (its
 * kept features rolled forward to now, its stored fit), once; then, --rounds times, the write (saveScores: the
 * metrics rows and today's history rows in one statement) in each form in turn, each in a transaction rolled back, on
 * one runtime-role connection rebound from clinic to clinic with its statements prepared (as the nightly job's). Prints
 * per form the statement's wall (median, p75) and its backend's CPU per clinic, and whether every form left the same
 * rows in the transaction (md5 of the clinic's `patient_metrics` rows, its history rows and its summed count rows,
 * all columns, `now` being the same). `--plans`: EXPLAIN (ANALYZE, BUFFERS, WAL) of each form on the first clinic.
 * Writes nothing that stays but the kept features that a night would write (features read afresh).
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { localDate } from 'src/common/time/calendar';
import { Database } from 'src/database/database';
import type { BatchTenantConnection } from 'src/database/tenant/batch-tenant-connection';
import { keptFeaturesKey } from 'src/scoring/features/kept-features.sql';
import { organizationScoringSettings } from 'src/scoring/organization-settings';
import type { PatientScores } from 'src/scoring/patient-scores';
import { scoreRows } from 'src/scoring/recompute/patient-recompute';
import { readChunk } from 'src/scoring/recompute/read-chunk';
import type { MetricsWriteForm } from 'src/scoring/scores/scores.repository';
import { ScoringRepositories } from 'src/scoring/scoring-repositories';
import { processCpuMs } from './process-cpu';

const { values } = parseArgs({
  options: {
    orgs: { type: 'string', default: '100' },
    rounds: { type: 'string', default: '3' },
    forms: { type: 'string', default: 'upsert,update' },
    plans: { type: 'boolean', default: false },
  },
});

class Rollback extends Error {}

/** A form of saveScores, or 'jsonb' (the upsert before it sent its rows as json bytes). */
type BenchForm = MetricsWriteForm | 'jsonb';

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL (the database) is required');
  const forms = values.forms.split(',') as BenchForm[];
  const database = new Database({ url, poolSize: 1, applicationName: 'metrics-write-bench' });
  const repos = new ScoringRepositories();
  const now = new Date();
  try {
    const owner = await database.ownerConnection('metrics-write-bench');
    const orgs = (
      await owner
        .query<{ id: string }>(
          `SELECT o.id FROM organizations o WHERE EXISTS (SELECT 1 FROM patients p WHERE p.organization_id = o.id) ORDER BY o.id LIMIT $1`,
          [Number(values.orgs)],
        )
        .finally(() => owner.end())
    ).map((r) => r.id);
    // The clinics' scores as their nightly run computes them (kept features rolled forward, the stored fit).
    const inputs: { org: string; scores: PatientScores[]; today: string }[] = [];
    let conn: BatchTenantConnection = await database.batchConnection(orgs[0], 'metrics-write-bench');
    await conn.query(`SET jit = off; SET work_mem = '64MB'`);
    for (const org of orgs) {
      if (conn.organizationId !== org) conn = await conn.rebind(org);
      const organization = (await repos.organizations.own(conn))!;
      const settings = organizationScoringSettings(organization.settings);
      const stored = await repos.fits.latestFits(conn);
      const keep = { settingsKey: keptFeaturesKey(settings) };
      const { rows } = await readChunk(repos, conn, { kind: 'range', from: null, to: null }, now, {
        settings,
        timeZone: organization.timezone,
        reuse: true,
        keep,
      });
      const referred = await repos.features.referredNetRevenue(conn, now);
      for (const row of rows) row.referredNetRevenueCents = referred.get(row.patientId) ?? 0;
      const scores = scoreRows(rows, now, { organization, settings, models: stored?.models ?? null });
      inputs.push({ org, scores, today: localDate(now, organization.timezone) });
    }
    const pid = (await conn.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0].pid;
    const wall = new Map<BenchForm, number[]>(forms.map((f) => [f, []]));
    const cpu = new Map<BenchForm, number>(forms.map((f) => [f, 0]));
    let differing = 0;
    const historyRows: number[] = [];
    const md5 = async (c: BatchTenantConnection, today: string): Promise<string> => {
      const [r] = await c.query<{ m: string; h: string; n: string; hn: number }>(
        `SELECT (SELECT md5(string_agg(m::text, '|' ORDER BY m.patient_id)) FROM patient_metrics m WHERE m.organization_id = $1) AS m,
                (SELECT md5(string_agg(h::text, '|' ORDER BY h.patient_id, h.recorded_on)) FROM risk_score_history h WHERE h.organization_id = $1) AS h,
                (SELECT md5(string_agg(concat_ws(',', status, risk_level, risk_trend, n, last), '|' ORDER BY status, risk_level, risk_trend))
                   FROM (SELECT status, risk_level, risk_trend, sum(patients) AS n, max(last_computed_at) AS last FROM patient_metric_counts
                          WHERE organization_id = $1 GROUP BY 1, 2, 3) c) AS n,
                (SELECT count(*)::int FROM risk_score_history h WHERE h.organization_id = $1 AND h.recorded_on = $2::date AND h.updated_at = $3) AS hn`,
        [c.organizationId, today, now],
      );
      historyRows.push(r.hn);
      return `${r.m}/${r.h}/${r.n}`;
    };
    // 'jsonb': the upsert as it was before the rows went as `json` bytes (docs/scaling.md, "The night's CPU per
    // clinic"): the same statement with jsonb_to_recordset over the same text, sent as a string.
    const writeIn = (form: BenchForm, c: BatchTenantConnection, scores: PatientScores[], today: string): Promise<void> => {
      if (form !== 'jsonb') return repos.scores.saveScores(c, scores, now, today, [], { form });
      const asJsonb = new Proxy(c, {
        get(target, prop, receiver) {
          if (prop !== 'query') return Reflect.get(target, prop, receiver) as unknown;
          return (sql: string, params: unknown[]) =>
            target.query(
              sql.replace(/json_to_recordset\((\$\d+)::json\)/, 'jsonb_to_recordset($1::jsonb)'),
              params.map((p) => (Buffer.isBuffer(p) ? p.toString('utf8') : p)),
            );
        },
      });
      return repos.scores.saveScores(asJsonb, scores, now, today, [], { form: 'upsert' });
    };
    for (let round = 0; round < Number(values.rounds); round++) {
      for (const input of inputs) {
        if (conn.organizationId !== input.org) conn = await conn.rebind(input.org);
        conn.prepareStatements();
        const seen = new Set<string>();
        // Alternated: the first form first in even rounds, last in odd ones.
        for (const form of round % 2 === 0 ? forms : [...forms].reverse()) {
          const c = conn;
          await c
            .transaction(async () => {
              const before = processCpuMs(pid);
              const t = process.hrtime.bigint();
              await writeIn(form, c, input.scores, input.today);
              wall.get(form)!.push(Number(process.hrtime.bigint() - t) / 1e6);
              cpu.set(form, cpu.get(form)! + processCpuMs(pid) - before);
              seen.add(await md5(c, input.today));
              throw new Rollback();
            })
            .catch((err: unknown) => {
              if (!(err instanceof Rollback)) throw err;
            });
        }
        if (seen.size !== 1) differing++;
      }
    }
    if (values.plans) {
      const input = inputs[0];
      if (conn.organizationId !== input.org) conn = await conn.rebind(input.org);
      for (const form of forms) {
        const c = conn;
        const explaining = new Proxy(c, {
          get(target, prop, receiver) {
            if (prop !== 'query') return Reflect.get(target, prop, receiver) as unknown;
            return async (sql: string, params: unknown[]) => {
              const plan = await target.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS, WAL) ${sql}`, params);
              process.stdout.write(`--- ${form}\n${plan.map((p) => p['QUERY PLAN']).join('\n')}\n`);
              return [];
            };
          },
        });
        await c
          .transaction(async () => {
            await writeIn(form, explaining as BatchTenantConnection, input.scores, input.today);
            throw new Rollback();
          })
          .catch((err: unknown) => {
            if (!(err instanceof Rollback)) throw err;
          });
      }
    }
    await conn.end();
    const patients = inputs.reduce((a, i) => a + i.scores.length, 0) / inputs.length;
    process.stdout.write(
      `${inputs.length} clinics (${patients.toFixed(0)} patients each on average) × ${values.rounds} rounds; history rows written per clinic (median) ${pct(historyRows, 50)}\n`,
    );
    for (const form of forms) {
      const w = wall.get(form)!;
      process.stdout.write(
        `${form}: statement wall median ${pct(w, 50).toFixed(2)} ms, p75 ${pct(w, 75).toFixed(2)} ms; backend CPU ${(cpu.get(form)! / w.length).toFixed(2)} ms per clinic\n`,
      );
    }
    process.stdout.write(`clinics whose rows differed between the forms: ${differing} (load ${loadavg()[0].toFixed(1)} on ${cpus().length} cores)\n`);
  } finally {
    await database.close();
  }
}

void main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
