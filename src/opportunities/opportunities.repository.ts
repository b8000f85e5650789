import { Injectable } from '@nestjs/common';
import type { TenantSql } from 'src/database/tenant/tenant-sql';
import { Channel } from 'src/records/records.enums';
import { OpportunityTotal } from 'src/opportunities/entities/opportunity-refresh.entity';
import { OpportunityPriority, OpportunityType, OutreachKind } from 'src/opportunities/opportunities.enums';
import { OpportunityFacts, OrganizationRules } from 'src/opportunities/domain/opportunity-rules';
import {
  CLASSIFY_INSERT_SQL,
  CLASSIFY_REPLACE_ORGANIZATION_SAVE_SQL,
  CLASSIFY_REPLACE_ORGANIZATION_SQL,
  CLASSIFY_REPLACE_SQL,
  classifyBuildSql,
  FACTS_SQL,
} from 'src/opportunities/opportunities.sql';

const NIL_UUID = '00000000-0000-0000-0000-000000000000';

export interface RefreshState {
  refreshedAt: Date;
  ltvThresholdCents: number;
  totals: OpportunityTotal[];
}

export interface OpportunityRow {
  patient_id: string;
  patient_name: string;
  opportunity_type: OpportunityType;
  priority: OpportunityPriority;
  outreach: OutreachKind;
  channel: Channel;
  /** The patient's preferred channel now (the suggested action says when consent ruled it out). */
  preferred_channel: Channel;
  patient_status: string;
  estimated_value_cents: number;
  success_probability: number;
  last_contact_at: Date | null;
}

export interface PageFilter {
  type?: OpportunityType;
  priority?: OpportunityPriority;
  limit: number;
  offset: number;
}

interface FactsRow {
  patient_id: string;
  status: string;
  risk_level: string;
  ltv_cents: number;
  success_probability: number;
  avg_session_value_cents: number;
  last_contact_at: Date | null;
  next_appointment_at: Date | null;
  marketing_consent: boolean;
  appointment_reminders: boolean;
  consent_grants: string[];
  preferred_channel: Channel;
  visit_count: number;
  first_visit_at: Date | null;
  last_visit_at: Date | null;
  plan_remaining: number | null;
  plan_session_value_cents: number | null;
  plan_started_at: Date | null;
  plan_ends_at: Date | null;
  plan_planned_sessions: number | null;
  has_completed_plan: boolean;
}

/**
 * First page of the list: a backward range scan of one `expected_return_cents` index (which one depends on the
 * filter), joined to `patients` by primary key for the name. Plan in docs/queries/opportunities.md.
 */
export const OPPORTUNITIES_PAGE_SQL = `
SELECT o.patient_id, p.name AS patient_name, o.opportunity_type, o.priority, o.outreach, o.channel, p.preferred_channel, o.patient_status,
       o.estimated_value_cents, o.success_probability, o.last_contact_at
  FROM reengagement_opportunities o
  JOIN patients p ON p.id = o.patient_id
 WHERE o.organization_id = $1
   AND ($2::text IS NULL OR o.opportunity_type = $2)
   AND ($3::text IS NULL OR o.priority = $3)
   AND p.deleted_at IS NULL
 ORDER BY o.expected_return_cents DESC, o.patient_id DESC
 LIMIT $4 OFFSET $5`;


/** The organization's refresh state, inserted or replaced ($1 organization, $2 refreshed at, $3 threshold, $4 totals, $5 duration). */
export const SAVE_REFRESH_SQL = `INSERT INTO opportunity_refreshes (organization_id, refreshed_at, ltv_threshold_cents, totals, duration_ms)
       VALUES ($1, $2, $3, $4::jsonb, $5)
       ON CONFLICT (organization_id) DO UPDATE
         SET refreshed_at = excluded.refreshed_at, ltv_threshold_cents = excluded.ltv_threshold_cents,
             totals = excluded.totals, duration_ms = excluded.duration_ms`;

/** The advisory lock key of an organization's opportunities ($1 the organization): every writer of its rows takes it. */
export const REFRESH_LOCK_KEY = `hashtext('opportunities:' || $1)`;

/** 75th percentile of the organization's LTVs (its patients not deleted) and its recall setting ($1 the organization). */
const RULES_SQL = `SELECT (SELECT percentile_disc(0.75) WITHIN GROUP (ORDER BY m.ltv_cents)
                 FROM patient_metrics m JOIN patients p ON p.id = m.patient_id AND p.organization_id = m.organization_id
                WHERE m.organization_id = $1 AND p.deleted_at IS NULL) AS threshold,
              (SELECT o.settings ->> 'recall_interval_days' FROM organizations o WHERE o.id = $1) AS recall`;

const toDate = (v: Date | string | null): Date | null => (v === null ? null : new Date(v));

/** `recall_interval_days` of the organization's settings, when a number of at least 1. */
const recallDaysOf = (recall: string | null | undefined): number | null =>
  recall !== null && recall !== undefined && /^\d+(\.\d+)?$/.test(recall) && Number(recall) >= 1 ? Number(recall) : null;

@Injectable()
export class OpportunitiesRepository {
  /**
   * The refresh state and one page; null before the organization's first rebuild. Two statements, each alone
   * (TenantDb.statements): a rebuild replaces the state row and the opportunities in one transaction, so a page read
   * just after a rebuild committed shows the new rows with the totals of either; both are the organization's.
   */
  async page(db: TenantSql, f: PageFilter): Promise<{ state: RefreshState; rows: OpportunityRow[] } | null> {
    const states = await db.query<{ refreshed_at: Date; ltv_threshold_cents: number; totals: OpportunityTotal[] }>(
      `SELECT refreshed_at, ltv_threshold_cents, totals FROM opportunity_refreshes WHERE organization_id = $1`,
      [db.organizationId],
    );
    const st = states[0];
    if (!st) return null;
    const rows = await db.query<OpportunityRow>(OPPORTUNITIES_PAGE_SQL, [
      db.organizationId,
      f.type ?? null,
      f.priority ?? null,
      f.limit,
      f.offset,
    ]);
    return { state: { refreshedAt: st.refreshed_at, ltvThresholdCents: st.ltv_threshold_cents, totals: st.totals }, rows };
  }

  /**
   * The statements below change the snapshot: the refresher runs them in one transaction, so that readers keep
   * seeing the previous snapshot until it commits, after `lock`.
   */

  /** Takes a transaction-scoped advisory lock so that two rebuilds of one organization never interleave. */
  async lock(db: TenantSql): Promise<void> {
    await db.query(`SELECT pg_advisory_xact_lock(${REFRESH_LOCK_KEY})`, [db.organizationId]);
  }

  /**
   * 75th percentile (a real value, `percentile_disc`) of the organization's LTVs, and its recall interval: what a full
   * rebuild classifies with. The percentile reads every metrics row of the organization (seconds at a million).
   */
  async organizationRules(db: TenantSql): Promise<{ ltvThresholdCents: number; recallDays: number | null }> {
    const rows = await db.query<{ threshold: string | null; recall: string | null }>(RULES_SQL, [db.organizationId]);
    return { ltvThresholdCents: Number(rows[0]?.threshold ?? 0), recallDays: recallDaysOf(rows[0]?.recall) };
  }

  /**
   * `lock` and `organizationRules` in one statement, prepared (a small organization's rebuild: JobService.runTogether).
   * The lock orders the writers of the opportunities; the rules read the metrics and the organization's settings,
   * which no holder of that lock writes, so reading them in the statement that waits for it changes nothing.
   */
  async lockWithRules(db: TenantSql): Promise<{ ltvThresholdCents: number; recallDays: number | null }> {
    const rows = await db.query<{ threshold: string | null; recall: string | null }>(
      `SELECT pg_advisory_xact_lock(hashtext('opportunities:' || $2::text)) AS locked, ${RULES_SQL.replace(/^SELECT /, '')}`,
      [db.organizationId, db.organizationId],
      { prepare: 'opportunities-lock-rules' },
    );
    return { ltvThresholdCents: Number(rows[0]?.threshold ?? 0), recallDays: recallDaysOf(rows[0]?.recall) };
  }

  /**
   * `lock` and the recall interval in one statement, prepared: `lockWithRules` without the percentile, for a caller
   * that has the LTV threshold in hand (the nightly recompute's follow-up: the percentile of the LTVs it wrote).
   */
  async lockWithRecall(db: TenantSql): Promise<number | null> {
    const rows = await db.query<{ recall: string | null }>(
      `SELECT pg_advisory_xact_lock(hashtext('opportunities:' || $2::text)) AS locked,
              (SELECT o.settings ->> 'recall_interval_days' FROM organizations o WHERE o.id = $1) AS recall`,
      [db.organizationId, db.organizationId],
      { prepare: 'opportunities-lock-recall' },
    );
    return recallDaysOf(rows[0]?.recall);
  }

  /**
   * The recall interval alone: a patch of a few patients classifies them against the threshold stored by the last
   * rebuild and needs nothing else (the percentile above took 110-170 ms per patch at 50,000 patients).
   */
  async recallDays(db: TenantSql): Promise<number | null> {
    const rows = await db.query<{ recall: string | null }>(`SELECT o.settings ->> 'recall_interval_days' AS recall FROM organizations o WHERE o.id = $1`, [
      db.organizationId,
    ]);
    return recallDaysOf(rows[0]?.recall);
  }

  /** Candidates after `afterPatientId` in id order; only among `patientIds` when given. */
  async facts(
    db: TenantSql,
    now: Date,
    afterPatientId: string,
    limit: number,
    patientIds: readonly string[] | null = null,
  ): Promise<OpportunityFacts[]> {
    const rows = await db.query<FactsRow>(FACTS_SQL, [db.organizationId, now, afterPatientId, limit, patientIds, null]);
    return rows.map((r) => ({
      patientId: r.patient_id,
      status: r.status,
      riskLevel: r.risk_level,
      ltvCents: r.ltv_cents,
      successProbability: r.success_probability,
      avgSessionValueCents: r.avg_session_value_cents,
      lastContactAt: toDate(r.last_contact_at),
      nextAppointmentAt: toDate(r.next_appointment_at),
      marketingConsent: r.marketing_consent,
      appointmentReminders: r.appointment_reminders,
      consentGrants: r.consent_grants,
      preferredChannel: r.preferred_channel,
      visitCount: r.visit_count,
      firstVisitAt: toDate(r.first_visit_at),
      lastVisitAt: toDate(r.last_visit_at),
      activePlan:
        r.plan_remaining === null
          ? null
          : {
              remainingSessions: r.plan_remaining,
              sessionValueCents: r.plan_session_value_cents ?? 0,
              startedAt: new Date(r.plan_started_at ?? 0),
              endsAt: toDate(r.plan_ends_at),
              plannedSessions: r.plan_planned_sessions ?? 0,
            },
      hasCompletedPlan: r.has_completed_plan,
    }));
  }

  /** Removes these patients' opportunities and returns what they were (to adjust the totals). */
  async remove(db: TenantSql, patientIds: readonly string[]): Promise<{ type: string; priority: string; valueCents: number }[]> {
    const rows = await db.query<{ opportunity_type: string; priority: string; estimated_value_cents: number }>(
      `WITH d AS (DELETE FROM reengagement_opportunities WHERE organization_id = $1 AND patient_id = ANY($2::uuid[])
                  RETURNING opportunity_type, priority, estimated_value_cents)
       SELECT * FROM d`,
      [db.organizationId, patientIds],
    );
    return rows.map((r) => ({ type: r.opportunity_type, priority: r.priority, valueCents: r.estimated_value_cents }));
  }

  /** When the organization's snapshot was last rebuilt; null before its first rebuild. */
  async refreshedAt(db: TenantSql): Promise<Date | null> {
    const rows = await db.query<{ refreshed_at: Date }>(`SELECT refreshed_at FROM opportunity_refreshes WHERE organization_id = $1`, [
      db.organizationId,
    ]);
    return rows[0] ? new Date(rows[0].refreshed_at) : null;
  }

  /** The organization's refresh row, locked for update; null before the first full rebuild. */
  async refreshStateForUpdate(db: TenantSql): Promise<RefreshState | null> {
    const rows = await db.query<{ refreshed_at: Date; ltv_threshold_cents: number; totals: OpportunityTotal[] }>(
      `SELECT refreshed_at, ltv_threshold_cents, totals FROM opportunity_refreshes WHERE organization_id = $1 FOR UPDATE`,
      [db.organizationId],
    );
    const r = rows[0];
    return r ? { refreshedAt: r.refreshed_at, ltvThresholdCents: r.ltv_threshold_cents, totals: r.totals } : null;
  }

  async saveTotals(db: TenantSql, totals: OpportunityTotal[]): Promise<void> {
    await db.query(`UPDATE opportunity_refreshes SET totals = $2::jsonb WHERE organization_id = $1`, [
      db.organizationId,
      JSON.stringify(totals),
    ]);
  }

  /**
   * Classifies these patients by the rules in SQL (CLASSIFY_INSERT_SQL) and inserts their opportunities (their old
   * rows removed first), in one statement; returns the totals of what it inserted per type and priority, in the order
   * each first appears by patient id.
   */
  async classifyInto(db: TenantSql, o: { now: Date; rules: OrganizationRules; patientIds: readonly string[] }): Promise<OpportunityTotal[]> {
    return this.classify(db, CLASSIFY_INSERT_SQL, [NIL_UUID, o.patientIds.length, o.patientIds, null], o);
  }

  /**
   * Replaces the organization's opportunities with those the rules in SQL find now (CLASSIFY_REPLACE_SQL, one
   * statement); returns their totals as `classifyInto` does.
   */
  async replaceAll(db: TenantSql, o: { now: Date; rules: OrganizationRules; small?: boolean }): Promise<OpportunityTotal[]> {
    // A small organization's (JobService.runTogether): its rows read once per table and joined, prepared.
    if (o.small) return this.classify(db, CLASSIFY_REPLACE_ORGANIZATION_SQL, [NIL_UUID, null, null, null], o, 'opportunities-replace-organization');
    return this.classify(db, CLASSIFY_REPLACE_SQL, [NIL_UUID, null, null, null], o);
  }

  /**
   * A small organization's whole rebuild (`replaceAll` with `small`) and its refresh's row (`saveRefresh` of its
   * totals, refreshed at `now`, with the rules' threshold) in one statement, prepared (CLASSIFY_REPLACE_ORGANIZATION_SAVE_SQL:
   * JobService.runTogether's nightly follow-up). `msBefore`: the rebuild's time before this statement; the duration
   * stored adds the statement's own time up to the save. Returns the totals as `replaceAll` does.
   */
  async replaceAllAndSave(db: TenantSql, o: { now: Date; rules: OrganizationRules; msBefore: number }): Promise<OpportunityTotal[]> {
    const rows = await db.query<{ type: string; priority: string; count: number; value_cents: number }>(
      CLASSIFY_REPLACE_ORGANIZATION_SAVE_SQL,
      [db.organizationId, o.now, NIL_UUID, null, null, null, o.rules.ltvThresholdCents, o.rules.recallDays, Math.max(0, Math.round(o.msBefore))],
      { prepare: 'opportunities-replace-organization-save' },
    );
    return rows.map((r) => ({ type: r.type, priority: r.priority, count: r.count, valueCents: r.value_cents }));
  }

  /**
   * A large organization's build (OpportunitiesRefresher's build and swap): the opportunities the rules in SQL find
   * now, inserted into the fresh table `table` (classifyBuildSql); returns their totals as `replaceAll` does.
   */
  async buildInto(
    db: TenantSql,
    table: string,
    o: { now: Date; rules: OrganizationRules; after?: string | null; upTo?: string | null },
  ): Promise<OpportunityTotal[]> {
    return this.classify(db, classifyBuildSql(table), [o.after ?? NIL_UUID, null, null, o.upTo ?? null], o);
  }

  /**
   * The rebuild's settings, for its transaction: no JIT (compiling the rules' expressions costs more than it saves, and
   * the floor runs without it), and memory to hash the organization's candidates against its rows.
   */
  async rebuildSettings(db: TenantSql): Promise<void> {
    // One round trip (no parameters: the simple protocol takes both).
    await db.query(`SET LOCAL jit = off; SET LOCAL work_mem = '64MB'`);
  }

  private async classify(
    db: TenantSql,
    sql: string,
    range: [after: string, limit: number | null, patientIds: readonly string[] | null, upTo: string | null],
    o: { now: Date; rules: OrganizationRules },
    prepare?: string,
  ): Promise<OpportunityTotal[]> {
    const rows = await db.query<{ type: string; priority: string; count: number; value_cents: number }>(
      sql,
      [db.organizationId, o.now, ...range, o.rules.ltvThresholdCents, o.rules.recallDays],
      prepare ? { prepare } : undefined,
    );
    return rows.map((r) => ({ type: r.type, priority: r.priority, count: r.count, valueCents: r.value_cents }));
  }

  async saveRefresh(db: TenantSql, state: RefreshState, durationMs: number, options: { prepare?: boolean } = {}): Promise<void> {
    await db.query(
      SAVE_REFRESH_SQL,
      [db.organizationId, state.refreshedAt, state.ltvThresholdCents, JSON.stringify(state.totals), durationMs],
      options.prepare ? { prepare: 'opportunities-save-refresh' } : undefined,
    );
  }
}
