import { DateMode, LEVELS, PatientsReport, QUASI_IDENTIFIERS } from 'src/privacy/domain/deidentify';

/** The rules the export applies, each with its source (docs/privacy.md, "De-identified analytics"). */
export const DEIDENTIFICATION_RULES: readonly { rule: string; source: string }[] = [
  {
    rule: 'Names, telephone numbers, email addresses, street addresses and cities are removed',
    source: '45 CFR 164.514(b)(2)(i)(A), (B), (D), (F)',
  },
  {
    rule: 'Record numbers and every other identifier of the source (patient ids, external ids) are replaced by a random study id, derived from nothing',
    source: '45 CFR 164.514(b)(2)(i)(H), (R); 164.514(c)',
  },
  {
    rule: 'Free text (appointment types and notes, messages, survey comments, evidence) is left out',
    source: '45 CFR 164.514(b)(2)(i)(R)',
  },
  {
    rule: 'ZIP codes are reduced to their first three digits where that area has more than 20,000 people (2000 Census, HHS list of 17 restricted ZIP3s), else 000',
    source: '45 CFR 164.514(b)(2)(i)(B); HHS OCR de-identification guidance (2012), section 2.4',
  },
  {
    rule: "Every date is reduced to its year, or replaced by whole days since the patient's first visit when intervals are asked for",
    source: '45 CFR 164.514(b)(2)(i)(C)',
  },
  { rule: 'Ages over 89 (and birth years that would show them) are one group, 90+', source: '45 CFR 164.514(b)(2)(i)(C)' },
  {
    rule: 'Patients without consent to the purpose (analytics, or research) are left out',
    source: 'docs/privacy.md, "Consent"; 45 CFR 164.508 (authorization for research uses)',
  },
  {
    rule: 'Every combination of the quasi-identifiers (birth-year band, ZIP3, state) covers at least k patients (default 11), by generalizing further, then suppressing',
    source: 'CMS cell size suppression policy (cells of 1 to 10 not shown); k-anonymity (Sweeney, 2002)',
  },
];

export interface ExportCounts {
  purpose: string;
  k: number;
  dates: DateMode;
  patientsInOrganization: number;
  withoutConsent: number;
  rows: { patients: number; visits: number; payments: number; scores: number };
}

export interface DeidentificationReport {
  standard: string;
  purpose: string;
  k: number;
  dates: DateMode;
  quasi_identifiers: string[];
  patients: { in_organization: number; without_consent: number; considered: number; released: number; suppressed: number };
  rows: ExportCounts['rows'];
  removed: { field: string; source_rows: number }[];
  generalized: { field: string; to: string; rows: number }[];
  suppression: { levels: { level: number; quasi_identifiers: string; rows: number }[]; suppressed_rows: number; generalized_rows: number };
  rules: { rule: string; source: string }[];
}

/** The privacy officer's report: what was removed, generalized and suppressed, with counts. Holds no PHI. */
export function deidentificationReport(p: PatientsReport, c: ExportCounts): DeidentificationReport {
  const dateRows = c.rows.visits + c.rows.payments;
  return {
    standard: 'HIPAA Safe Harbor, 45 CFR 164.514(b)(2), with small cells suppressed (k-anonymity)',
    purpose: c.purpose,
    k: c.k,
    dates: c.dates,
    quasi_identifiers: [...QUASI_IDENTIFIERS],
    patients: {
      in_organization: c.patientsInOrganization,
      without_consent: c.withoutConsent,
      considered: p.considered,
      released: p.released,
      suppressed: p.suppressed,
    },
    rows: c.rows,
    removed: [
      { field: 'name', source_rows: p.removed.name },
      { field: 'email', source_rows: p.removed.email },
      { field: 'phone', source_rows: p.removed.phone },
      { field: 'address.street', source_rows: p.removed.street },
      { field: 'address.city', source_rows: p.removed.city },
      { field: 'date_of_birth (full date)', source_rows: p.removed.date_of_birth },
      { field: 'patient id and external id (record numbers)', source_rows: p.removed.record_number },
      { field: 'free text (appointment type and notes)', source_rows: c.rows.visits },
    ],
    generalized: [
      { field: 'address.zip', to: 'first three digits', rows: p.generalized.zip_to_zip3 },
      { field: 'address.zip', to: '000 (area of 20,000 people or fewer, or not a ZIP)', rows: p.generalized.zip_to_000 },
      { field: 'date_of_birth', to: 'birth-year band', rows: p.generalized.birth_date_to_band },
      { field: 'age', to: '90+', rows: p.generalized.age_90_plus },
      { field: 'address.state', to: 'unknown (not a two-letter code)', rows: p.generalized.state_not_a_code },
      { field: 'visit and payment dates', to: c.dates === 'year' ? 'year' : 'days since the first visit', rows: dateRows },
    ],
    suppression: {
      levels: LEVELS.map((l, level) => ({ level, quasi_identifiers: l.description, rows: p.releasedPerLevel[level] ?? 0 })),
      suppressed_rows: p.suppressed,
      generalized_rows: p.generalized.widened_for_k,
    },
    rules: [...DEIDENTIFICATION_RULES],
  };
}
