import type { Client } from 'pg';
import { DEFAULT_RECALL_DAYS } from 'src/opportunities/domain/opportunity-rules';

export const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/**
 * The opportunities refresh's parameters for an organization at `now`, as the app passes them: the facts' six
 * (organization, instant, no single patient, no filters) and the classification's two more (the LTV threshold, the
 * 75th percentile of its live patients' lifetime values; the recall interval, the organization's or the default).
 */
export async function classifyParams(c: Client, organizationId: string, now: string): Promise<{ facts: unknown[]; classify: unknown[] }> {
  const [{ threshold, recall }] = (
    await c.query<{ threshold: string | null; recall: string | null }>(
      `SELECT (SELECT percentile_disc(0.75) WITHIN GROUP (ORDER BY m.ltv_cents) FROM patient_metrics m JOIN patients p ON p.id = m.patient_id
                WHERE m.organization_id = $1 AND p.deleted_at IS NULL) AS threshold,
              (SELECT settings ->> 'recall_interval_days' FROM organizations WHERE id = $1) AS recall`,
      [organizationId],
    )
  ).rows;
  const facts = [organizationId, now, NIL_UUID, null, null, null];
  return { facts, classify: [...facts, Number(threshold ?? 0), recall ? Number(recall) : DEFAULT_RECALL_DAYS] };
}
