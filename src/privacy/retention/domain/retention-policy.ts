/** A clinic's retention policy (docs/privacy.md, "Retention"). */
export interface RetentionPolicy {
  /** Patients with no activity for longer than this are erased by the sweep; null: kept. */
  inactivePatientYears: number | null;
  /** Audit events are kept this long (at least MIN_AUDIT_YEARS), then archived and retired by whole months. */
  auditYears: number;
}

/** HIPAA's documentation retention (45 CFR 164.316(b)(2)): six years. */
export const MIN_AUDIT_YEARS = 6;
/** The longest either period may be. */
export const MAX_RETENTION_YEARS = 100;

export const DEFAULT_RETENTION_POLICY: RetentionPolicy = { inactivePatientYears: null, auditYears: MIN_AUDIT_YEARS };

/** `at` moved back by `years` (whole months: a fractional year is rounded to the month), the day clamped to the month's end. */
export function yearsBefore(at: Date, years: number): Date {
  const months = Math.round(years * 12);
  const y = at.getUTCFullYear();
  const m = at.getUTCMonth() - months;
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return new Date(
    Date.UTC(y, m, Math.min(at.getUTCDate(), lastDay), at.getUTCHours(), at.getUTCMinutes(), at.getUTCSeconds(), at.getUTCMilliseconds()),
  );
}

/** Patients whose last activity is before this instant are past the policy (null: the policy keeps every patient). */
export function inactivityCutoff(asOf: Date, policy: RetentionPolicy): Date | null {
  return policy.inactivePatientYears === null ? null : yearsBefore(asOf, policy.inactivePatientYears);
}

/**
 * Audit events before this instant are past the policy: the first day (UTC) of the month that holds `asOf - auditYears`,
 * so that only whole months retire.
 */
export function auditCutoff(asOf: Date, policy: RetentionPolicy): Date {
  const at = yearsBefore(asOf, Math.max(policy.auditYears, MIN_AUDIT_YEARS));
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
}

/** The UTC months (`YYYY-MM`) from `from` to `to` inclusive, for the sweep's report. */
export function monthsBetween(from: Date, to: Date): string[] {
  const out: string[] = [];
  let y = from.getUTCFullYear();
  let m = from.getUTCMonth();
  while (y < to.getUTCFullYear() || (y === to.getUTCFullYear() && m <= to.getUTCMonth())) {
    out.push(`${y}-${String(m + 1).padStart(2, '0')}`);
    m++;
    if (m === 12) {
      m = 0;
      y++;
    }
  }
  return out;
}
