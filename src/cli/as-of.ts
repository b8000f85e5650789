import { CliUsageError } from 'src/cli/support/run-cli';

/**
 * The instant an organization-wide recompute scores as of: `--as-of` (ISO 8601 with a time zone or `Z`; a bare date is
 * midnight UTC) or `now`. Throws CliUsageError for anything else, so that a typo never scores a clinic as of 1970.
 */
export function parseAsOf(value: string | undefined, now: Date): Date {
  if (value === undefined) return now;
  const iso = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;
  const at = new Date(value);
  if (!iso.test(value) || Number.isNaN(at.getTime()) || !isCalendarDate(value.slice(0, 10))) {
    throw new CliUsageError('--as-of must be an ISO 8601 time with its zone, e.g. 2026-11-26T03:00:00Z (or a date: midnight UTC)');
  }
  return at;
}

/** Whether `YYYY-MM-DD` names a real day: Date rolls 2026-11-31 over to 1 December instead of refusing it. */
function isCalendarDate(ymd: string): boolean {
  const [y, m, d] = ymd.split('-').map(Number);
  const probe = new Date(Date.UTC(y, m - 1, d));
  return probe.getUTCFullYear() === y && probe.getUTCMonth() === m - 1 && probe.getUTCDate() === d;
}
