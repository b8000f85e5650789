import type { Client } from 'pg';

/**
 * COPY's binary format for the seed (docs/performance.md, "The seed in binary COPY"). The generator writes its rows
 * in COPY text format (CopyTable); `textRowsToBinary` re-encodes a block's rows into binary tuples in the generator
 * thread, so that PostgreSQL stores uuids, timestamps, integers and booleans as they come instead of parsing each
 * from text (its text input functions were a large part of the COPY's CPU). The values are the same: every field is
 * decoded from exactly the text PostgreSQL would have parsed (tested against a text-format seed of the same clinic).
 *
 * Only the column types the seeded tables use are encoded; a table with any other type stays in text format.
 */
export type BinaryColumnType = 'uuid' | 'text' | 'timestamptz' | 'int4' | 'int2' | 'bool' | 'float4' | 'bytea' | 'text[]' | 'jsonb';

const BY_REGTYPE: Record<string, BinaryColumnType> = {
  uuid: 'uuid',
  text: 'text',
  'character varying': 'text',
  'timestamp with time zone': 'timestamptz',
  integer: 'int4',
  smallint: 'int2',
  boolean: 'bool',
  real: 'float4',
  bytea: 'bytea',
  'text[]': 'text[]',
  jsonb: 'jsonb',
};

/** The 19-byte header of a binary COPY stream: signature, flags (0: no OIDs), header extension length (0). */
export const BINARY_COPY_HEADER = Uint8Array.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]);
/** The end of a binary COPY stream: a tuple field count of -1. */
export const BINARY_COPY_TRAILER = Uint8Array.from([0xff, 0xff]);

/**
 * The binary encoding of each listed table's columns (in the given order), from the database's own column types;
 * a table with a column of a type encoded nowhere here is left out (it stays in text format).
 */
export async function binaryColumnTypes(
  client: Client,
  tables: readonly { table: string; columns: readonly string[] }[],
  schema = 'public',
): Promise<Record<string, BinaryColumnType[]>> {
  const { rows } = await client.query<{ tbl: string; col: string; typ: string }>(
    `SELECT c.relname AS tbl, a.attname AS col, a.atttypid::regtype::text AS typ
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = ANY($2) AND a.attnum > 0 AND NOT a.attisdropped`,
    [schema, tables.map((t) => t.table)],
  );
  const types = new Map(rows.map((r) => [`${r.tbl}.${r.col}`, BY_REGTYPE[r.typ]]));
  const out: Record<string, BinaryColumnType[]> = {};
  for (const t of tables) {
    const encoded = t.columns.map((c) => types.get(`${t.table}.${c}`));
    if (encoded.every((e): e is BinaryColumnType => e !== undefined)) out[t.table] = encoded;
  }
  return out;
}

const TAB = 9;
const NEWLINE = 10;
const BACKSLASH = 92;
/** Microseconds between 1970-01-01 and PostgreSQL's epoch, 2000-01-01 (in milliseconds here). */
const PG_EPOCH_MS = 946_684_800_000;
const TWO_32 = 4_294_967_296;
const TEXT_OID = 25;

/** The types by number (BinaryCopyEncoder dispatches on the index). */
const TYPE_CODES: readonly BinaryColumnType[] = ['text', 'uuid', 'timestamptz', 'int4', 'int2', 'bool', 'float4', 'bytea', 'text[]', 'jsonb'];
/** Where each of a uuid's 16 bytes starts in its 36 characters. */
const UUID_NIBBLES = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
/** A decimal digit's value, -1 for any other byte. */
const DIGIT = new Int32Array(256).fill(-1);
for (let i = 0; i < 10; i++) DIGIT[48 + i] = i;

const UUID = TYPE_CODES.indexOf('uuid');
const TIMESTAMPTZ = TYPE_CODES.indexOf('timestamptz');

const HEX = new Int32Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[65 + i] = 10 + i;
  HEX[97 + i] = 10 + i;
}

/**
 * Re-encodes rows in COPY text format (one per line, tab-separated, `\N` for null, backslash escapes) into binary
 * COPY tuples (no header or trailer: BINARY_COPY_HEADER and BINARY_COPY_TRAILER go around a whole COPY statement).
 * `types`: one per column. Throws on a value it cannot decode exactly (a format the seed does not write).
 */
export class BinaryCopyEncoder {
  private out: Buffer = Buffer.allocUnsafeSlow(1 << 20);
  private at = 0;
  private readonly days = new Map<number, number>();

  encode(text: Uint8Array, types: readonly BinaryColumnType[]): Uint8Array {
    const src = text;
    this.at = 0;
    const n = types.length;
    const codes = types.map((t) => TYPE_CODES.indexOf(t));
    // Backslashes are rare (the patients' keys, escaped text): found by a native search, not byte by byte.
    const view = Buffer.from(src.buffer, src.byteOffset, src.byteLength);
    let backslash = view.indexOf(BACKSLASH, 0);
    let pos = 0;
    while (pos < src.length) {
      this.reserve(2);
      this.out[this.at++] = n >> 8;
      this.out[this.at++] = n & 0xff;
      for (let k = 0; k < n; k++) {
        // The field's end: uuids and timestamps have a fixed length (or are `\N`), long values are searched natively.
        const code = codes[k];
        const fixed = code === UUID ? 36 : code === TIMESTAMPTZ ? 22 : 0;
        let end = pos + fixed;
        // (A null, `\N`, is shorter: a separator further on may be a later field's.)
        if (fixed === 0 || src[pos] === BACKSLASH || (src[end] !== TAB && src[end] !== NEWLINE && end !== src.length)) {
          end = pos;
          const stop = pos + 24;
          while (end < src.length && end < stop) {
            const c = src[end];
            if (c === TAB || c === NEWLINE) break;
            end++;
          }
          if (end === stop) {
            const tab = view.indexOf(TAB, end);
            const newline = view.indexOf(NEWLINE, end);
            end = tab < 0 ? (newline < 0 ? src.length : newline) : newline < 0 ? tab : Math.min(tab, newline);
          }
        }
        if (k < n - 1 ? src[end] !== TAB : end < src.length && src[end] !== NEWLINE) throw new Error(`binary COPY: a row without ${n} fields`);
        if (backslash >= 0 && backslash < end) {
          if (end - pos === 2 && src[pos] === BACKSLASH && src[pos + 1] === 78) {
            this.reserve(4);
            this.int32(-1);
          } else {
            const plain = unescape(src, pos, end);
            this.field(code, plain, 0, plain.length);
          }
          backslash = view.indexOf(BACKSLASH, end);
        } else this.field(code, src, pos, end);
        pos = end + 1;
      }
    }
    const result = new Uint8Array(this.at);
    result.set(this.out.subarray(0, this.at));
    return result;
  }

  private reserve(bytes: number): void {
    if (this.at + bytes <= this.out.length) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(this.out.length * 2, this.at + bytes));
    this.out.copy(bigger, 0, 0, this.at);
    this.out = bigger;
  }

  private int32(v: number): void {
    const out = this.out;
    out[this.at++] = (v >>> 24) & 0xff;
    out[this.at++] = (v >>> 16) & 0xff;
    out[this.at++] = (v >>> 8) & 0xff;
    out[this.at++] = v & 0xff;
  }

  /** One non-null value, `src[from, end)`, in binary as a length and its bytes. */
  private field(code: number, src: Uint8Array, from: number, end: number): void {
    // At most 4 + 8 bytes for anything shorter than its text form plus 12 (integers, booleans, timestamps).
    this.reserve(end - from + 20);
    const out = this.out;
    switch (TYPE_CODES[code]) {
      case 'text': {
        const length = end - from;
        this.int32(length);
        if (length < 48) for (let i = from, at = this.at; i < end; ) out[at++] = src[i++];
        else out.set(src.subarray(from, end), this.at);
        this.at += length;
        return;
      }
      case 'uuid': {
        if (end - from !== 36 || src[from + 8] !== 45 || src[from + 13] !== 45 || src[from + 18] !== 45 || src[from + 23] !== 45) throw badValue('uuid', src, from, end);
        this.int32(16);
        let bad = 0;
        for (let k = 0; k < 16; k++) {
          const i = from + UUID_NIBBLES[k];
          const v = (HEX[src[i]] << 4) | HEX[src[i + 1]];
          bad |= v;
          out[this.at++] = v;
        }
        if (bad < 0) throw badValue('uuid', src, from, end);
        return;
      }
      case 'timestamptz': {
        // `YYYY-MM-DD HH:MM:SS+00` (copyTimestamp), as microseconds since 2000-01-01 UTC in a big-endian int64.
        if (end - from !== 22 || src[from + 4] !== 45 || src[from + 7] !== 45 || src[from + 10] !== 32 || src[from + 13] !== 58 || src[from + 16] !== 58 || src[from + 19] !== 43 || src[from + 20] !== 48 || src[from + 21] !== 48)
          throw badValue('timestamptz', src, from, end);
        const y0 = DIGIT[src[from]], y1 = DIGIT[src[from + 1]], y2 = DIGIT[src[from + 2]], y3 = DIGIT[src[from + 3]];
        const m0 = DIGIT[src[from + 5]], m1 = DIGIT[src[from + 6]], d0 = DIGIT[src[from + 8]], d1 = DIGIT[src[from + 9]];
        const h0 = DIGIT[src[from + 11]], h1 = DIGIT[src[from + 12]], i0 = DIGIT[src[from + 14]], i1 = DIGIT[src[from + 15]];
        const s0 = DIGIT[src[from + 17]], s1 = DIGIT[src[from + 18]];
        if ((y0 | y1 | y2 | y3 | m0 | m1 | d0 | d1 | h0 | h1 | i0 | i1 | s0 | s1) < 0) throw badValue('timestamptz', src, from, end);
        const year = y0 * 1000 + y1 * 100 + y2 * 10 + y3;
        const month = m0 * 10 + m1;
        const day = d0 * 10 + d1;
        const hours = h0 * 10 + h1;
        const minutes = i0 * 10 + i1;
        const seconds = s0 * 10 + s1;
        if (month < 1 || month > 12 || day < 1 || hours > 23 || minutes > 59 || seconds > 59) throw badValue('timestamptz', src, from, end);
        const key = year * 384 + month * 32 + day;
        let dayMs = this.days.get(key);
        if (dayMs === undefined) {
          dayMs = Date.UTC(year, month - 1, day);
          if (new Date(dayMs).getUTCDate() !== day) throw badValue('timestamptz', src, from, end);
          this.days.set(key, dayMs);
        }
        const micros = (dayMs + (hours * 3600 + minutes * 60 + seconds) * 1000 - PG_EPOCH_MS) * 1000;
        const high = Math.floor(micros / TWO_32);
        this.int32(8);
        this.int32(high);
        this.int32(micros - high * TWO_32);
        return;
      }
      case 'int4':
      case 'int2': {
        const type = TYPE_CODES[code];
        const v = parseInteger(src, from, end);
        if (type === 'int2') {
          if (v < -32768 || v > 32767) throw badValue(type, src, from, end);
          this.int32(2);
          out[this.at++] = (v >> 8) & 0xff;
          out[this.at++] = v & 0xff;
        } else {
          if (v < -2147483648 || v > 2147483647) throw badValue(type, src, from, end);
          this.int32(4);
          this.int32(v);
        }
        return;
      }
      case 'bool': {
        const b = end - from === 1 ? src[from] : 0;
        if (b !== 116 && b !== 102) throw badValue('bool', src, from, end);
        this.int32(1);
        out[this.at++] = b === 116 ? 1 : 0;
        return;
      }
      case 'float4': {
        const s = Buffer.from(src.buffer, src.byteOffset + from, end - from).toString('latin1');
        // Only values a float4 holds exactly (the seed writes small integers): parsing through a double could
        // round differently from PostgreSQL's float4in otherwise.
        const v = Number(s);
        if (!/^-?\d{1,7}$/.test(s) || Math.fround(v) !== v) throw badValue('float4', src, from, end);
        this.int32(4);
        this.out.writeFloatBE(v, this.at);
        this.at += 4;
        return;
      }
      case 'bytea': {
        // `\x<hex>` (the text form after COPY's own unescaping).
        if (end - from < 2 || src[from] !== BACKSLASH || src[from + 1] !== 120 || (end - from) % 2 !== 0) throw badValue('bytea', src, from, end);
        this.int32((end - from - 2) / 2);
        for (let i = from + 2; i < end; i += 2) {
          const hi = HEX[src[i]];
          const lo = HEX[src[i + 1]];
          if (hi < 0 || lo < 0) throw badValue('bytea', src, from, end);
          out[this.at++] = (hi << 4) | lo;
        }
        return;
      }
      case 'jsonb':
        // Version 1, then the JSON text (PostgreSQL parses it either way).
        this.int32(end - from + 1);
        out[this.at++] = 1;
        out.set(src.subarray(from, end), this.at);
        this.at += end - from;
        return;
      case 'text[]':
        this.textArray(src, from, end);
        return;
    }
  }

  /** A one-dimensional text array literal (`{a,b}`, `{}`, quoted elements with backslash escapes, NULL). */
  private textArray(src: Uint8Array, from: number, end: number): void {
    if (src[from] !== 123 || src[end - 1] !== 125) throw badValue('text[]', src, from, end);
    const elements: (Uint8Array | null)[] = [];
    let i = from + 1;
    const last = end - 1;
    while (i < last) {
      while (i < last && isSpace(src[i])) i++;
      if (src[i] === 34) {
        const bytes: number[] = [];
        for (i++; i < last && src[i] !== 34; i++) bytes.push(src[i] === BACKSLASH ? src[++i] : src[i]);
        if (src[i] !== 34) throw badValue('text[]', src, from, end);
        elements.push(Uint8Array.from(bytes));
        i++;
        while (i < last && isSpace(src[i])) i++;
      } else {
        let j = i;
        while (j < last && src[j] !== 44) {
          if (src[j] === 123 || src[j] === 125 || src[j] === 34 || src[j] === BACKSLASH) throw badValue('text[]', src, from, end);
          j++;
        }
        let k = j;
        while (k > i && isSpace(src[k - 1])) k--;
        if (k === i) throw badValue('text[]', src, from, end);
        const word = src.subarray(i, k);
        elements.push(word.length === 4 && Buffer.from(word).toString('latin1').toUpperCase() === 'NULL' ? null : word);
        i = j;
      }
      if (i < last) {
        if (src[i] !== 44) throw badValue('text[]', src, from, end);
        i++;
        if (i === last) throw badValue('text[]', src, from, end);
      }
    }
    const body = elements.reduce((s, e) => s + 4 + (e?.length ?? 0), 0);
    const size = elements.length === 0 ? 12 : 20 + body;
    this.reserve(4 + size);
    this.int32(size);
    this.int32(elements.length === 0 ? 0 : 1);
    this.int32(elements.some((e) => e === null) ? 1 : 0);
    this.int32(TEXT_OID);
    if (elements.length === 0) return;
    this.int32(elements.length);
    this.int32(1);
    for (const e of elements) {
      if (e === null) {
        this.int32(-1);
        continue;
      }
      this.int32(e.length);
      this.out.set(e, this.at);
      this.at += e.length;
    }
  }
}

const isSpace = (b: number): boolean => b === 32 || b === TAB || b === NEWLINE || b === 13 || b === 11 || b === 12;

function parseInteger(src: Uint8Array, from: number, end: number): number {
  let i = from;
  const negative = src[i] === 45;
  if (negative) i++;
  if (i >= end || end - i > 10) throw badValue('integer', src, from, end);
  let v = 0;
  for (; i < end; i++) {
    const d = src[i] - 48;
    if (d < 0 || d > 9) throw badValue('integer', src, from, end);
    v = v * 10 + d;
  }
  return negative ? -v : v;
}

/** COPY text format's backslash sequences undone (what PostgreSQL does before a column's input function). */
function unescape(src: Uint8Array, from: number, end: number): Uint8Array {
  const out: number[] = [];
  for (let i = from; i < end; i++) {
    const b = src[i];
    if (b !== BACKSLASH || i + 1 >= end) {
      out.push(b);
      continue;
    }
    const c = src[++i];
    if (c >= 48 && c <= 55) {
      let v = c - 48;
      for (let k = 0; k < 2 && i + 1 < end && src[i + 1] >= 48 && src[i + 1] <= 55; k++) v = v * 8 + (src[++i] - 48);
      out.push(v & 0xff);
    } else if (c === 120 && i + 1 < end && HEX[src[i + 1]] >= 0) {
      let v = HEX[src[++i]];
      if (i + 1 < end && HEX[src[i + 1]] >= 0) v = v * 16 + HEX[src[++i]];
      out.push(v);
    } else out.push(c === 98 ? 8 : c === 102 ? 12 : c === 110 ? 10 : c === 114 ? 13 : c === 116 ? 9 : c === 118 ? 11 : c);
  }
  return Uint8Array.from(out);
}

function badValue(type: string, src: Uint8Array, from: number, end: number): Error {
  return new Error(`binary COPY: cannot encode ${JSON.stringify(Buffer.from(src.subarray(from, end)).toString('utf8'))} as ${type}`);
}
