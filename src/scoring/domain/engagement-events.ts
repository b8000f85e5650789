/**
 * The one definition of an engagement event: something the patient did that shows they are still in a relationship
 * with the clinic. It drives `lastEngagementAt`, the declining-pattern windows and therefore the patient status.
 *
 * - attended appointment: appointments with status 'completed', at `starts_at`;
 * - inbound message or call: communications with direction 'inbound' and kind 'message' or 'call', at `occurred_at`;
 * - reply to outreach: outbound communications the patient responded to, at `responded_at`;
 * - survey response: every survey_responses row, at `submitted_at`;
 * - payment: payments with kind 'payment' and status 'paid', at `occurred_at`.
 *
 * Not engagement: scheduled, cancelled or no-show appointments, outreach without a reply, charges and refunds,
 * being referred. Events after `now` never count.
 *
 * Exported as data so the features SQL and the documentation are generated from the same list.
 */
export interface EngagementEventDefinition {
  kind: 'attended_appointment' | 'inbound_contact' | 'outreach_reply' | 'survey_response' | 'payment';
  /** Source table. */
  table: 'appointments' | 'communications' | 'survey_responses' | 'payments';
  /** Column that dates the event. */
  timestampColumn: string;
  /** SQL predicate (over the source table's columns) selecting the rows that are engagement events. */
  sqlPredicate: string;
  /** The same rule for people. */
  description: string;
}

export const ENGAGEMENT_EVENTS: readonly EngagementEventDefinition[] = Object.freeze([
  {
    kind: 'attended_appointment',
    table: 'appointments',
    timestampColumn: 'starts_at',
    sqlPredicate: "status = 'completed'",
    description: 'came to an appointment',
  },
  {
    kind: 'inbound_contact',
    table: 'communications',
    timestampColumn: 'occurred_at',
    sqlPredicate: "direction = 'inbound' AND kind IN ('message', 'call')",
    description: 'sent the clinic a message or called',
  },
  {
    kind: 'outreach_reply',
    table: 'communications',
    timestampColumn: 'responded_at',
    sqlPredicate: "direction = 'outbound' AND responded_at IS NOT NULL",
    description: 'replied to a message, call or email from the clinic',
  },
  {
    kind: 'survey_response',
    table: 'survey_responses',
    timestampColumn: 'submitted_at',
    sqlPredicate: 'TRUE',
    description: 'answered a satisfaction survey',
  },
  {
    kind: 'payment',
    table: 'payments',
    timestampColumn: 'occurred_at',
    sqlPredicate: "kind = 'payment' AND status = 'paid'",
    description: 'made a payment',
  },
] as const);

/**
 * `SELECT patient_id, <timestamp> AS occurred_at FROM <table> WHERE <predicate> AND <timestamp> <= :now` for every
 * definition, joined with UNION ALL: the engagement event stream the features query aggregates. `extraPredicate`
 * (e.g. the organization filter) is added to every branch; it must use bind parameters, never interpolated values.
 */
export function engagementEventsSql(nowParameter = ':now', extraPredicate = 'TRUE'): string {
  return ENGAGEMENT_EVENTS.map(
    (e) =>
      `SELECT patient_id, ${e.timestampColumn} AS occurred_at FROM ${e.table} ` +
      `WHERE (${e.sqlPredicate}) AND ${e.timestampColumn} <= ${nowParameter} AND (${extraPredicate})`,
  ).join('\nUNION ALL\n');
}
