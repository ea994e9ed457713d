/**
 * Keys of rows filed in a member's partition by time and message: `MEMBER#<memberId> |
 * <prefix><at, 16 digits>#<messageId>` (sent-log and suppression rows).
 */
import { keys, pad, type Key } from '../keys.ts';

export function memberTimedKeys(prefix: string, what: string) {
  const sk = new RegExp(`^${prefix}(\\d{16})#(.+)$`);
  return {
    build: (memberId: string, at: number, messageId: string): Key => ({ pk: keys.memberPartition(memberId), sk: `${prefix}${pad(at)}#${messageId}` }),
    /** The parts of such a key; throws on any other key. */
    parse(k: Key): { memberId: string; at: number; messageId: string } {
      const m = /^MEMBER#(.+)$/.exec(k.pk);
      const s = sk.exec(k.sk);
      if (!m || !s) throw new Error(`not a ${what} key: ${k.pk} | ${k.sk}`);
      return { memberId: m[1]!, at: Number(s[1]), messageId: s[2]! };
    },
  };
}
