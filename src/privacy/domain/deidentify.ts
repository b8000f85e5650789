import { birthYearBand, daysSince, HIDDEN_ZIP3, OLDEST_AGE_GROUP, parseBirthDate, yearOf, zip3 } from 'src/privacy/domain/safe-harbor';
import { kAnonymize } from 'src/privacy/domain/k-anonymity';

/**
 * A de-identified data set under HIPAA Safe Harbor (45 CFR 164.514(b)(2)) with small cells suppressed (docs/privacy.md,
 * "De-identified analytics"). Pure: the moment and the study-id generator are arguments. The patients are decided
 * first (`releasePatients`: who is released, with which random study id and quasi-identifiers); their visits,
 * payments and scores are then mapped one by one (`visitRow`, `paymentRow`, `scoresRow`), so that a caller can
 * stream them.
 */

export type DateMode = 'year' | 'interval';

export interface DeidentifyOptions {
  /** Minimum rows per combination of quasi-identifiers (CMS cell-size rule: 11). */
  k: number;
  /** `year`: every date reduced to its year; `interval`: replaced by whole days since the patient's first visit. */
  dates: DateMode;
  /** The moment ages are computed at. */
  at: Date;
  /** A new random study id (never derived from an identifier). */
  studyId: () => string;
}

/** A patient as stored: what the export must not carry is passed too, so that its removal is counted (and tested). */
export interface SourcePatient {
  patientId: string;
  externalId: string | null;
  name: string | null;
  email: string | null;
  phone: string | null;
  dateOfBirth: string | null;
  address: { street?: string | null; city?: string | null; state?: string | null; zip?: string | null } | null;
  /** The patient's first completed visit: the anchor of `interval` dates (null: none). */
  firstVisitAt: Date | null;
}

export interface ReleasedPatient {
  studyId: string;
  anchor: Date | null;
}

export interface PatientRow {
  study_id: string;
  birth_year_band: string;
  zip3: string;
  state: string;
}

/** Quasi-identifiers, and the generalization ladder tried in order (docs/privacy.md, "Small cells"). */
export const QUASI_IDENTIFIERS = ['birth_year_band', 'zip3', 'state'] as const;
export const LEVELS: readonly { band: number; zip: boolean; state: boolean; description: string }[] = [
  { band: 5, zip: true, state: true, description: 'birth year in 5-year bands, ZIP3, state' },
  { band: 10, zip: true, state: true, description: 'birth year in 10-year bands, ZIP3, state' },
  { band: 10, zip: false, state: true, description: 'birth year in 10-year bands, state (ZIP3 hidden)' },
  { band: 20, zip: false, state: true, description: 'birth year in 20-year bands, state (ZIP3 hidden)' },
  { band: 20, zip: false, state: false, description: 'birth year in 20-year bands (ZIP3 and state hidden)' },
  { band: 0, zip: false, state: false, description: 'no quasi-identifier at all' },
];
export const HIDDEN_STATE = '**';

const STATE = /^[A-Za-z]{2}$/;
/** A state as a two-letter code; anything else (free text) is not released. */
export const stateCode = (state: string | null | undefined): string =>
  typeof state === 'string' && STATE.test(state.trim()) ? state.trim().toUpperCase() : 'unknown';

export interface PatientsReport {
  considered: number;
  released: number;
  suppressed: number;
  /** Rows released per generalization level (index = LEVELS index). */
  releasedPerLevel: number[];
  /** Source rows that carried each removed identifier. */
  removed: Record<'name' | 'email' | 'phone' | 'street' | 'city' | 'zip' | 'date_of_birth' | 'record_number', number>;
  generalized: {
    zip_to_zip3: number;
    zip_to_000: number;
    birth_date_to_band: number;
    age_90_plus: number;
    state_not_a_code: number;
    /** Released above level 0 (quasi-identifiers generalized further for k). */
    widened_for_k: number;
  };
}

export interface ReleasedPatients {
  /** By patient id: only the released patients. */
  released: Map<string, ReleasedPatient>;
  rows: PatientRow[];
  report: PatientsReport;
}

const present = (v: unknown): boolean => typeof v === 'string' && v.trim().length > 0;

export function releasePatients(patients: readonly SourcePatient[], options: DeidentifyOptions): ReleasedPatients {
  const base = patients.map((p) => {
    const birth = parseBirthDate(p.dateOfBirth);
    const zip = zip3(p.address?.zip);
    const state = stateCode(p.address?.state);
    const levels = LEVELS.map((l) => [birthYearBand(birth, options.at, l.band), l.zip ? zip : HIDDEN_ZIP3, l.state ? state : HIDDEN_STATE]);
    return { p, birth, zip, state, levels };
  });
  const anonymity = kAnonymize(base, options.k);
  const released = new Map<string, ReleasedPatient>();
  const rows: PatientRow[] = [];
  base.forEach((b, i) => {
    const level = anonymity.levelOf[i];
    if (level === null) return;
    const studyId = options.studyId();
    released.set(b.p.patientId, { studyId, anchor: b.p.firstVisitAt });
    const [band, zip, state] = b.levels[level];
    rows.push({ study_id: studyId, birth_year_band: band, zip3: zip, state });
  });
  const count = (f: (b: (typeof base)[number]) => boolean): number => base.filter(f).length;
  return {
    released,
    rows,
    report: {
      considered: patients.length,
      released: rows.length,
      suppressed: anonymity.suppressed,
      releasedPerLevel: anonymity.releasedPerLevel,
      removed: {
        name: count((b) => present(b.p.name)),
        email: count((b) => present(b.p.email)),
        phone: count((b) => present(b.p.phone)),
        street: count((b) => present(b.p.address?.street)),
        city: count((b) => present(b.p.address?.city)),
        zip: count((b) => present(b.p.address?.zip)),
        date_of_birth: count((b) => present(b.p.dateOfBirth)),
        record_number: patients.length,
      },
      generalized: {
        zip_to_zip3: count((b) => b.zip !== HIDDEN_ZIP3),
        zip_to_000: count((b) => present(b.p.address?.zip) && b.zip === HIDDEN_ZIP3),
        birth_date_to_band: count((b) => b.birth !== null),
        age_90_plus: count((b) => b.levels[0][0] === OLDEST_AGE_GROUP),
        state_not_a_code: count((b) => present(b.p.address?.state) && b.state === 'unknown'),
        widened_for_k: anonymity.releasedPerLevel.slice(1).reduce((n, c) => n + c, 0),
      },
    },
  };
}

/** A date as released: its year, or days since the patient's anchor (null without one). */
export function releasedDate(
  d: Date,
  patient: ReleasedPatient,
  mode: DateMode,
): { year: number } | { days_since_first_visit: number | null } {
  return mode === 'year' ? { year: yearOf(d) } : { days_since_first_visit: patient.anchor === null ? null : daysSince(d, patient.anchor) };
}

const units = (cents: number | null): number | null => (cents === null ? null : Math.round(cents) / 100);

export interface SourceVisit {
  startsAt: Date;
  status: string;
  valueCents: number;
}

/** A visit: no type or notes (free text), its date generalized. */
export function visitRow(v: SourceVisit, patient: ReleasedPatient, mode: DateMode): Record<string, unknown> {
  return { study_id: patient.studyId, ...releasedDate(v.startsAt, patient, mode), status: v.status, value: units(v.valueCents) };
}

export interface SourcePayment {
  occurredAt: Date;
  amountCents: number;
  kind: string;
  status: string;
}

export function paymentRow(p: SourcePayment, patient: ReleasedPatient, mode: DateMode): Record<string, unknown> {
  return {
    study_id: patient.studyId,
    ...releasedDate(p.occurredAt, patient, mode),
    amount: units(p.amountCents),
    kind: p.kind,
    status: p.status,
  };
}

export interface SourceScores {
  status: string;
  riskScore: number | null;
  riskLevel: string;
  engagementScore: number | null;
  ltvCents: number | null;
  totalSessions: number | null;
}

/** The patient's current scores (no dates: the last and next appointment dates are left out). */
export function scoresRow(s: SourceScores, patient: ReleasedPatient): Record<string, unknown> {
  return {
    study_id: patient.studyId,
    status: s.status,
    risk_score: s.riskScore,
    risk_level: s.riskLevel,
    engagement_score: s.engagementScore,
    lifetime_value: units(s.ltvCents),
    total_visits: s.totalSessions,
  };
}
