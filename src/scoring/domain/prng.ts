/**
 * Seeded pseudo-random numbers for reproducible sampling and simulations.
 * Mulberry32: 32-bit state, period 2^32, good enough for sampling and tests (not for cryptography).
 */
export type Random = () => number;

/** Returns a generator of uniform numbers in [0, 1) fully determined by `seed`. */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draw (Box-Muller). */
export function normal(random: Random): number {
  let u = random();
  while (u <= 0) u = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** Gamma(shape, rate) draw, Marsaglia & Tsang (2000), with the shape < 1 boost. */
export function gamma(random: Random, shape: number, rate: number): number {
  if (shape < 1) {
    let u = random();
    while (u <= 0) u = random();
    return gamma(random, shape + 1, rate) * Math.pow(u, 1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = random();
    if (u < 1 - 0.0331 * x * x * x * x) return (d * v) / rate;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return (d * v) / rate;
  }
}

/** Beta(a, b) draw as a ratio of gammas. */
export function beta(random: Random, a: number, b: number): number {
  const x = gamma(random, a, 1);
  const y = gamma(random, b, 1);
  return x / (x + y);
}

/** Exponential draw with the given rate. */
export function exponential(random: Random, rate: number): number {
  let u = random();
  while (u <= 0) u = random();
  return -Math.log(u) / rate;
}
