/**
 * Seeded pseudo-random numbers for reproducible sampling and simulations.
 * Mulberry32: 32-bit state, period 2^32, good enough for sampling and tests (not for cryptography).
 */
// Globals read once into module constants: under Jest, modules run in a vm context where every global lookup
// (Math, Infinity) is slow (Math.log about 20 times slower than a local), which made the model fits' recovery
// tests take minutes instead of seconds (40,000 BG/NBD customers: 19 s → 1.2 s). Outside Jest it changes nothing.
const { PI, cos, imul, log, pow, sqrt } = Math;

export type Random = () => number;

/** Returns a generator of uniform numbers in [0, 1) fully determined by `seed`. */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draw (Box-Muller). */
export function normal(random: Random): number {
  let u = random();
  while (u <= 0) u = random();
  return sqrt(-2 * log(u)) * cos(2 * PI * random());
}

/** Gamma(shape, rate) draw, Marsaglia & Tsang (2000), with the shape < 1 boost. */
export function gamma(random: Random, shape: number, rate: number): number {
  if (shape < 1) {
    let u = random();
    while (u <= 0) u = random();
    return gamma(random, shape + 1, rate) * pow(u, 1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / sqrt(9 * d);
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
    if (log(u) < 0.5 * x * x + d * (1 - v + log(v))) return (d * v) / rate;
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
  return -log(u) / rate;
}
