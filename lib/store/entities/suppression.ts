/**
 * Suppression rows: `MEMBER#<memberId> | SUPPRESS#<at>#<messageId>`, one per message the
 * sender decided not to send, with the reason (kept for review; no TTL).
 */
import type { OutboxRow } from '../../events/messages.ts';
import { keys, pad, type Key } from '../keys.ts';

export const SUPPRESSION_PREFIX = 'SUPPRESS#';

export const suppressionKey = (memberId: string, at: number, messageId: string): Key => ({
  pk: keys.memberPartition(memberId),
  sk: `${SUPPRESSION_PREFIX}${pad(at)}#${messageId}`,
});

/** The parts of a suppression key; throws on any other key. */
export function parseSuppressionKey(k: Key): { memberId: string; at: number; messageId: string } {
  const m = /^MEMBER#(.+)$/.exec(k.pk);
  const s = /^SUPPRESS#(\d{16})#(.+)$/.exec(k.sk);
  if (!m || !s) throw new Error(`not a suppression key: ${k.pk} | ${k.sk}`);
  return { memberId: m[1]!, at: Number(s[1]), messageId: s[2]! };
}

export interface Suppression {
  row: Pick<OutboxRow, 'messageId' | 'ruleId' | 'step' | 'class' | 'destination'>;
  /** The member partition it is filed under (the merge survivor once known). */
  memberId: string;
  reason: string;
  errcode?: string;
  at: number;
}

/** The stored item of a suppression. */
export function suppressionItem(x: Suppression): Record<string, unknown> {
  return {
    ...suppressionKey(x.memberId, x.at, x.row.messageId),
    messageId: x.row.messageId,
    memberId: x.memberId,
    ruleId: x.row.ruleId,
    step: x.row.step,
    class: x.row.class,
    destination: x.row.destination,
    reason: x.reason,
    ...(x.errcode !== undefined && { errcode: x.errcode }),
    at: x.at,
  };
}
