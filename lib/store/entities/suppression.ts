/**
 * Suppression rows: `MEMBER#<memberId> | SUPPRESS#<at>#<messageId>`, one per message the
 * sender decided not to send, with the reason (kept for review; TTL HUB_MESSAGE_RETENTION_DAYS).
 */
import type { OutboxRow } from '../../events/messages.ts';
import { TTL_ATTRIBUTE } from '../keys.ts';
import { memberTimedKeys } from './member-timed.ts';

export const SUPPRESSION_PREFIX = 'SUPPRESS#' as const;

const KEYS = memberTimedKeys(SUPPRESSION_PREFIX, 'suppression');
export const suppressionKey = KEYS.build;
export const parseSuppressionKey = KEYS.parse;

export interface Suppression {
  row: Pick<OutboxRow, 'messageId' | 'ruleId' | 'step' | 'class' | 'destination'>;
  /** The member partition it is filed under (the merge survivor once known). */
  memberId: string;
  reason: string;
  errcode?: string;
  at: number;
  /** Days the row is kept (HUB_MESSAGE_RETENTION_DAYS). */
  retentionDays: number;
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
    [TTL_ATTRIBUTE]: Math.ceil(x.at / 1000) + x.retentionDays * 86_400,
  };
}
