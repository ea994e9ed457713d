/**
 * Dedupe markers: `DEDUPE#<eventId>` | `#`, created in every event's transaction (tag `dedupe`)
 * so a redelivery fails the commit and is answered with the first delivery's outcome; the marker
 * keeps the outbox rows that commit planned, drained again by the redelivery. TTL
 * HUB_DEDUPE_TTL_DAYS.
 */
import { parseRootKey, ROOT, type Key } from '../keys.ts';
import type { Tx } from '../tx.ts';

const PREFIX = 'DEDUPE';
/** The transaction tag of the marker (a failed condition on it means a redelivery). */
export const DEDUPE_TAG = 'dedupe';

export interface DedupeMarker {
  eventId: string;
  type: string;
  at: number;
  memberId?: string;
  /** Outbox message ids planned by the event's commit. */
  outbox?: string[];
  result?: Record<string, unknown>;
  expiresAt: number;
}

export const dedupeKey = (eventId: string): Key => ({ pk: `${PREFIX}#${eventId}`, sk: ROOT });
export function parseDedupeKey(k: Key): { eventId: string } {
  return { eventId: parseRootKey(k, PREFIX, 'dedupe') };
}

/** What a redelivery needs from the stored marker (tolerant of a partial item). */
export function markerFromItem(item: Record<string, unknown>): { memberId?: string; outbox: string[]; result?: Record<string, unknown> } {
  return {
    outbox: Array.isArray(item.outbox) ? (item.outbox as string[]) : [],
    ...(typeof item.memberId === 'string' ? { memberId: item.memberId } : {}),
    ...(item.result && typeof item.result === 'object' ? { result: item.result as Record<string, unknown> } : {}),
  };
}

export const dedupe = {
  /** Creates the marker in `tx`: fails the commit (tag DEDUPE_TAG) when the event was applied already. */
  create(tx: Tx, m: DedupeMarker): void {
    const { eventId, type, at, memberId, outbox, result, expiresAt } = m;
    tx.create(DEDUPE_TAG, dedupeKey(eventId), {
      eventId,
      type,
      at,
      ...(memberId ? { memberId } : {}),
      ...(outbox?.length ? { outbox } : {}),
      ...(result ? { result } : {}),
      expiresAt,
    });
  },
};
