/**
 * Seeded randomness for tests, so a failing scenario replays exactly: mulberry32, and draws and
 * shuffles that each start from their own seed.
 */

/** A source of uniform numbers in [0, 1). */
export type Rng = () => number;

/** Mulberry32: a small, fast, seedable PRNG (uniform in [0, 1)). */
export function seededRandom(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` elements of `xs` drawn with replacement. */
export function pick<T>(xs: readonly T[], n: number, seed: number): T[] {
  const rnd = seededRandom(seed);
  return Array.from({ length: n }, () => xs[Math.floor(rnd() * xs.length)]!);
}

/** Shuffles `xs` in place (Fisher–Yates). */
export function shuffle<T>(xs: T[], seed: number): void {
  const rnd = seededRandom(seed);
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
}
