/**
 * Keys of rows filed in a member's partition by time and message: `MEMBER#<memberId> |
 * <prefix><at, 16 digits>#<messageId>` (sent-log and suppression rows; `prefix` ends in `#`).
 */
import { pad, splitKey, unpad, type Key } from '../keys.ts';
import { memberPartition, parseMemberPartition } from './member.ts';

export function memberTimedKeys(prefix: `${string}#`, what: string) {
  const name = prefix.slice(0, -1);
  return {
    build: (memberId: string, at: number, messageId: string): Key => ({ pk: memberPartition(memberId), sk: `${prefix}${pad(at)}#${messageId}` }),
    /** The parts of such a key; throws ForeignKeyError on any other key. */
    parse(k: Key): { memberId: string; at: number; messageId: string } {
      const [at, messageId] = splitKey(k.sk, name, 2, what) as [string, string];
      return { memberId: parseMemberPartition(k.pk), at: unpad(at, k.sk, what), messageId };
    },
  };
}
