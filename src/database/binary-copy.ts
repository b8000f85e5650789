/**
 * PostgreSQL's binary COPY format (`COPY ... FROM STDIN (FORMAT binary)`), written from values rather than text: the
 * server stores each field with its type's `recv` function instead of parsing it from text (a timestamptz, a real and
 * a uuid cost it far more to parse than to receive), and Node writes numbers and ids into a buffer instead of building
 * strings. Only the types its callers write are here; each must match the column's type exactly (an int4 column takes
 * 4 bytes, a timestamptz 8), which the caller's column list fixes.
 *
 * Layout (PostgreSQL's documentation, "COPY", "Binary Format"): a 19-byte header, then per tuple a 16-bit field count
 * and per field a 32-bit length (-1: null) and its bytes, then a 16-bit -1.
 */

/** The header: signature, flags (0: no OIDs), header extension length (0). */
const HEADER = Uint8Array.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]);
/** Milliseconds between the Unix epoch and PostgreSQL's (2000-01-01). */
const PG_EPOCH_MS = 946_684_800_000;
const TWO_32 = 4_294_967_296;

/** A hexadecimal digit's value by character code, -1 for any other character. */
const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[65 + i] = 10 + i;
  HEX[97 + i] = 10 + i;
}
/** Where each of a canonical uuid's 16 bytes starts in its 36 characters. */
const UUID_BYTE_AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];

/** rint: the nearest integer, ties to even (C's rint in the default rounding mode; Math.round sends ties up). */
function rint(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The instant `to_timestamp(ms / 1000)` gives, as PostgreSQL stores a timestamptz: microseconds since 2000-01-01.
 * to_timestamp(float8) subtracts the epochs' difference from the seconds, multiplies by a million and rounds with rint;
 * the same float8 arithmetic here.
 */
export function timestampMicros(ms: number): number {
  if (!Number.isFinite(ms)) throw new RangeError(`binary COPY: timestamp ${ms} is not finite`);
  return rint((ms / 1000 - PG_EPOCH_MS / 1000) * 1_000_000);
}

/**
 * Writes binary COPY data into buffers of about `pieceBytes` each (`pieces()`: header first, trailer last), one tuple
 * at a time: `tuple(n)`, then exactly n fields. A piece is cut only between tuples, so each can be written to the COPY
 * stream as soon as it is full (the caller streams them in order).
 */
export class BinaryCopyWriter {
  private readonly done: Buffer[] = [];
  private buf: Buffer;
  private at = 0;

  constructor(private readonly pieceBytes = 256 * 1024) {
    this.buf = Buffer.allocUnsafe(pieceBytes);
    this.buf.set(HEADER, 0);
    this.at = HEADER.length;
  }

  /** Starts a tuple of `fields` fields (a new piece when this one is past its size). */
  tuple(fields: number): void {
    if (this.at >= this.pieceBytes) this.cut();
    this.reserve(2);
    this.buf.writeInt16BE(fields, this.at);
    this.at += 2;
  }

  null(): void {
    this.reserve(4);
    this.buf.writeInt32BE(-1, this.at);
    this.at += 4;
  }

  /** A canonical uuid (8-4-4-4-12 hexadecimal digits). */
  uuid(value: string): void {
    if (
      value.length !== 36 ||
      value.charCodeAt(8) !== 45 ||
      value.charCodeAt(13) !== 45 ||
      value.charCodeAt(18) !== 45 ||
      value.charCodeAt(23) !== 45
    )
      throw new RangeError(`binary COPY: not a uuid`);
    this.reserve(20);
    const b = this.buf;
    b.writeInt32BE(16, this.at);
    let at = this.at + 4;
    for (const i of UUID_BYTE_AT) {
      const hi = HEX[value.charCodeAt(i)] ?? -1;
      const lo = HEX[value.charCodeAt(i + 1)] ?? -1;
      if (hi < 0 || lo < 0) throw new RangeError(`binary COPY: not a uuid`);
      b[at++] = (hi << 4) | lo;
    }
    this.at = at;
  }

  /** text or varchar: the UTF-8 bytes (the server checks a varchar's length as its text input would). */
  text(value: string): void {
    this.reserve(4 + value.length * 3);
    const n = this.buf.write(value, this.at + 4, 'utf8');
    this.buf.writeInt32BE(n, this.at);
    this.at += 4 + n;
  }

  /** jsonb: its version byte (1) and the JSON text. */
  jsonb(json: string): void {
    this.reserve(5 + json.length * 3);
    this.buf[this.at + 4] = 1;
    const n = this.buf.write(json, this.at + 5, 'utf8');
    this.buf.writeInt32BE(n + 1, this.at);
    this.at += 5 + n;
  }

  /** integer: a whole number within 32 bits (anything else is refused, as the column's text input would refuse it). */
  int4(value: number): void {
    if (!Number.isInteger(value) || value < -2_147_483_648 || value > 2_147_483_647)
      throw new RangeError(`binary COPY: ${value} is not an integer`);
    this.reserve(8);
    this.buf.writeInt32BE(4, this.at);
    this.buf.writeInt32BE(value, this.at + 4);
    this.at += 8;
  }

  /** real: the number rounded to single precision. */
  float4(value: number): void {
    this.reserve(8);
    this.buf.writeInt32BE(4, this.at);
    this.buf.writeFloatBE(value, this.at + 4);
    this.at += 8;
  }

  bool(value: boolean): void {
    this.reserve(5);
    this.buf.writeInt32BE(1, this.at);
    this.buf[this.at + 4] = value ? 1 : 0;
    this.at += 5;
  }

  /** timestamptz from microseconds since 2000-01-01 (timestampMicros). */
  timestamptz(micros: number): void {
    this.reserve(12);
    const hi = Math.floor(micros / TWO_32);
    this.buf.writeInt32BE(8, this.at);
    this.buf.writeInt32BE(hi, this.at + 4);
    this.buf.writeUInt32BE(micros - hi * TWO_32, this.at + 8);
    this.at += 12;
  }

  /** The data written, in pieces, the trailer at the end of the last. The writer is not used after. */
  pieces(): Buffer[] {
    this.reserve(2);
    this.buf.writeInt16BE(-1, this.at);
    this.at += 2;
    this.done.push(this.buf.subarray(0, this.at));
    return this.done;
  }

  private cut(): void {
    this.done.push(this.buf.subarray(0, this.at));
    this.buf = Buffer.allocUnsafe(this.pieceBytes);
    this.at = 0;
  }

  private reserve(bytes: number): void {
    if (this.at + bytes <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + bytes));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }
}
