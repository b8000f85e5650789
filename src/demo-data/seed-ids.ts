import { randomBytes } from 'node:crypto';

/**
 * Primary keys for bulk loading, generated here so that child rows can reference their patient without a round
 * trip. Time-ordered like UUIDv7 (48-bit start time in ms, version 7, a per-table tag, RFC 4122 variant, 30 random
 * bits of this run, then a 32-bit counter), so each table's primary-key index is filled in order instead of at
 * random pages. Different runs never collide: the start time and the run's random bits differ.
 */
export class SeedIds {
  /** This run's prefix of a table's ids (everything but the counter): made once per run, shared by its generator threads. */
  static prefix(startedAtMs: number, tag: number): string {
    const time = Math.floor(startedAtMs).toString(16).padStart(12, '0').slice(-12);
    // 2 variant bits (10) + 30 random bits of this run; the 32-bit counter follows.
    const high = ((0x80000000 | (randomBytes(4).readUInt32BE(0) & 0x3fffffff)) >>> 0).toString(16).padStart(8, '0');
    return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${(tag & 0xfff).toString(16).padStart(3, '0')}-${high.slice(0, 4)}-${high.slice(4, 8)}`;
  }

  constructor(private readonly prefix: string) {}

  /** The id of counter `n` (0 to 2^32 - 1) of this table in this run. */
  id(n: number): string {
    const hex = (n >>> 0).toString(16);
    return this.prefix + '00000000'.slice(hex.length) + hex;
  }
}
