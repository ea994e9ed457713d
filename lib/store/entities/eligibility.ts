/**
 * Eligibility records of the lift report (lib/insight/lift.ts, docs/design.md#lift): one per
 * marketing message the sender decided on, with the member's arm, written at the first decision.
 *
 *   eligibility           MEMBER#<memberId> | LIFT#<messageId>     gsi1: LIFT#<local day>#<ruleId> | <messageId>
 *   eligibility (erased)  LIFTERASED#<digest> | #                  gsi1: LIFT#<local day>#<ruleId> | <digest>
 *   lift rule day         LIFTDAY#<local day> | <ruleId>           the rules with eligibility on a day
 *
 * Created once per message id (`attribute_not_exists`): a message decided again (deferred by quiet
 * hours, redelivered, retried) keeps its first record. An erasure replaces the person's records by
 * erased copies without the member id and with the conversion frozen (`nextPaidAt`), so the
 * report's counts do not change (lib/privacy/erase.ts).
 */
import type { Store } from '../client.ts';
import { ROOT, splitKey, TTL_ATTRIBUTE, type Key } from '../keys.ts';
import { allItems, putIf, queryPage } from '../item-ops.ts';
import { memberPartition } from './member.ts';
import { stableId } from '../../ids.ts';

export const ELIGIBILITY_PREFIX = 'LIFT#' as const;
const ERASED_PREFIX = 'LIFTERASED';
const RULE_DAY_PREFIX = 'LIFTDAY';

export type Arm = 'treated' | 'holdout';

export interface Eligibility {
  messageId: string;
  /** The member record decided on (the merge survivor then). */
  memberId: string;
  /** The rule, or `campaign:<campaignId>`. */
  ruleId: string;
  step: string;
  arm: Arm;
  /** The first decision, epoch ms; `day` is its local day. */
  eligibleAt: number;
  day: string;
  /** What that decision was: `send`, `defer` or the suppression reason. */
  decision: string;
}

/** A record as the report reads it: the member's, or an erased one with its conversion frozen. */
export interface EligibilityRow {
  ruleId: string;
  arm: Arm;
  eligibleAt: number;
  memberId?: string;
  /** Erased records only: the first paid order at or after `eligibleAt`, epoch ms, or absent for none. */
  nextPaidAt?: number;
  erased?: true;
  /** TTL, epoch seconds (DynamoDB deletes lazily: the report compares it). */
  expiresAt?: number;
}

export const eligibilityKey = (memberId: string, messageId: string): Key => ({ pk: memberPartition(memberId), sk: `${ELIGIBILITY_PREFIX}${messageId}` });
/** The gsi1 partition of one rule's records of one local day. */
export const eligibilityDayPartition = (day: string, ruleId: string): string => `${ELIGIBILITY_PREFIX}${day}#${ruleId}`;
const ruleDayKey = (day: string, ruleId: string): Key => ({ pk: `${RULE_DAY_PREFIX}#${day}`, sk: ruleId });

/** `LIFT#<day>#<ruleId>` → its parts (the rule id may contain `#` and `:`). */
export function parseEligibilityDayPartition(pk: string): { day: string; ruleId: string } {
  const [day, ruleId] = splitKey(pk, 'LIFT', 2, 'eligibility day') as [string, string];
  return { day, ruleId };
}

/** Rule-day markers this process has written (one write per rule, day and table per container). */
const markers = new Set<string>();
const MAX_MARKERS = 10_000;

function rowOf(item: Record<string, unknown>): EligibilityRow {
  return {
    ruleId: String(item.ruleId),
    arm: item.arm === 'holdout' ? 'holdout' : 'treated',
    eligibleAt: Number(item.eligibleAt),
    ...(typeof item.memberId === 'string' && { memberId: item.memberId }),
    ...(typeof item.nextPaidAt === 'number' && { nextPaidAt: item.nextPaidAt }),
    ...(item.erased === true && { erased: true as const }),
    ...(typeof item[TTL_ATTRIBUTE] === 'number' && { expiresAt: item[TTL_ATTRIBUTE] }),
  };
}

export const eligibility = {
  /**
   * Records the eligibility once per message id; false when the message already has one (a later
   * decision of the same message). The rule-day marker is written first, so a record is always
   * listed under its day.
   */
  async record(store: Store, e: Eligibility, retentionDays: number): Promise<boolean> {
    const marker = `${store.table}\u0000${e.day}\u0000${e.ruleId}`;
    if (!markers.has(marker)) {
      await putIf(store, { Item: { ...ruleDayKey(e.day, e.ruleId), ruleId: e.ruleId, day: e.day } });
      if (markers.size >= MAX_MARKERS) markers.clear();
      markers.add(marker);
    }
    return putIf(store, {
      Item: {
        ...eligibilityKey(e.memberId, e.messageId),
        gsi1pk: eligibilityDayPartition(e.day, e.ruleId),
        gsi1sk: e.messageId,
        ...e,
        [TTL_ATTRIBUTE]: Math.ceil(e.eligibleAt / 1000) + retentionDays * 86_400,
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  },

  /** The rules with eligibility records on a local day. */
  async rulesOn(store: Store, day: string): Promise<string[]> {
    return (await allItems(store, { pk: `${RULE_DAY_PREFIX}#${day}` })).map((i) => String(i.sk));
  },

  /** Every record of one rule and local day (the member's and erased ones). */
  async listDay(store: Store, day: string, ruleId: string): Promise<EligibilityRow[]> {
    return (await allItems(store, { gsi1pk: eligibilityDayPartition(day, ruleId) })).map(rowOf);
  },

  /** The records filed in one member partition, as stored. */
  async inPartition(store: Store, memberId: string): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await queryPage(store, { pk: memberPartition(memberId), prefix: ELIGIBILITY_PREFIX, consistent: true, limit: 500, ...(startKey && { startKey }) });
      out.push(...page.items);
      startKey = page.lastKey;
    } while (startKey);
    return out;
  },

  /**
   * The erased copy of a member's record: same rule, day, arm and time, no member id, the
   * conversion frozen as `nextPaidAt`. Created once (an interrupted erasure repeats it harmlessly).
   */
  eraseCopy(store: Store, item: Record<string, unknown>, nextPaidAt: number | undefined, at: number): Promise<boolean> {
    const digest = stableId('erased-eligibility', String(item.messageId));
    return putIf(store, {
      Item: {
        pk: `${ERASED_PREFIX}#${digest}`,
        sk: ROOT,
        gsi1pk: item.gsi1pk,
        gsi1sk: digest,
        ruleId: item.ruleId,
        day: item.day,
        arm: item.arm,
        eligibleAt: item.eligibleAt,
        ...(nextPaidAt !== undefined && { nextPaidAt }),
        erased: true,
        erasedAt: at,
        ...(item[TTL_ATTRIBUTE] !== undefined && { [TTL_ATTRIBUTE]: item[TTL_ATTRIBUTE] }),
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  },
};
