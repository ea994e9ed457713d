/**
 * Keys of rows filed by local day and time: `<PREFIX>#<local day> | <at, 16 digits>#<id>`
 * (refusals kept for review, audit entries): one partition per day, oldest first within it.
 */
import { ForeignKeyError, pad, splitKey, type Key } from '../keys.ts';

export function dayTimedKeys(prefix: string, what: string) {
  const partition = (localDay: string): string => `${prefix}#${localDay}`;
  return {
    partition,
    build: (localDay: string, at: number, id: string): Key => ({ pk: partition(localDay), sk: `${pad(at)}#${id}` }),
    /** The parts of such a key; throws ForeignKeyError on any other key. */
    parse(k: Key): { day: string; at: number; id: string } {
      const day = splitKey(k.pk, prefix, 1, what)[0]!;
      const m = /^(\d{16})#(.+)$/.exec(k.sk);
      if (!m) throw new ForeignKeyError(`${k.pk} ${k.sk}`, what);
      return { day, at: Number(m[1]), id: m[2]! };
    },
  };
}
