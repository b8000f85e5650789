/** What one request's answer was made of: whether a cached value past its lifetime was served, and how old. */
export interface Freshness {
  /** Seconds since the oldest stale value the answer holds was loaded; undefined: everything fresh. */
  staleAgeSeconds?: number;
  /** Seconds past its lifetime of that value. */
  staleBySeconds?: number;
  /**
   * The answer came from an organization-wide snapshot older than SNAPSHOT_MAX_AGE_HOURS (its rebuild is enqueued):
   * the snapshot's age and how far past its lifetime it is (seconds).
   */
  snapshot?: { ageSeconds: number; staleBySeconds: number };
}

/*
 * The request's record is handed down explicitly: the controller takes it with `@RequestFreshness()` (which keeps it
 * on the request), passes it to its service, which passes it to AggregateCache.getOrLoad and SnapshotRebuilds.checkAge;
 * CacheStatusHook reads it when the response leaves. It used to be an AsyncLocalStorage store set by an interceptor:
 * on Node 20, once a store is in use, every promise of the process runs its hooks (4.6 % of the app's busy time on
 * the small read routes, docs/performance.md "The request's freshness without AsyncLocalStorage").
 */

/** Notes that the request's answer holds a stale value (AggregateCache's stale-if-error). No record: nothing to note. */
export function markServedStale(f: Freshness | undefined, ageSeconds: number, staleBySeconds: number): void {
  if (!f) return;
  f.staleAgeSeconds = Math.max(f.staleAgeSeconds ?? 0, ageSeconds);
  f.staleBySeconds = Math.max(f.staleBySeconds ?? 0, staleBySeconds);
}

/**
 * Notes that the request's answer comes from an organization-wide snapshot past its lifetime (the opportunities, the
 * engagement rollup): served as it is while its rebuild runs as a job. No record: nothing to note.
 */
export function markSnapshotStale(f: Freshness | undefined, ageSeconds: number, staleBySeconds: number): void {
  if (!f) return;
  f.snapshot = { ageSeconds: Math.max(f.snapshot?.ageSeconds ?? 0, ageSeconds), staleBySeconds: Math.max(f.snapshot?.staleBySeconds ?? 0, staleBySeconds) };
}

/**
 * The headers that a response whose answer is described by `f` gets (none: everything fresh). A stale-if-error answer
 * (the database away) says so over a stale snapshot's marks.
 */
export function freshnessHeaders(f: Freshness, staleIfErrorSeconds: number): Record<string, string> | undefined {
  if (f.staleAgeSeconds !== undefined) return staleHeaders(f, staleIfErrorSeconds);
  if (f.snapshot) return snapshotStaleHeaders(f.snapshot);
  return undefined;
}

/** The name this server gives itself in Cache-Status (RFC 9211). */
export const CACHE_NAME = 'patient-journey-api';

/**
 * The headers of an answer served stale because the database was away (RFC 5861 stale-if-error, RFC 9211
 * Cache-Status): `Age`, a `Cache-Status` saying the origin answered 503 and the stored answer was used though stale
 * (`fwd=stale; fwd-status=503`, its negative `ttl`), and a Cache-Control that keeps it private.
 */
export function staleHeaders(f: Freshness, staleIfErrorSeconds: number): Record<string, string> {
  const age = Math.max(0, Math.floor(f.staleAgeSeconds ?? 0));
  const staleBy = Math.max(0, Math.floor(f.staleBySeconds ?? 0));
  return {
    age: String(age),
    'cache-status': `${CACHE_NAME}; fwd=stale; fwd-status=503; ttl=${-staleBy}; detail=stale-if-error`,
    'cache-control': `private, max-age=0, stale-if-error=${staleIfErrorSeconds}`,
  };
}

/**
 * The headers of an answer read from a stale snapshot (RFC 9211): `Age` (the snapshot's), and a `Cache-Status` hit
 * whose negative `ttl` says how far past its lifetime it is, `detail=snapshot-stale`. Cache-Control is left as it is
 * (the answer may carry PHI: nothing here makes it storable).
 */
export function snapshotStaleHeaders(snapshot: NonNullable<Freshness['snapshot']>): Record<string, string> {
  return {
    age: String(Math.max(0, Math.floor(snapshot.ageSeconds))),
    'cache-status': `${CACHE_NAME}; hit; ttl=${-Math.max(0, Math.floor(snapshot.staleBySeconds))}; detail=snapshot-stale`,
  };
}
