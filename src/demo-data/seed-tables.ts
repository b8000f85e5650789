import { CopyTable } from 'src/demo-data/copy-table';
import { SeedIds } from 'src/demo-data/seed-ids';

const SOURCED = ['id', 'organization_id', 'source', 'external_id'];

/**
 * A sourced table being seeded, for one generation block of patients (seed-block.ts): its COPY buffer, its ids and
 * its external ids. A row's id counter is `idBase` + its number in the block; its external id (`<prefix>` and nine
 * digits) is `externalBase` + its number in the block + 1. The patients' bases are the block's first patient (ids and
 * external ids follow the patient's number in the clinic); the other tables' ids start at the block's own range of
 * the counter (BLOCK_ID_BITS), and their external ids are numbered from 1 in the block and renumbered in clinic order
 * by ExternalIdNumbering (seed-block.ts) once the blocks before it are known.
 */
export class SeedTable extends CopyTable {
  private readonly ids: SeedIds;

  constructor(
    table: string,
    columns: readonly string[],
    readonly externalPrefix: string,
    idPrefix: string,
    private readonly organizationId: string,
    private readonly idBase: number,
    private readonly externalBase: number,
  ) {
    super(table, [...SOURCED, ...columns]);
    this.ids = new SeedIds(idPrefix);
  }

  /** Id of the row that the next `row()` call will write. */
  peekId(): string {
    return this.ids.id(this.idBase + this.count);
  }

  /** Id of the row of counter `n` (for the patients: the patient's number in the clinic, 0-based). */
  idOf(n: number): string {
    return this.ids.id(n);
  }

  /** Byte offset, from the start of each row, of the external id's nine digits. */
  get externalDigitsAt(): number {
    // The id (36), the organization's id (36), `seed`, three tabs, the prefix.
    return 36 + 1 + 36 + 1 + 4 + 1 + this.externalPrefix.length;
  }

  /** Writes a row (the id, organization, source and external id first) and returns its id. */
  row(rest: string): string {
    const id = this.ids.id(this.idBase + this.count);
    this.push(`${id}\t${this.organizationId}\tseed\t${this.externalPrefix}${String(this.externalBase + this.count + 1).padStart(9, '0')}\t${rest}`);
    return id;
  }
}

export interface ClinicTables {
  patients: SeedTable;
  appointments: SeedTable;
  payments: SeedTable;
  communications: SeedTable;
  surveyResponses: SeedTable;
  referrals: SeedTable;
  treatmentPlans: SeedTable;
  journeyEvents: SeedTable;
  automationEnrollments: SeedTable;
  patientMetrics: CopyTable;
  /** The consent history (consent-history.ts): decisions of origin `migration` and `web_form`. */
  consentDecisions: ConsentTable;
}

/** `consent_decisions` being seeded (one generation block): its ids are time-ordered like the other tables' (SeedIds). */
export class ConsentTable extends CopyTable {
  private readonly ids: SeedIds;

  constructor(
    idPrefix: string,
    private readonly organizationId: string,
    private readonly idBase: number,
  ) {
    super('consent_decisions', ['id', 'organization_id', 'source', 'external_id', 'patient_id', 'purpose', 'decision', 'recorded_at', 'origin', 'recorded_by']);
    this.ids = new SeedIds(idPrefix);
  }

  /** A decision without a channel: `rest` is `decision\trecorded_at\torigin\trecorded_by`. */
  row(source: string, patientId: string, purpose: string, rest: string): void {
    this.push(`${this.ids.id(this.idBase + this.count)}\t${this.organizationId}\t${source}\t${source}:${patientId}:${purpose}\t${patientId}\t${purpose}\t${rest}`);
  }
}

/** A run's id prefixes by table tag (1-10; SeedIds.prefix), made once per run and shared by its generator threads. */
export function clinicIdPrefixes(startedAtMs: number): string[] {
  return Array.from({ length: 11 }, (_, tag) => SeedIds.prefix(startedAtMs, tag));
}

/** A block's rows of a table other than the patients are at most 2^BLOCK_ID_BITS: block b's ids are b << BLOCK_ID_BITS on. */
export const BLOCK_ID_BITS = 19;

/** The tables of one generation block: block `block` (0-based), whose first patient is number `firstPatient`. */
export function clinicTables(organizationId: string, prefixes: readonly string[], block: number, firstPatient: number): ClinicTables {
  const base = block * 2 ** BLOCK_ID_BITS;
  const t = (table: string, columns: string[], prefix: string, tag: number): SeedTable =>
    new SeedTable(table, columns, prefix, prefixes[tag], organizationId, tag === 1 ? firstPatient : base, tag === 1 ? firstPatient : 0);
  return {
    patients: t(
      'patients',
      ['name', 'phone_enc', 'email_enc', 'contact_enc', 'date_of_birth_enc', 'address_enc', 'conditions_enc', 'allergies_enc', 'medications_enc', 'email_bidx', 'phone_bidx', 'preferred_channel', 'marketing_consent', 'appointment_reminders', 'referred_by_id', 'registered_at', 'consent_grants'],
      'P',
      1,
    ),
    appointments: t('appointments', ['patient_id', 'starts_at', 'type', 'status', 'value_cents', 'notes_enc'], 'A', 2),
    payments: t('payments', ['patient_id', 'occurred_at', 'amount_cents', 'kind', 'status'], 'PAY', 3),
    communications: t('communications', ['patient_id', 'occurred_at', 'channel', 'kind', 'direction', 'responded_at', 'outcome', 'notes_enc'], 'C', 4),
    surveyResponses: t('survey_responses', ['patient_id', 'submitted_at', 'satisfaction', 'nps', 'complaint', 'comment_enc'], 'S', 5),
    referrals: t('referrals', ['referrer_patient_id', 'referred_patient_id', 'referred_at'], 'R', 6),
    treatmentPlans: t('treatment_plans', ['patient_id', 'name', 'planned_sessions', 'completed_sessions', 'session_value_cents', 'status', 'started_at', 'ends_at'], 'TP', 7),
    journeyEvents: t('journey_events', ['patient_id', 'occurred_at', 'stage', 'outcome', 'details'], 'J', 8),
    automationEnrollments: t('automation_enrollments', ['patient_id', 'sequence', 'step', 'step_index', 'total_steps', 'next_action', 'next_action_at', 'status', 'enrolled_at'], 'AE', 9),
    consentDecisions: new ConsentTable(prefixes[10], organizationId, base),
    patientMetrics: new CopyTable('patient_metrics', ['organization_id', 'patient_id', 'sort_name', 'status', 'risk_score', 'risk_level', 'total_sessions', 'last_appointment_at', 'next_appointment_at', 'last_contact_at', 'stale']),
  };
}

/** Parents before children, in the order the COPY statements run. */
export function tablesInLoadOrder(t: ClinicTables): CopyTable[] {
  return [t.patients, t.patientMetrics, t.consentDecisions, t.appointments, t.payments, t.communications, t.surveyResponses, t.referrals, t.treatmentPlans, t.journeyEvents, t.automationEnrollments];
}
