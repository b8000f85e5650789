/**
 * A small typed validator for ingested records: each field has a rule that either returns the normalized value or
 * adds a reason naming the field and what was expected. Plain functions (no class-validator) because a batch is a
 * union of record types, each judged on its own, and a rejection must say exactly what was wrong with which field.
 */
export interface RecordError {
  field: string;
  message: string;
}

/** Reads one field: the normalized value, or `INVALID` after pushing a reason. `undefined` input means absent. */
export type Rule<T> = (value: unknown, field: string, errors: RecordError[]) => T | typeof INVALID;
export const INVALID = Symbol('invalid');

const MIN_YEAR = 1900;
const MAX_YEAR = 2100;
const ISO_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function fail(errors: RecordError[], field: string, message: string): typeof INVALID {
  errors.push({ field, message });
  return INVALID;
}

function realDate(y: number, m: number, d: number): boolean {
  if (y < MIN_YEAR || y > MAX_YEAR || m < 1 || m > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** A required field. */
export function required<T>(rule: Rule<T>): Rule<T> {
  return (v, f, e) => (v === undefined || v === null ? fail(e, f, 'is required') : rule(v, f, e));
}

/** An optional field: absent or null gives `fallback`. */
export function optional<T, D>(rule: Rule<T>, fallback: D): Rule<T | D> {
  return (v, f, e) => (v === undefined || v === null ? fallback : rule(v, f, e));
}

export function text(maxLength: number, options: { pattern?: RegExp; expected?: string } = {}): Rule<string> {
  return (v, f, e) => {
    if (typeof v !== 'string') return fail(e, f, `must be a string (got ${kind(v)})`);
    const s = v.trim();
    if (s.length === 0) return fail(e, f, 'must not be empty');
    if (s.length > maxLength) return fail(e, f, `must be at most ${maxLength} characters (got ${s.length})`);
    if (options.pattern && !options.pattern.test(s)) return fail(e, f, `must be ${options.expected ?? `like ${options.pattern}`}`);
    return s;
  };
}

export const email: Rule<string> = (v, f, e) => {
  const s = text(320, { pattern: EMAIL, expected: 'an email address' })(v, f, e);
  return s === INVALID ? s : s.toLowerCase();
};

export function oneOf<T extends string>(values: Readonly<Record<string, T>>): Rule<T> {
  const allowed = Object.values(values);
  return (v, f, e) =>
    typeof v === 'string' && (allowed as string[]).includes(v) ? (v as T) : fail(e, f, `must be one of ${allowed.join(', ')}`);
}

export function integer(min: number, max: number): Rule<number> {
  return (v, f, e) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : fail(e, f, `must be an integer from ${min} to ${max}`);
}

export const bool: Rule<boolean> = (v, f, e) => (typeof v === 'boolean' ? v : fail(e, f, `must be true or false (got ${kind(v)})`));

/** Decimal currency units (`125.50`, at most 2 decimals, not negative) → integer cents. */
export function money(max = 10_000_000): Rule<number> {
  return (v, f, e) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) return fail(e, f, `must be a number in currency units, e.g. 125.50 (got ${kind(v)})`);
    if (v < 0) return fail(e, f, 'must not be negative');
    if (v > max) return fail(e, f, `must be at most ${max}`);
    const cents = Math.round(v * 100);
    if (Math.abs(cents - v * 100) > 1e-6) return fail(e, f, 'must have at most 2 decimals');
    return cents;
  };
}

/** An ISO 8601 date-time with a zone (`2026-11-20T09:30:00Z`, `...+01:00`) that exists → epoch ms. */
export const timestamp: Rule<number> = (v, f, e) => {
  const m = typeof v === 'string' ? ISO_TIMESTAMP.exec(v) : null;
  if (!m) return fail(e, f, 'must be an ISO 8601 date-time with a time zone, e.g. 2026-11-20T09:30:00Z');
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number);
  if (!realDate(y, mo, d) || h > 23 || mi > 59 || s > 59) return fail(e, f, `must be a real date and time from ${MIN_YEAR} to ${MAX_YEAR}`);
  return Date.parse(v as string);
};

/** A calendar date `YYYY-MM-DD` that exists. */
export const date: Rule<string> = (v, f, e) => {
  const m = typeof v === 'string' ? ISO_DATE.exec(v) : null;
  if (!m) return fail(e, f, 'must be a date YYYY-MM-DD');
  if (!realDate(Number(m[1]), Number(m[2]), Number(m[3]))) return fail(e, f, `must be a real date from ${MIN_YEAR} to ${MAX_YEAR}`);
  return v as string;
};

export function textList(maxItems: number, maxLength: number): Rule<string[]> {
  return (v, f, e) => {
    if (!Array.isArray(v)) return fail(e, f, `must be an array of strings (got ${kind(v)})`);
    if (v.length > maxItems) return fail(e, f, `must have at most ${maxItems} items`);
    const out: string[] = [];
    v.forEach((item: unknown, i) => {
      const s = text(maxLength)(item, `${f}[${i}]`, e);
      if (s !== INVALID) out.push(s);
    });
    return out.length === v.length ? out : INVALID;
  };
}

/** A JSON object of at most `maxBytes` once serialized. */
export function jsonObject(maxBytes: number): Rule<Record<string, unknown>> {
  return (v, f, e) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(e, f, `must be a JSON object (got ${kind(v)})`);
    if (JSON.stringify(v).length > maxBytes) return fail(e, f, `must be at most ${maxBytes} bytes as JSON`);
    return v as Record<string, unknown>;
  };
}

export type Shape = Record<string, Rule<unknown>>;
export type Parsed<S extends Shape> = { [K in keyof S]: Exclude<ReturnType<S[K]>, typeof INVALID> };

/** An object validated field by field against `shape`; unknown fields are reasons too. */
export function object<S extends Shape>(shape: S): Rule<Parsed<S>> {
  return (v, f, e) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(e, f, `must be a JSON object (got ${kind(v)})`);
    return parseShape(shape, v as Record<string, unknown>, e, `${f}.`);
  };
}

/** Every field of `shape` read from `input`; fields outside `shape` and `ignore` are rejected. */
export function parseShape<S extends Shape>(
  shape: S,
  input: Record<string, unknown>,
  errors: RecordError[],
  prefix = '',
  ignore: readonly string[] = [],
): Parsed<S> | typeof INVALID {
  const before = errors.length;
  const out: Record<string, unknown> = {};
  for (const [key, rule] of Object.entries(shape)) out[key] = rule(input[key], prefix + key, errors);
  for (const key of Object.keys(input)) {
    if (!(key in shape) && !ignore.includes(key)) errors.push({ field: prefix + key, message: 'is not a field of this record type' });
  }
  return errors.length > before ? INVALID : (out as Parsed<S>);
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}
