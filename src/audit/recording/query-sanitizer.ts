/**
 * Query parameters as an audit event records them. A parameter is kept by name (when the name is a plain
 * identifier) and by value only when it is on this allowlist of parameters that never carry PHI and the value
 * looks like one of theirs; any other value (a search string, a cursor, which can encode a patient's name) is
 * recorded as `[REDACTED]`, so the trail still shows that a search was made.
 */
export const AUDIT_SAFE_QUERY_KEYS: ReadonlySet<string> = new Set([
  'limit', 'offset', 'page', 'page_size', 'status', 'sort', 'order', 'granularity', 'from', 'to', 'type', 'priority',
  'risk_level', 'history_limit', 'touchpoint_limit', 'action', 'patient_id', 'actor_id', 'stage', 'channel', 'format',
  'include', 'period', 'group_by',
]);

export const REDACTED = '[REDACTED]';

const KEY = /^[a-z][a-z0-9_]{0,39}$/;
const SAFE_VALUE = /^[\w.:+,-]{0,100}$/;
const MAX_KEYS = 30;
const MAX_VALUES = 20;

function safeValue(key: string, value: unknown): string {
  if (!AUDIT_SAFE_QUERY_KEYS.has(key)) return REDACTED;
  return typeof value === 'string' && SAFE_VALUE.test(value) ? value : REDACTED;
}

export function sanitizeQuery(query: unknown): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (typeof query !== 'object' || query === null) return out;
  let n = 0;
  for (const [key, value] of Object.entries(query as Record<string, unknown>)) {
    if (!KEY.test(key) || n >= MAX_KEYS) continue;
    n++;
    out[key] = Array.isArray(value) ? value.slice(0, MAX_VALUES).map((v) => safeValue(key, v)) : safeValue(key, value);
  }
  return out;
}
