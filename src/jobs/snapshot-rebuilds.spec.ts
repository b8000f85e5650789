import type { Freshness } from 'src/common/cache/freshness';
import { FixedClock } from 'src/common/clock/clock';
import type { Settings } from 'src/config/settings';
import type { JobService } from 'src/jobs/job.service';
import { SnapshotRebuilds } from 'src/jobs/snapshot-rebuilds';

describe('SnapshotRebuilds.checkAge: the request\'s freshness record is the one passed', () => {
  const now = new Date('2026-12-06T12:00:00Z');
  const settings = { jobs: { snapshotMaxAgeHours: 26 }, resilience: { readStatementTimeoutMs: 1000, retryAfterSeconds: 5 } } as unknown as Settings;

  function rebuilds(): { rebuilds: SnapshotRebuilds; enqueued: unknown[][] } {
    const enqueued: unknown[][] = [];
    const jobs = { enqueue: async (...args: unknown[]) => void enqueued.push(args) } as unknown as JobService;
    return { rebuilds: new SnapshotRebuilds(jobs, new FixedClock(now), settings), enqueued };
  }

  it('past its lifetime: marks the record given, asks for the rebuild once', () => {
    const { rebuilds: r, enqueued } = rebuilds();
    const builtAt = new Date(now.getTime() - 30 * 3_600_000);
    const a: Freshness = {};
    const b: Freshness = {};
    expect(r.checkAge('opportunities-refresh', 'org-1', builtAt, a)).toBe(true);
    expect(r.checkAge('opportunities-refresh', 'org-1', builtAt, b)).toBe(true);
    expect(a).toEqual({ snapshot: { ageSeconds: 30 * 3600, staleBySeconds: 4 * 3600 } });
    expect(b).toEqual({ snapshot: { ageSeconds: 30 * 3600, staleBySeconds: 4 * 3600 } });
    expect(enqueued).toEqual([['opportunities-refresh', 'org-1', {}, { unlessPending: 'unfinished' }]]);
  });

  it('within its lifetime: nothing marked, nothing asked; without a record: the rebuild is still asked for', () => {
    const { rebuilds: r, enqueued } = rebuilds();
    const f: Freshness = {};
    expect(r.checkAge('engagement-rebuild', 'org-1', new Date(now.getTime() - 26 * 3_600_000), f)).toBe(false);
    expect(f).toEqual({});
    expect(enqueued).toEqual([]);
    expect(r.checkAge('engagement-rebuild', 'org-1', new Date(now.getTime() - 27 * 3_600_000), undefined)).toBe(true);
    expect(enqueued).toHaveLength(1);
  });
});
