/**
 * A parameter value as an SQL literal, the text PostgreSQL would receive for it as a bound parameter: strings,
 * numbers and booleans as text, dates as ISO 8601 (the connections run in UTC), buffers as bytea hex, arrays as
 * array literals (nested, with NULLs), other objects as JSON. Quoted as pg's own escapeLiteral quotes (quoteLiteral).
 */
export function sqlLiteral(value: unknown): string {
  const text = literalText(value);
  return text === null ? 'NULL' : quoteLiteral(text);
}

/**
 * Exactly pg's `escapeLiteral` (quotes and backslashes doubled, ` E'...'` when there was a backslash), without its
 * loop that appends one character at a time: that made a string per character of every literal, and an audit
 * batch's arrays are kilobytes (the list's sampled allocations: 6 % of all, docs/performance.md).
 */
export function quoteLiteral(text: string): string {
  const backslash = text.includes('\\');
  let body = text.includes("'") ? text.replaceAll("'", "''") : text;
  if (backslash) body = body.replaceAll('\\', '\\\\');
  return backslash ? ` E'${body}'` : `'${body}'`;
}

function literalText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new Error('sqlLiteral: an invalid Date');
    return value.toISOString();
  }
  if (Buffer.isBuffer(value)) return `\\x${value.toString('hex')}`;
  if (Array.isArray(value)) return arrayLiteral(value);
  return JSON.stringify(value);
}

/** `{a,"b c",NULL,{1,2}}`: every element quoted (backslash and quote escaped) but NULL and nested arrays. */
function arrayLiteral(values: readonly unknown[]): string {
  const parts = values.map((v) => {
    if (v === null || v === undefined) return 'NULL';
    if (Array.isArray(v)) return arrayLiteral(v);
    const text = Buffer.isBuffer(v) ? `\\x${v.toString('hex')}` : (literalText(v) as string);
    return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  });
  return `{${parts.join(',')}}`;
}

/**
 * `sql` with each `$n` replaced by parameter n as a literal. A literal is untyped like a parameter, so PostgreSQL
 * resolves it from its context the same way (`$2::uuid`, `LIMIT $3`, `= ANY($4::uuid[])`). For statements the
 * application writes itself: a `$n` inside a quoted string of `sql` would be replaced too, so there must be none.
 */
export function inlineParams(sql: string, params: readonly unknown[] = []): string {
  const literals = params.map(sqlLiteral);
  return sql.replace(/\$(\d+)/g, (_, n: string) => {
    const literal = literals[Number(n) - 1];
    if (literal === undefined) throw new Error(`inlineParams: no value for $${n}`);
    return literal;
  });
}
