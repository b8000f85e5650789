import { RESTRICTED_ZIP3 } from 'src/privacy/domain/zip3-population';

/**
 * HIPAA Safe Harbor generalizations (45 CFR 164.514(b)(2)(i)), as pure functions (docs/privacy.md, "De-identified
 * analytics"): ZIP codes to three digits where the area is large enough, dates to their year (or to days since an
 * anchor of the patient's own), ages over 89 to one group.
 */

const DAY_MS = 86_400_000;
/** (B): ZIP codes of this form only (`97201`, `97201-1234`). */
const ZIP = /^(\d{3})\d{2}(?:-?\d{4})?$/;
/** The value of a ZIP area that is not disclosed. */
export const HIDDEN_ZIP3 = '000';
/** (C): ages over 89 are aggregated into one category. */
export const OLDEST_AGE_GROUP = '90+';
export const OLDEST_AGE = 90;

/** The ZIP's first three digits, or `000` where the area has 20,000 people or fewer (or the value is not a ZIP). */
export function zip3(zip: string | null | undefined): string {
  const m = ZIP.exec((zip ?? '').trim());
  if (!m || m[1] === HIDDEN_ZIP3 || RESTRICTED_ZIP3.has(m[1])) return HIDDEN_ZIP3;
  return m[1];
}

/** A date of birth (`YYYY-MM-DD`) as a Date at UTC midnight; null when missing or not a real date. */
export function parseBirthDate(dob: string | null | undefined): Date | null {
  if (typeof dob !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(dob)) return null;
  const d = new Date(`${dob}T00:00:00Z`);
  return Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== dob ? null : d;
}

/** Whole years of age at `at`. */
export function ageAt(birth: Date, at: Date): number {
  let age = at.getUTCFullYear() - birth.getUTCFullYear();
  const before =
    at.getUTCMonth() < birth.getUTCMonth() || (at.getUTCMonth() === birth.getUTCMonth() && at.getUTCDate() < birth.getUTCDate());
  if (before) age--;
  return age;
}

/**
 * The birth year generalized to a band `width` years wide (`1980-1984` for width 5), aligned on multiples of the
 * width; `90+` for a patient aged 90 or more at `at` (the year itself would reveal that age); `unknown` without a
 * date of birth. A width of 0 or less: `*` (no birth information).
 */
export function birthYearBand(birth: Date | null, at: Date, width: number): string {
  if (birth === null) return 'unknown';
  if (ageAt(birth, at) >= OLDEST_AGE) return OLDEST_AGE_GROUP;
  if (width <= 0) return '*';
  const year = birth.getUTCFullYear();
  const from = year - (((year % width) + width) % width);
  return width === 1 ? String(year) : `${from}-${from + width - 1}`;
}

/** (C): a date reduced to its year. */
export const yearOf = (d: Date): number => d.getUTCFullYear();

/** Whole days from `anchor` to `d` (negative before it): dates replaced by intervals from the patient's own anchor. */
export const daysSince = (d: Date, anchor: Date): number => Math.floor((d.getTime() - anchor.getTime()) / DAY_MS);
