/**
 * A small seeded PRNG (sfc32) with the draws the generator needs. Deterministic for a seed, and fast enough for
 * the tens of millions of draws of a million-patient clinic (faker is used only to build the name and place pools).
 */
export class SeedRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 15; i++) this.next();
  }

  /**
   * The generator of one stream of a seed (the seed's generation block `stream`, seed-block.ts): its four words from
   * splitmix32 of the seed and the stream, so that neighbouring streams share nothing.
   */
  static stream(seed: number, stream: number): SeedRandom {
    const rng = new SeedRandom(0);
    let x = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(stream | 0, 0x85ebca6b)) >>> 0;
    const splitmix = (): number => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    rng.a = splitmix();
    rng.b = splitmix();
    rng.c = splitmix();
    rng.d = splitmix();
    for (let i = 0; i < 15; i++) rng.next();
    return rng;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.a >>>= 0;
    this.b >>>= 0;
    this.c >>>= 0;
    this.d >>>= 0;
    let t = (this.a + this.b) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.d = (this.d + 1) | 0;
    t = (t + this.d) | 0;
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** An item drawn with the given relative weights. */
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of items) total += w;
    let r = this.next() * total;
    for (const [item, w] of items) {
      r -= w;
      if (r < 0) return item;
    }
    return items[items.length - 1][0];
  }

  /** Multiplicative jitter: `value * (1 ± spread)`. */
  jitter(value: number, spread: number): number {
    return value * (1 + (this.next() * 2 - 1) * spread);
  }
}
