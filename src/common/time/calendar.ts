/**
 * Time and calendar helpers shared by every module: plain functions, no clock reads ("now" is an argument).
 * Calendar dates are `YYYY-MM-DD` strings; instants are Dates or epoch milliseconds.
 */

export const DAY_MS = 86_400_000;

/**
 * One formatter of `options` per time zone, built on first use (null: a zone this runtime does not know). Building an
 * Intl.DateTimeFormat costs about 0.2-0.5 ms, using one a few microseconds; callers ask per organization (the
 * scheduler's tick asks for every one), so each kind of formatter is kept per zone, at most 1,000 zones at a time.
 */
export function formatsByTimeZone(locale: string, options: Omit<Intl.DateTimeFormatOptions, 'timeZone'>): (timeZone: string) => Intl.DateTimeFormat | null {
  const formats = new Map<string, Intl.DateTimeFormat | null>();
  return (timeZone) => {
    let format = formats.get(timeZone);
    if (format === undefined) {
      try {
        format = new Intl.DateTimeFormat(locale, { ...options, timeZone });
      } catch {
        format = null;
      }
      if (formats.size >= 1000) formats.clear();
      formats.set(timeZone, format);
    }
    return format;
  };
}

const formatFor = formatsByTimeZone('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit' });

/** The time zone itself when this runtime knows it, else UTC (an organization's setting is not trusted blindly). */
export function validTimeZone(tz: string): string {
  return formatFor(tz) ? tz : 'UTC';
}

/** The calendar date of `instant` in an IANA time zone; in UTC when the zone is unknown to this runtime. */
export function localDate(instant: Date, timeZone: string): string {
  const format = formatFor(timeZone);
  return format ? format.format(instant) : instant.toISOString().slice(0, 10);
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A real calendar date `YYYY-MM-DD` as a UTC midnight Date, or null. */
export function parseDate(s: string): Date | null {
  const m = DATE_RE.exec(s);
  if (!m) return null;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === s ? d : null;
}

/** The calendar date of a UTC midnight Date. */
export const formatDate = (d: Date): string => d.toISOString().slice(0, 10);

/** `date` plus `days` calendar days (negative: before). */
export function addDays(date: string, days: number): string {
  return formatDate(new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS));
}

export const nextDay = (date: string): string => addDays(date, 1);
