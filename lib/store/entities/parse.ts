/**
 * Reading keys back: a key string is split into the fields it was built from. Builders join
 * fields with `#`; only the LAST field may contain `#` or `:` (ids from outside, e.g. a
 * `wechat_openid` value `<appId>:<openid>`), so a key parses back to exactly what built it.
 */
/** A key that is not of the type being parsed (a programming error: the caller read the wrong item). */
export class ForeignKeyError extends Error {
  constructor(
    readonly key: string,
    readonly expected: string,
  ) {
    super(`not a ${expected} key: ${key}`);
    this.name = 'ForeignKeyError';
  }
}

/** `<prefix>#a#b#rest…` → [a, b, rest…] with `count` fields; throws on a key of another type. */
export function splitKey(key: string, prefix: string, count: number): string[] {
  const head = `${prefix}#`;
  if (!key.startsWith(head)) throw new ForeignKeyError(key, prefix);
  const out: string[] = [];
  let rest = key.slice(head.length);
  for (let i = 1; i < count; i++) {
    const at = rest.indexOf('#');
    if (at < 0) throw new ForeignKeyError(key, prefix);
    out.push(rest.slice(0, at));
    rest = rest.slice(at + 1);
  }
  out.push(rest);
  if (out.some((f) => f === '')) throw new ForeignKeyError(key, prefix);
  return out;
}

/** A zero-padded number field (lib/store/keys.ts `pad`) read back. */
export function unpad(field: string, key: string, prefix: string): number {
  if (!/^\d{16}$/.test(field)) throw new ForeignKeyError(key, prefix);
  return Number(field);
}
