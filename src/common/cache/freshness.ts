import { AsyncLocalStorage } from 'node:async_hooks';

/** What one request's answer was made of: whether a cached value past its lifetime was served, and how old. */
export interface Freshness {
  /** Seconds since the oldest stale value the answer holds was loaded; undefined: everything fresh. */
  staleAgeSeconds?: number;
  /** Seconds past its lifetime of that value. */
  staleBySeconds?: number;
}

const storage = new AsyncLocalStorage<Freshness>();

/** Runs `work` with a fresh record of the request's freshness (the CacheStatusInterceptor does, per request). */
export function withFreshness<T>(freshness: Freshness, work: () => T): T {
  return storage.run(freshness, work);
}

/** Notes that the current request's answer holds a stale value (AggregateCache's stale-if-error). */
export function markServedStale(ageSeconds: number, staleBySeconds: number): void {
  const f = storage.getStore();
  if (!f) return;
  f.staleAgeSeconds = Math.max(f.staleAgeSeconds ?? 0, ageSeconds);
  f.staleBySeconds = Math.max(f.staleBySeconds ?? 0, staleBySeconds);
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
