/**
 * Comparing records of two runs of the same scenario: drop what each run makes up (ids,
 * versions, timestamps, keys) and rewrite the strings that name the run, then compare the rest.
 */

type Item = Record<string, unknown>;

/** A shallow copy of `item` without the keys in `drop`. */
export function omitKeys(item: Item, drop: readonly string[]): Item {
  const out: Item = {};
  for (const [k, v] of Object.entries(item)) if (!drop.includes(k)) out[k] = v;
  return out;
}

/** A deep copy of `value` with `fn` applied to every string in it, object keys included. */
export function mapStrings<T>(value: T, fn: (s: string) => string): T {
  if (typeof value === 'string') return fn(value) as T;
  if (Array.isArray(value)) return value.map((x: unknown) => mapStrings(x, fn)) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, x]) => [fn(k), mapStrings(x, fn)])) as T;
  return value;
}

/** `item` without the keys in `drop`, every string rewritten by `rewrite`; undefined stays undefined. */
export function stripped(item: Item | undefined, drop: readonly string[], rewrite: (s: string) => string = (s) => s): Item | undefined {
  return item && mapStrings(omitKeys(item, drop), rewrite);
}
