import { randomBytes } from 'node:crypto';
import { loadSettings } from 'src/config/settings';
import { connectionConfig, Database } from 'src/database/database';
import { BatchTenantConnection } from 'src/database/tenant/batch-tenant-connection';
import { createPhiCipher } from 'src/records/phi/phi-cipher';
import { gamma, mulberry32 } from 'src/scoring/domain/prng';
import { simulateBgNbd } from 'src/scoring/domain/simulation';
import { recomputeOrganization, type RecomputeOptions, type RecomputeResult } from 'src/scoring/recompute/organization-recompute';
import { ScoringRepositories } from 'src/scoring/scoring-repositories';
import { TEST_NOW } from 'test/utils/test-app';
import type { TestDatabase } from 'test/utils/test-database';

/** Factories for the scoring tests: raw rows inserted as the owner, dates relative to a given "now". */

const DAY = 86_400_000;
const unique = (): string => randomBytes(6).toString('hex');

export const daysAgo = (now: Date, days: number): Date => new Date(now.getTime() - days * DAY);
export const daysAfter = (now: Date, days: number): Date => new Date(now.getTime() + days * DAY);

/** Every patient of the organization, as FeaturesRepository selects them. */
export const ALL_PATIENTS = { kind: 'range', from: null, to: null } as const;

let cipher: ReturnType<typeof createPhiCipher> | undefined;
/** The PHI cipher of the test settings, for `seedOrganization` (made on first use). */
export const seedCipher = (): ReturnType<typeof createPhiCipher> =>
  (cipher ??= createPhiCipher(loadSettings({ NODE_ENV: 'test', DATA_DIR: process.env.TEST_DATA_DIR ?? '.data/test' })));

export async function scoringOrganization(
  db: TestDatabase,
  options: { settings?: Record<string, unknown>; timezone?: string } = {},
): Promise<string> {
  const slug = `score-${unique()}`;
  const rows = await db.query<{ id: string }>(
    `INSERT INTO organizations (slug, name, timezone, currency, settings) VALUES ($1, $1, $2, 'USD', $3::jsonb) RETURNING id`,
    [slug, options.timezone ?? 'UTC', JSON.stringify(options.settings ?? {})],
  );
  return rows[0].id;
}

export interface PatientOptions {
  name?: string;
  registeredAt?: Date;
  preferredChannel?: 'phone' | 'sms' | 'email' | 'whatsapp';
  marketingConsent?: boolean;
  deletedAt?: Date | null;
}

export async function patient(db: TestDatabase, organizationId: string, o: PatientOptions = {}): Promise<string> {
  const rows = await db.query<{ id: string }>(
    `INSERT INTO patients (organization_id, source, external_id, name, registered_at, preferred_channel, marketing_consent, deleted_at)
     VALUES ($1, 'test', $2, $3, $4, $5, $6, $7) RETURNING id`,
    [
      organizationId,
      unique(),
      o.name ?? `Patient ${unique()}`,
      o.registeredAt ?? new Date('2020-01-01T00:00:00Z'),
      o.preferredChannel ?? 'email',
      o.marketingConsent ?? false,
      o.deletedAt ?? null,
    ],
  );
  return rows[0].id;
}

export async function appointment(
  db: TestDatabase,
  organizationId: string,
  patientId: string,
  startsAt: Date,
  status: 'scheduled' | 'completed' | 'cancelled' | 'no_show' = 'completed',
  valueCents = 10_000,
): Promise<void> {
  await db.query(
    `INSERT INTO appointments (organization_id, source, external_id, patient_id, starts_at, type, status, value_cents)
     VALUES ($1, 'test', $2, $3, $4, 'visit', $5, $6)`,
    [organizationId, unique(), patientId, startsAt, status, valueCents],
  );
}

export async function communication(
  db: TestDatabase,
  organizationId: string,
  patientId: string,
  o: { at: Date; direction: 'inbound' | 'outbound'; kind?: 'message' | 'call' | 'email'; channel?: string; respondedAt?: Date | null },
): Promise<void> {
  await db.query(
    `INSERT INTO communications (organization_id, source, external_id, patient_id, occurred_at, channel, kind, direction, responded_at)
     VALUES ($1, 'test', $2, $3, $4, $5, $6, $7, $8)`,
    [organizationId, unique(), patientId, o.at, o.channel ?? 'email', o.kind ?? 'message', o.direction, o.respondedAt ?? null],
  );
}

export async function payment(
  db: TestDatabase,
  organizationId: string,
  patientId: string,
  o: { at: Date; cents: number; kind?: 'charge' | 'payment' | 'refund'; status?: 'paid' | 'pending' | 'failed' | 'overdue' | 'refunded' },
): Promise<void> {
  await db.query(
    `INSERT INTO payments (organization_id, source, external_id, patient_id, occurred_at, amount_cents, kind, status)
     VALUES ($1, 'test', $2, $3, $4, $5, $6, $7)`,
    [organizationId, unique(), patientId, o.at, o.cents, o.kind ?? 'payment', o.status ?? 'paid'],
  );
}

export async function survey(
  db: TestDatabase,
  organizationId: string,
  patientId: string,
  o: { at: Date; satisfaction?: number | null; complaint?: boolean },
): Promise<void> {
  await db.query(
    `INSERT INTO survey_responses (organization_id, source, external_id, patient_id, submitted_at, satisfaction, complaint)
     VALUES ($1, 'test', $2, $3, $4, $5, $6)`,
    [organizationId, unique(), patientId, o.at, o.satisfaction ?? null, o.complaint ?? false],
  );
}

export async function referral(db: TestDatabase, organizationId: string, referrerId: string, referredId: string, at: Date): Promise<void> {
  await db.query(
    `INSERT INTO referrals (organization_id, source, external_id, referrer_patient_id, referred_patient_id, referred_at)
     VALUES ($1, 'test', $2, $3, $4, $5)`,
    [organizationId, unique(), referrerId, referredId, at],
  );
}

export async function treatmentPlan(
  db: TestDatabase,
  organizationId: string,
  patientId: string,
  o: { planned: number; completed: number; sessionValueCents: number; status: 'active' | 'completed' | 'abandoned'; startedAt: Date; endsAt: Date | null },
): Promise<void> {
  await db.query(
    `INSERT INTO treatment_plans (organization_id, source, external_id, patient_id, name, planned_sessions, completed_sessions, session_value_cents, status, started_at, ends_at)
     VALUES ($1, 'test', $2, $3, 'plan', $4, $5, $6, $7, $8, $9)`,
    [organizationId, unique(), patientId, o.planned, o.completed, o.sessionValueCents, o.status, o.startedAt, o.endsAt],
  );
}

export interface MetricsRow {
  patient_id: string;
  sort_name: string;
  status: string;
  risk_score: number;
  risk_level: string;
  risk_factors: { code: string; text: string; points: number }[];
  risk_trend: string;
  engagement_score: number;
  ltv_cents: number;
  historical_revenue_cents: number;
  future_value_cents: number;
  referral_value_cents: number;
  total_sessions: number;
  avg_session_value_cents: number;
  first_visit_at: Date | null;
  last_appointment_at: Date | null;
  next_appointment_at: Date | null;
  last_contact_at: Date | null;
  success_probability: number;
  stale: boolean;
  computed_at: Date | null;
}

export async function metrics(db: TestDatabase, patientId: string): Promise<MetricsRow | undefined> {
  const rows = await db.query<MetricsRow & Record<string, unknown>>(`SELECT * FROM patient_metrics WHERE patient_id = $1`, [patientId]);
  return rows[0];
}

/** A connection of its own bound to `organizationId`, as the runtime role (what an organization-wide run uses). */
export function tenantConnection(url: string, organizationId: string): Promise<BatchTenantConnection> {
  return BatchTenantConnection.open(connectionConfig(url, { applicationName: 'scoring-test' }), organizationId);
}

/** An organization-wide recompute on a database of its own (opened and closed around the run), as the CLI runs it. */
export async function recomputeOrganizationWithUrl(url: string, organizationId: string, now: Date, options: RecomputeOptions = {}): Promise<RecomputeResult> {
  const database = new Database({ url, poolSize: 1, applicationName: 'scoring-test' });
  try {
    return await recomputeOrganization(database, new ScoringRepositories(), organizationId, now, options);
  } finally {
    await database.close();
  }
}

/**
 * `n` patients of the organization whose completed visits follow the BG/NBD story (weeks: r 1, α 10, a 0.8, b 2.5,
 * seeded by `seed`) up to `now`, with visit values from the Gamma-Gamma story (cents, seeded by `valueSeed`): enough
 * history for an accepted fit from about 100 patients. Returns their ids.
 */
export async function simulatedPatients(db: TestDatabase, organizationId: string, n: number, now: Date, o: { seed: number; valueSeed: number }): Promise<string[]> {
  const histories = simulateBgNbd({ r: 1, alpha: 10, a: 0.8, b: 2.5 }, n, { minT: 20, maxT: 100, granularity: 1 / 7 }, o.seed);
  const random = mulberry32(o.valueSeed);
  const patientIds = (
    await db.query<{ id: string }>(
      `INSERT INTO patients (organization_id, source, external_id, name) SELECT $1, 'sim', 's' || g, 'Sim ' || g FROM generate_series(1, $2::int) g RETURNING id`,
      [organizationId, histories.length],
    )
  ).map((r) => r.id);
  const rows: { patient: string; at: Date; cents: number }[] = [];
  histories.forEach((h, i) => {
    const nu = gamma(random, 4, 5000);
    const first = now.getTime() - h.T * 7 * DAY;
    for (let k = 0; k <= h.x; k++) {
      const offsetWeeks = h.x === 0 ? 0 : (h.tx * k) / h.x;
      rows.push({ patient: patientIds[i], at: new Date(first + offsetWeeks * 7 * DAY), cents: Math.max(1, Math.round(gamma(random, 6, nu))) });
    }
  });
  await db.query(
    `INSERT INTO appointments (organization_id, source, external_id, patient_id, starts_at, type, status, value_cents)
     SELECT $1, 'sim', 'a' || n, patient, at, 'visit', 'completed', cents
     FROM unnest($2::uuid[], $3::timestamptz[], $4::int[]) WITH ORDINALITY AS u(patient, at, cents, n)`,
    [organizationId, rows.map((r) => r.patient), rows.map((r) => r.at), rows.map((r) => r.cents)],
  );
  return patientIds;
}

/** The organization's metric counts (`patient_metric_counts` summed), the non-zero groups in order. */
export function metricCounts(db: TestDatabase, organizationId: string): Promise<Record<string, unknown>[]> {
  return db.query(
    `SELECT status, risk_level, risk_trend, sum(patients)::int AS n FROM patient_metric_counts WHERE organization_id = $1
      GROUP BY 1, 2, 3 HAVING sum(patients) <> 0 ORDER BY 1, 2, 3`,
    [organizationId],
  );
}

/** The organization's metrics rows grouped as `patient_metric_counts` counts them: what metricCounts must equal. */
export function metricGroups(db: TestDatabase, organizationId: string): Promise<Record<string, unknown>[]> {
  return db.query(
    `SELECT status, risk_level, risk_trend, count(*)::int AS n FROM patient_metrics WHERE organization_id = $1 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
    [organizationId],
  );
}

/** The `patient_metrics` partitions whose bound names the organization (none while it is in the shared one). */
export async function partitionsOf(db: TestDatabase, organizationId: string): Promise<string[]> {
  const rows = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'patient_metrics'::regclass AND pg_get_expr(c.relpartbound, c.oid) = format('FOR VALUES IN (%L)', $1::text)`,
    [organizationId],
  );
  return rows.map((r) => r.name);
}

/**
 * A new organization (`scoringOrganization`) of `n` patients simulated as `simulatedPatients` does, up to TEST_NOW,
 * the visit values seeded by `seed + 1`: a small clinic for the nightly tests. Returns its id.
 */
export async function simulatedClinic(db: TestDatabase, n: number, seed: number): Promise<string> {
  const org = await scoringOrganization(db);
  await simulatedPatients(db, org, n, TEST_NOW, { seed, valueSeed: seed + 1 });
  return org;
}
