import { JOURNEY_SQL, JourneyRow } from 'src/journey/journey.repository';
import type { JourneyResponse } from 'src/journey/dto/journey.response';
import { toJourneyResponse } from 'src/journey/journey.service';
import { classify, DEFAULT_RECALL_DAYS, Opportunity } from 'src/opportunities/domain/opportunity-rules';
import { OpportunitiesRepository } from 'src/opportunities/opportunities.repository';
import type { TenantSql } from 'src/database/tenant/tenant-sql';

export type Query = <T extends Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<T[]>;

/** What a seeded clinic shows a front-end developer, counted by the app's own rules and statements. */
export interface DemoCoverage {
  patients: number;
  status: Record<string, number>;
  riskLevel: Record<string, number>;
  riskTrend: Record<string, number>;
  /** patient_metric_counts, as the risk summary reads them */
  summaryTrend: Record<string, number>;
  upcoming: Record<'with' | 'without', number>;
  marketingConsent: Record<string, number>;
  appointmentReminders: Record<string, number>;
  /** Current journey stage (the journey endpoint's statement and rules, patient by patient). */
  journeyStage: Record<string, number>;
  /** Patients whose journey went lapsed → reactivated more than once. */
  lapsedRepeatedly: number;
  /** `type/priority` of the opportunities the refresher would store. */
  opportunities: Record<string, number>;
  outreach: Record<string, number>;
  /** Risk history rows, and patients with one dated before their registration (a leak from the future). */
  historyRows: number;
  historyBeforeRegistration: number;
}

export const tally = (values: Iterable<string>): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
};

/** Every patient's journey as the journey endpoint derives it (its statement and rules, patient by patient). */
export async function journeysOf(query: Query, organizationId: string, now: Date): Promise<JourneyResponse['journey'][]> {
  const patients = await query<{ id: string }>('SELECT id FROM patients WHERE organization_id = $1 AND deleted_at IS NULL ORDER BY id', [organizationId]);
  const out: JourneyResponse['journey'][] = [];
  for (const p of patients) {
    const [row] = await query<JourneyRow & Record<string, unknown>>(JOURNEY_SQL, [organizationId, p.id, now, 1]);
    out.push(toJourneyResponse(p.id, row, now, () => null).journey);
  }
  return out;
}

export async function demoCoverage(query: Query, organizationId: string, now: Date): Promise<DemoCoverage> {
  const metrics = await query<{ patient_id: string; status: string; risk_level: string; risk_trend: string; upcoming: boolean; marketing: boolean; reminders: boolean }>(
    `SELECT m.patient_id, m.status, m.risk_level, m.risk_trend, coalesce(m.next_appointment_at > $2, false) AS upcoming,
            p.marketing_consent AS marketing, p.appointment_reminders AS reminders
       FROM patient_metrics m JOIN patients p ON p.id = m.patient_id
      WHERE m.organization_id = $1 AND p.deleted_at IS NULL`,
    [organizationId, now],
  );
  const counts = await query<{ risk_trend: string; n: number }>(
    `SELECT risk_trend, sum(patients)::int AS n FROM patient_metric_counts WHERE organization_id = $1 GROUP BY 1`,
    [organizationId],
  );
  const journeys = await journeysOf(query, organizationId, now);
  const stages = journeys.map((j) => j.current_stage);
  const lapsedRepeatedly = journeys.filter(
    (j) => j.stages_completed.filter((s) => s.stage === 'reactivated').length + (j.current_stage === 'reactivated' ? 1 : 0) > 1,
  ).length;
  // The refresher's statements and rules (OpportunitiesRefresher.rebuild), read-only.
  const db: TenantSql = { organizationId, query: <T>(sql: string, params?: readonly unknown[]) => query(sql, params as unknown[]) as Promise<T[]> };
  const repository = new OpportunitiesRepository();
  const rules = await repository.organizationRules(db);
  const org = { ltvThresholdCents: rules.ltvThresholdCents, recallDays: rules.recallDays ?? DEFAULT_RECALL_DAYS };
  const found: Opportunity[] = [];
  for (let after = '00000000-0000-0000-0000-000000000000'; ; ) {
    const facts = await repository.facts(db, now, after, 5000);
    for (const f of facts) {
      const o = classify(f, org, now);
      if (o) found.push(o);
    }
    if (facts.length < 5000) break;
    after = facts[facts.length - 1].patientId;
  }
  const [history] = await query<{ rows: number; early: number }>(
    `SELECT count(*)::int AS rows, count(DISTINCT h.patient_id) FILTER (WHERE h.recorded_on < (p.registered_at AT TIME ZONE 'UTC')::date)::int AS early
       FROM risk_score_history h JOIN patients p ON p.id = h.patient_id WHERE h.organization_id = $1`,
    [organizationId],
  );
  return {
    patients: metrics.length,
    status: tally(metrics.map((m) => m.status)),
    riskLevel: tally(metrics.map((m) => m.risk_level)),
    riskTrend: tally(metrics.map((m) => m.risk_trend)),
    summaryTrend: Object.fromEntries(counts.map((c) => [c.risk_trend, c.n]).sort()),
    upcoming: { with: metrics.filter((m) => m.upcoming).length, without: metrics.filter((m) => !m.upcoming).length },
    marketingConsent: tally(metrics.map((m) => String(m.marketing))),
    appointmentReminders: tally(metrics.map((m) => String(m.reminders))),
    journeyStage: tally(stages),
    lapsedRepeatedly,
    opportunities: tally(found.map((o) => `${o.type}/${o.priority}`)),
    outreach: tally(found.map((o) => o.outreach)),
    historyRows: history.rows,
    historyBeforeRegistration: history.early,
  };
}
