/**
 * Calendar arithmetic for the engagement overview, on plain `YYYY-MM-DD` dates of the organization's time zone
 * (no clock reads; "today" is an argument). Weeks start on Monday (ISO 8601), as PostgreSQL's date_trunc('week').
 */
import { DAY_MS, formatDate, parseDate } from 'src/common/time/calendar';

export { parseDate } from 'src/common/time/calendar';

export const Granularity = { Day: 'day', Week: 'week', Month: 'month' } as const;
export type Granularity = (typeof Granularity)[keyof typeof Granularity];

export const MAX_BUCKETS = 1000;
/** Default window: this week and the 11 before it, by week. */
export const DEFAULT_WEEKS = 12;

export interface EngagementWindow {
  /** First day (inclusive), organization-local. */
  from: string;
  /** Last day (inclusive), organization-local. */
  to: string;
  granularity: Granularity;
  /** Start date of each bucket, oldest first. */
  buckets: string[];
}

const fmt = formatDate;
const addDays = (d: Date, n: number): Date => new Date(d.getTime() + n * DAY_MS);

export function bucketStart(date: string, g: Granularity): string {
  const d = parseDate(date);
  if (!d) throw new Error(`not a date: ${date}`);
  switch (g) {
    case Granularity.Day:
      return date;
    case Granularity.Week:
      return fmt(addDays(d, -((d.getUTCDay() + 6) % 7)));
    case Granularity.Month:
      return `${date.slice(0, 7)}-01`;
  }
}

function nextBucket(start: string, g: Granularity): string {
  const d = parseDate(start) as Date;
  switch (g) {
    case Granularity.Day:
      return fmt(addDays(d, 1));
    case Granularity.Week:
      return fmt(addDays(d, 7));
    case Granularity.Month:
      return fmt(new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)));
  }
}

/** How many buckets [from, to] spans, without listing them (to refuse huge ranges cheaply). */
export function bucketCount(from: string, to: string, g: Granularity): number {
  const a = parseDate(bucketStart(from, g)) as Date;
  const b = parseDate(bucketStart(to, g)) as Date;
  switch (g) {
    case Granularity.Day:
      return Math.round((b.getTime() - a.getTime()) / DAY_MS) + 1;
    case Granularity.Week:
      return Math.round((b.getTime() - a.getTime()) / (7 * DAY_MS)) + 1;
    case Granularity.Month:
      return (b.getUTCFullYear() - a.getUTCFullYear()) * 12 + (b.getUTCMonth() - a.getUTCMonth()) + 1;
  }
}

export function listBuckets(from: string, to: string, g: Granularity): string[] {
  const out: string[] = [];
  const last = bucketStart(to, g);
  for (let s = bucketStart(from, g); s <= last; s = nextBucket(s, g)) out.push(s);
  return out;
}

export type WindowError = { field: 'from' | 'to' | 'granularity'; message: string };

export type EngagementRange = Omit<EngagementWindow, 'buckets'>;

/**
 * The window asked for, with defaults: `to` = today, `from` = the Monday 11 weeks before this week's (12 weekly
 * buckets) when no `from` is given. Errors name the field. Without the bucket list (cheap: a cached overview
 * needs only this for its key).
 */
export function resolveRange(q: { from?: string; to?: string; granularity?: Granularity }, today: string): EngagementRange | WindowError {
  const granularity = q.granularity ?? Granularity.Week;
  if (q.from !== undefined && !parseDate(q.from)) return { field: 'from', message: 'from must be a calendar date YYYY-MM-DD' };
  if (q.to !== undefined && !parseDate(q.to)) return { field: 'to', message: 'to must be a calendar date YYYY-MM-DD' };
  const to = q.to ?? today;
  const from = q.from ?? fmt(addDays(parseDate(bucketStart(to, Granularity.Week)) as Date, -7 * (DEFAULT_WEEKS - 1)));
  if (from > to) return { field: 'from', message: 'from must not be after to' };
  const n = bucketCount(from, to, granularity);
  if (n > MAX_BUCKETS)
    return { field: 'granularity', message: `the range spans ${n} ${granularity} buckets; at most ${MAX_BUCKETS} are allowed` };
  return { from, to, granularity };
}

/** `resolveRange` with the start date of each bucket. */
export function resolveWindow(q: { from?: string; to?: string; granularity?: Granularity }, today: string): EngagementWindow | WindowError {
  const range = resolveRange(q, today);
  return 'field' in range ? range : { ...range, buckets: listBuckets(range.from, range.to, range.granularity) };
}


