import { DAY_MS, formatsByTimeZone, localDate } from 'src/common/time/calendar';

/** How long after its nightly time an organization's run may still start (a process down at 03:00 catches up). */
export const NIGHTLY_WINDOW_MS = 6 * 3_600_000;

/** Hours and minutes in a time zone (one formatter per zone: the scheduler's tick asks for every organization). */
const minuteFormat = formatsByTimeZone('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

/** Minutes since local midnight of `instant` in `timeZone` (UTC when the zone is unknown). */
function localMinutes(instant: Date, timeZone: string): number {
  const format = minuteFormat(timeZone);
  if (!format) return instant.getUTCHours() * 60 + instant.getUTCMinutes();
  const parts = format.formatToParts(instant);
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return get('hour') * 60 + get('minute');
}

/**
 * The nightly run an organization is due for at `now`: its dedup key (`nightly-recompute:<local date>`, so that the
 * night's run is enqueued once however many schedulers see it), or null when `now` is outside
 * [nightlyAt, nightlyAt + NIGHTLY_WINDOW_MS) of its local day. Pure: the scheduler and its tests share it.
 */
export function nightlyRunDue(now: Date, timeZone: string, nightlyAt: string): string | null {
  const [h, m] = nightlyAt.split(':').map(Number);
  const at = h * 60 + m;
  const minutes = localMinutes(now, timeZone);
  const since = minutes - at;
  if (since >= 0 && since * 60_000 < NIGHTLY_WINDOW_MS) return `nightly-recompute:${localDate(now, timeZone)}`;
  // A window that runs past local midnight (nightlyAt after 18:00) belongs to the day it started.
  if (since < 0 && (since + 24 * 60) * 60_000 < NIGHTLY_WINDOW_MS) return `nightly-recompute:${localDate(new Date(now.getTime() - DAY_MS), timeZone)}`;
  return null;
}
