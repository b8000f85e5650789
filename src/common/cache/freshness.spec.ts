import { Freshness, freshnessHeaders, markServedStale, markSnapshotStale } from 'src/common/cache/freshness';

describe('freshness marks and headers', () => {
  it('a fresh record gives no headers', () => {
    expect(freshnessHeaders({}, 600)).toBeUndefined();
  });

  it('a snapshot past its lifetime: Age and a Cache-Status hit with its negative ttl; the oldest mark wins', () => {
    const f: Freshness = {};
    markSnapshotStale(f, 30 * 3600, 4 * 3600);
    markSnapshotStale(f, 3600.5, 10);
    expect(freshnessHeaders(f, 600)).toEqual({ age: '108000', 'cache-status': 'patient-journey-api; hit; ttl=-14400; detail=snapshot-stale' });
  });

  it('stale-if-error says so over a stale snapshot, with Cache-Control', () => {
    const f: Freshness = {};
    markSnapshotStale(f, 30 * 3600, 4 * 3600);
    markServedStale(f, 12.7, 3.2);
    markServedStale(f, 5, 1);
    expect(freshnessHeaders(f, 600)).toEqual({
      age: '12',
      'cache-status': 'patient-journey-api; fwd=stale; fwd-status=503; ttl=-3; detail=stale-if-error',
      'cache-control': 'private, max-age=0, stale-if-error=600',
    });
  });

  it('no record (a caller outside a request): nothing to mark, no throw', () => {
    expect(() => markServedStale(undefined, 1, 1)).not.toThrow();
    expect(() => markSnapshotStale(undefined, 1, 1)).not.toThrow();
  });
});
