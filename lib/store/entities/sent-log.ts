/**
 * Sent-log rows: `MEMBER#<memberId> | SENT#<at>#<messageId>`, one per message that went out
 * (or may have: outcome `unknown`). They feed the engagement caps (last 7 days) and expire
 * after SENT_LOG_TTL_MS.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { OutboxRow } from '../../events/messages.ts';
import type { Store } from '../client.ts';
import { pad, TTL_ATTRIBUTE } from '../keys.ts';
import { memberPartition } from './member.ts';
import { memberTimedKeys } from './member-timed.ts';

export const SENT_LOG_PREFIX = 'SENT#' as const;
/** Sent-log rows only feed the caps (7 days); kept a little longer for inspection. */
export const SENT_LOG_TTL_MS = 35 * 86_400_000;

const KEYS = memberTimedKeys(SENT_LOG_PREFIX, 'sent-log');
export const sentLogKey = KEYS.build;
export const parseSentLogKey = KEYS.parse;

export interface SentLogEntry {
  row: Pick<OutboxRow, 'messageId' | 'ruleId' | 'class'>;
  /** The member partition it is filed under (the merge survivor once known). */
  memberId: string;
  at: number;
  /** How it went out; absent when it is not known whether it did. */
  via?: string;
  /** `unknown`: it may or may not have gone out (counted for the caps, conservatively). */
  outcome?: 'unknown';
}

/** The stored item of a sent-log entry. */
export function sentLogItem(x: SentLogEntry): Record<string, unknown> {
  return {
    ...sentLogKey(x.memberId, x.at, x.row.messageId),
    messageId: x.row.messageId,
    memberId: x.memberId,
    ruleId: x.row.ruleId,
    class: x.row.class,
    ...(x.via !== undefined && { via: x.via }),
    ...(x.outcome !== undefined && { outcome: x.outcome }),
    at: x.at,
    [TTL_ATTRIBUTE]: Math.ceil((x.at + SENT_LOG_TTL_MS) / 1000),
  };
}

export interface SentRow {
  messageId: string;
  class: string;
  at: number;
  /** `custom` / `template` …; absent when it is not known whether it went out. */
  via?: string;
}

/**
 * The member partition's sent-log rows from `from` to `to` (epoch ms, both inclusive), oldest
 * first: one Query per page of `pageSize`, at most `pages` pages.
 */
export async function sentRows(s: Store, memberId: string, from: number, to: number, o: { pages: number; pageSize: number }): Promise<SentRow[]> {
  const out: SentRow[] = [];
  let startKey: Record<string, unknown> | undefined;
  for (let page = 0; page < o.pages; page++) {
    const res = await s.db.send(
      new QueryCommand({
        TableName: s.table,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeNames: { '#c': 'class', '#at': 'at', '#m': 'messageId', '#v': 'via' },
        ExpressionAttributeValues: {
          ':pk': memberPartition(memberId),
          ':from': `${SENT_LOG_PREFIX}${pad(from)}`,
          ':to': `${SENT_LOG_PREFIX}${pad(to)}#\uffff`,
        },
        ProjectionExpression: '#c, #at, #m, #v',
        Limit: o.pageSize,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of res.Items ?? []) {
      out.push({ messageId: String(item.messageId), class: String(item.class), at: Number(item.at), ...(typeof item.via === 'string' && { via: item.via }) });
    }
    startKey = res.LastEvaluatedKey;
    if (!startKey) break;
  }
  return out;
}
