/**
 * Due work: a member's scheduled nudge (repurchase ladder step, lapse alert, birthday).
 *
 *   MEMBER#<memberId> | DUE#<kind>#<key>    gsi1 (while pending): DUE#<local day> | <dueAt, padded>#<memberId>
 *
 * One row per kind and key (a reschedule replaces it); the nudge sweep marks it done in the
 * transaction that plans its message, which takes it out of the index.
 */
import { ForeignKeyError, pad, splitKey, unpad, type Key } from '../keys.ts';
import type { Store } from '../client.ts';
import type { Tx } from '../tx.ts';
import { queryIndex } from '../item-ops.ts';
import { localDay } from '../../time.ts';
import { memberPartition, parseMemberPartition } from './member.ts';

const SK_PREFIX = 'DUE';
const INDEX_PREFIX = 'DUE';

/** What the data layer needs of a due row; the schedule's row type extends it. */
export interface DueItem {
  memberId: string;
  kind: string;
  key: string;
  dueAt: number;
}

export const dueKey = (memberId: string, kind: string, key: string): Key => ({ pk: memberPartition(memberId), sk: `${SK_PREFIX}#${kind}#${key}` });

export function parseDueKey(k: Key): { memberId: string; kind: string; key: string } {
  const [kind, key] = splitKey(k.sk, SK_PREFIX, 2) as [string, string];
  return { memberId: parseMemberPartition(k.pk), kind, key };
}

export const duePartition = (localDay: string): string => `${INDEX_PREFIX}#${localDay}`;
export const dueIndex = (localDay: string, dueAt: number, memberId: string) => ({
  gsi1pk: duePartition(localDay),
  gsi1sk: `${pad(dueAt)}#${memberId}`,
});

/** `<dueAt, padded>#<memberId>` → {dueAt, memberId}. */
export function parseDueIndexSk(gsi1sk: string): { dueAt: number; memberId: string } {
  const at = gsi1sk.indexOf('#');
  const field = at < 0 ? gsi1sk : gsi1sk.slice(0, at);
  const memberId = at < 0 ? '' : gsi1sk.slice(at + 1);
  if (!memberId) throw new ForeignKeyError(gsi1sk, 'due index');
  return { dueAt: unpad(field, gsi1sk, 'due index'), memberId };
}

export const dues = {
  /** Schedules (or reschedules) a row; `tag` names it in the transaction. */
  write(tx: Tx, tag: string, row: DueItem, tz: string): void {
    tx.put(tag, dueKey(row.memberId, row.kind, row.key), { ...row, ...dueIndex(localDay(row.dueAt, tz), row.dueAt, row.memberId) });
  },

  /** Done: out of the index, with its outcome; fails (tag `due`) if another sweep took it or it moved. */
  markDone(tx: Tx, row: DueItem, outcome: string, now: number): void {
    tx.update(
      'due',
      dueKey(row.memberId, row.kind, row.key),
      { update: 'SET doneAt = :t, outcome = :o REMOVE gsi1pk, gsi1sk', values: { ':t': now, ':o': outcome } },
      { expr: 'attribute_exists(gsi1pk) AND dueAt = :d', values: { ':d': row.dueAt } },
    );
  },

  /** Pending rows of a local day due at or before `upTo`, oldest first, page by page. */
  listDue<T extends DueItem>(store: Store, day: string, upTo: number): AsyncGenerator<T> {
    return queryIndex<T>(store, { pk: duePartition(day), skAtMost: `${pad(upTo)}#~` });
  },
};
