import { NIGHTLY_WINDOW_MS, nightlyRunDue } from 'src/jobs/nightly-schedule';

const at = (iso: string): Date => new Date(iso);

describe('nightlyRunDue: an organization is due from its local nightly time for the window, once per local date', () => {
  it('is due at 03:00 local time, in each time zone, keyed by the local date', () => {
    // 02:00 UTC is 03:00 in Berlin (winter, UTC+1) and 21:00 the day before in New York (UTC-5).
    expect(nightlyRunDue(at('2026-12-05T02:00:00Z'), 'Europe/Berlin', '03:00')).toBe('nightly-recompute:2026-12-05');
    expect(nightlyRunDue(at('2026-12-05T02:00:00Z'), 'America/New_York', '03:00')).toBeNull();
    expect(nightlyRunDue(at('2026-12-05T08:00:00Z'), 'America/New_York', '03:00')).toBe('nightly-recompute:2026-12-05');
    expect(nightlyRunDue(at('2026-12-05T03:00:00Z'), 'UTC', '03:00')).toBe('nightly-recompute:2026-12-05');
  });

  it('is not due a minute before, and is due until the window closes (a process down at 03:00 catches up)', () => {
    expect(nightlyRunDue(at('2026-12-05T02:59:00Z'), 'UTC', '03:00')).toBeNull();
    const lastMinute = new Date(at('2026-12-05T03:00:00Z').getTime() + NIGHTLY_WINDOW_MS - 60_000);
    expect(nightlyRunDue(lastMinute, 'UTC', '03:00')).toBe('nightly-recompute:2026-12-05');
    expect(nightlyRunDue(new Date(lastMinute.getTime() + 60_000), 'UTC', '03:00')).toBeNull();
  });

  it('keys a window that runs past local midnight by the day it started', () => {
    expect(nightlyRunDue(at('2026-12-05T23:30:00Z'), 'UTC', '23:00')).toBe('nightly-recompute:2026-12-05');
    expect(nightlyRunDue(at('2026-12-06T01:30:00Z'), 'UTC', '23:00')).toBe('nightly-recompute:2026-12-05');
    expect(nightlyRunDue(at('2026-12-06T05:30:00Z'), 'UTC', '23:00')).toBeNull();
  });

  it('follows daylight saving time (03:00 local is 01:00 UTC in Berlin in summer)', () => {
    expect(nightlyRunDue(at('2026-07-01T01:00:00Z'), 'Europe/Berlin', '03:00')).toBe('nightly-recompute:2026-07-01');
    expect(nightlyRunDue(at('2026-07-01T00:59:00Z'), 'Europe/Berlin', '03:00')).toBeNull();
  });

  it('takes an unknown time zone as UTC', () => {
    expect(nightlyRunDue(at('2026-12-05T03:10:00Z'), 'Mars/Olympus', '03:00')).toBe('nightly-recompute:2026-12-05');
  });
});
