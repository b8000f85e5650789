import type { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { DAY_MS } from 'src/common/time/calendar';

const dayCache: string[] = [];
let clock: string[] | null = null;

/** `YYYY-MM-DD HH:MM:SS+00` for COPY, without a Date per value (tens of millions of timestamps per seed). */
export function copyTimestamp(ms: number): string {
  const day = Math.floor(ms / DAY_MS);
  let date = dayCache[day];
  if (date === undefined) {
    date = new Date(day * DAY_MS).toISOString().slice(0, 10) + ' ';
    dayCache[day] = date;
  }
  if (clock === null) {
    clock = new Array<string>(86_400);
    for (let s = 0; s < 86_400; s++) {
      const hh = Math.floor(s / 3600);
      const mm = Math.floor((s % 3600) / 60);
      clock[s] = `${hh < 10 ? '0' : ''}${hh}:${mm < 10 ? '0' : ''}${mm}:${s % 60 < 10 ? '0' : ''}${s % 60}+00`;
    }
  }
  return date + clock[Math.floor((ms - day * DAY_MS) / 1000)];
}

const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A value for COPY's text format: `\N` for null, backslash, tab and line breaks escaped. */
export function copyText(value: string | null): string {
  if (value === null) return '\\N';
  return /[\\\t\n\r]/.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c] ?? c) : value;
}

/**
 * Rows of one table in COPY text format, written straight into an off-heap buffer: tens of millions of row strings
 * then die young instead of piling up in the JavaScript heap (which made garbage collection the bottleneck).
 */
export class CopyTable {
  count = 0;
  private buffer = Buffer.allocUnsafe(1 << 16);
  private used = 0;

  constructor(
    readonly table: string,
    readonly columns: readonly string[],
  ) {}

  /** One row: values already formatted (`copyText`, `copyTimestamp`, numbers, `t`/`f`), tab-separated, in column order. */
  push(line: string): void {
    const needed = Buffer.byteLength(line) + 1;
    if (this.used + needed > this.buffer.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.used + needed));
      this.buffer.copy(bigger, 0, 0, this.used);
      this.buffer = bigger;
    }
    this.used += this.buffer.write(line, this.used);
    this.buffer[this.used++] = 10;
    this.count++;
  }

  /** The rows pushed so far, copied into memory of their own (an ArrayBuffer that a worker thread can transfer). */
  copyOut(): Uint8Array {
    const out = new Uint8Array(this.used);
    out.set(this.buffer.subarray(0, this.used));
    return out;
  }

  /** The rows pushed since the last call; the next rows go to a fresh buffer (this one may still be streaming). */
  take(): Buffer {
    const data = this.buffer.subarray(0, this.used);
    this.buffer = Buffer.allocUnsafe(Math.max(1 << 20, Math.ceil(this.used * 1.25)));
    this.used = 0;
    return data;
  }
}

/**
 * `COPY table (columns) FROM STDIN` with the given rows, resolved when PostgreSQL has accepted every one. `freeze`:
 * WITH (FREEZE), for a table truncated in this transaction (truncateEmptyTables, bulk-indexes.ts).
 */
export function copyInto(client: Client, table: string, columns: readonly string[], data: Uint8Array | readonly Uint8Array[], freeze = false): Promise<void> {
  const parts = (data instanceof Uint8Array ? [data] : data).filter((d) => d.length > 0);
  if (parts.length === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const stream = client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN${freeze ? ' WITH (FREEZE)' : ''}`));
    stream.on('error', reject);
    stream.on('finish', () => resolve());
    for (let i = 0; i < parts.length - 1; i++) stream.write(parts[i]);
    stream.end(parts[parts.length - 1]);
  });
}

/**
 * What trg_patient_metric_counts_insert adds for inserted metrics rows (a delta row per group), for organizations
 * whose metrics rows were loaded with the triggers off (`session_replication_role = replica`).
 */
export async function addMetricCounts(client: Client, organizationIds: readonly string[]): Promise<void> {
  await client.query(
    `INSERT INTO patient_metric_counts (organization_id, status, risk_level, risk_trend, patients, last_computed_at)
     SELECT organization_id, status, risk_level, risk_trend, count(*), max(computed_at)
       FROM patient_metrics WHERE organization_id = ANY($1::uuid[]) GROUP BY organization_id, status, risk_level, risk_trend`,
    [organizationIds],
  );
}
