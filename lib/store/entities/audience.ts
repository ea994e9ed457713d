/**
 * Audiences and campaigns (lib/audiences/): the saved filter, its exact-count runs, the campaign,
 * the per-member campaign marker and the page markers that make every page of a paged job count
 * once (docs/design.md#audiences).
 *
 *   audience          AUDIENCE#<audienceId> | #              name, filter, createdAt, countRun (the latest exact count)
 *   audience count    AUDIENCE#<audienceId> | COUNT#<run>    segments, segmentsDone, matched, startedAt, updatedAt
 *   campaign          CAMPAIGN#<campaignId> | #              name, audienceId, filter (as sent), message, segments,
 *                                                             segmentsDone, planned, createdAt
 *   campaign member   MEMBER#<memberId> | CAMPAIGN#<campaignId>   gsi1: CAMPAIGNM#<campaignId>#<shard 0..7> | <memberId>
 *                     the member was planned for the campaign (once: created with its outbox row and the
 *                     campaign's `planned` count in one transaction); messageId; TTL HUB_MESSAGE_RETENTION_DAYS
 *   job page          PAGE#<count|campaign>#<id>#<run> | <segment>#<cursor digest>   a page of a paged job that
 *                     was counted; TTL 7 days
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { bucketOf, stableId } from '../../ids.ts';
import type { Store } from '../client.ts';
import { TxConditionFailed } from '../errors.ts';
import { getItem, itemsByKey, queryPage } from '../item-ops.ts';
import { keys, ROOT, TTL_ATTRIBUTE, type Key } from '../keys.ts';
import { Tx } from '../tx.ts';
import type { OutboxRow } from '../../events/messages.ts';
import { outbox } from './outbox.ts';
import { sendKey } from './send.ts';

const AUDIENCE = 'AUDIENCE';
const CAMPAIGN = 'CAMPAIGN';
const CAMPAIGN_MEMBERS = 'CAMPAIGNM';
const PAGE = 'PAGE';
const COUNT_SK = 'COUNT#';
/** Index partitions of a campaign's members (reads of the report spread over them). */
export const CAMPAIGN_MEMBER_SHARDS = 8;
const PAGE_TTL_SECONDS = 7 * 86_400;

export const audienceKey = (audienceId: string): Key => ({ pk: `${AUDIENCE}#${audienceId}`, sk: ROOT });
export const audienceCountKey = (audienceId: string, run: string): Key => ({ pk: `${AUDIENCE}#${audienceId}`, sk: `${COUNT_SK}${run}` });
export const campaignKey = (campaignId: string): Key => ({ pk: `${CAMPAIGN}#${campaignId}`, sk: ROOT });
export const campaignMemberKey = (campaignId: string, memberId: string): Key => ({ pk: keys.memberPartition(memberId), sk: `${CAMPAIGN}#${campaignId}` });
export const campaignMemberPartition = (campaignId: string, shard: number): string => `${CAMPAIGN_MEMBERS}#${campaignId}#${shard}`;

export type JobKind = 'count' | 'campaign';
export interface PageRef {
  kind: JobKind;
  id: string;
  run: string;
  segment: number;
  cursor?: string;
}
export const pageKey = (p: PageRef): Key => ({ pk: `${PAGE}#${p.kind}#${p.id}#${p.run}`, sk: `${p.segment}#${stableId(p.cursor ?? '')}` });

export interface StoredAudience {
  audienceId: string;
  name: string;
  filter: Record<string, unknown>;
  createdAt: number;
  countRun?: string;
}

export interface AudienceCount {
  run: string;
  segments: number;
  segmentsDone: number;
  matched: number;
  startedAt: number;
  updatedAt: number;
}

export interface StoredCampaign {
  campaignId: string;
  name: string;
  audienceId: string;
  filter: Record<string, unknown>;
  message: Record<string, unknown>;
  segments: number;
  segmentsDone: number;
  planned: number;
  createdAt: number;
}

/** What a page adds to its job: matched members (a count), a finished segment. */
export interface PageTally {
  matched: number;
  segmentDone: boolean;
}

/** Commits a transaction that creates the item tagged `tag`: false when it existed (nothing written). */
async function commitOnce(s: Store, tx: Tx, tag: string): Promise<boolean> {
  try {
    await tx.commit(s.db);
    return true;
  } catch (err) {
    if (err instanceof TxConditionFailed && err.tags.includes(tag)) return false;
    throw err;
  }
}

/** The job item a page's tally goes to. */
function jobKey(p: PageRef): Key {
  return p.kind === 'count' ? audienceCountKey(p.id, p.run) : campaignKey(p.id);
}

export const audiences = {
  async create(s: Store, a: StoredAudience): Promise<void> {
    const tx = new Tx(s.table).create('audience', audienceKey(a.audienceId), { ...a });
    await tx.commit(s.db);
  },

  get(s: Store, audienceId: string): Promise<StoredAudience | undefined> {
    return getItem<StoredAudience>(s, audienceKey(audienceId), { consistent: true });
  },

  /** A new exact-count run, named on the audience (the count a reader reports is the latest run's). */
  async startCount(s: Store, audienceId: string, run: string, segments: number, at: number, firstPages: readonly OutboxRow[]): Promise<void> {
    const tx = new Tx(s.table)
      .create('audience count', audienceCountKey(audienceId, run), { run, segments, segmentsDone: 0, matched: 0, startedAt: at, updatedAt: at })
      .update('audience', audienceKey(audienceId), { update: 'SET countRun = :r', values: { ':r': run } }, { expr: 'attribute_exists(pk)' });
    for (const row of firstPages) outbox.plan(tx, row);
    await tx.commit(s.db);
  },

  count(s: Store, audienceId: string, run: string): Promise<AudienceCount | undefined> {
    return getItem<AudienceCount>(s, audienceCountKey(audienceId, run), { consistent: true });
  },
};

export const campaigns = {
  /** The campaign with the outbox rows of its first pages (one transaction: the outbox sweep enqueues them if the caller cannot). */
  async create(s: Store, c: StoredCampaign, firstPages: readonly OutboxRow[]): Promise<void> {
    const tx = new Tx(s.table).create('campaign', campaignKey(c.campaignId), { ...c });
    for (const row of firstPages) outbox.plan(tx, row);
    await tx.commit(s.db);
  },

  get(s: Store, campaignId: string): Promise<StoredCampaign | undefined> {
    return getItem<StoredCampaign>(s, campaignKey(campaignId), { consistent: true });
  },

  /**
   * Plans the campaign's message for one member, once: the member marker (created), the outbox
   * row and the campaign's `planned` count in one transaction. False when the member was planned
   * before (a redelivered page): nothing is written.
   */
  async planMember(s: Store, row: OutboxRow, campaignId: string, retentionDays: number): Promise<boolean> {
    const shard = bucketOf(row.memberId, CAMPAIGN_MEMBER_SHARDS);
    const tx = new Tx(s.table)
      .create('campaign member', campaignMemberKey(campaignId, row.memberId), {
        campaignId,
        memberId: row.memberId,
        messageId: row.messageId,
        plannedAt: row.createdAt,
        gsi1pk: campaignMemberPartition(campaignId, shard),
        gsi1sk: row.memberId,
        [TTL_ATTRIBUTE]: Math.ceil(row.createdAt / 1000) + retentionDays * 86_400,
      })
      .add(campaignKey(campaignId), { planned: 1 });
    outbox.plan(tx, row);
    return commitOnce(s, tx, 'campaign member');
  },

  /** One page of the message ids planned for a campaign in one index shard. */
  async memberPage(s: Store, campaignId: string, shard: number, startKey?: Record<string, unknown>): Promise<{ messageIds: string[]; lastKey?: Record<string, unknown> }> {
    const page = await queryPage<{ messageId: unknown }>(s, { index: true, pk: campaignMemberPartition(campaignId, shard), projection: 'messageId', limit: 500, ...(startKey ? { startKey } : {}) });
    return { messageIds: page.items.map((i) => String(i.messageId)), ...(page.lastKey ? { lastKey: page.lastKey } : {}) };
  },

  /** The send records of these messages (status, reason); messages without one are left out. */
  async sendStates(s: Store, messageIds: readonly string[]): Promise<{ messageId: string; status: string; reason?: string }[]> {
    const items = await itemsByKey(s, messageIds.map(sendKey));
    return items.map((i) => ({ messageId: String(i.messageId), status: String(i.status), ...(typeof i.reason === 'string' ? { reason: i.reason } : {}) }));
  },
};

export const jobPages = {
  /** Whether this page was counted already (a redelivery). */
  async done(s: Store, p: PageRef): Promise<boolean> {
    const res = await s.db.send(new GetCommand({ TableName: s.table, Key: pageKey(p), ConsistentRead: true, ProjectionExpression: 'pk' }));
    return res.Item !== undefined;
  },

  /**
   * Records the page, adds its tally to the job and plans the outbox row of the next page, once:
   * false when the page was recorded before (nothing written).
   */
  async record(s: Store, p: PageRef, tally: PageTally, at: number, next?: OutboxRow): Promise<boolean> {
    const tx = new Tx(s.table).create('job page', pageKey(p), { at, matched: tally.matched, [TTL_ATTRIBUTE]: Math.ceil(at / 1000) + PAGE_TTL_SECONDS });
    const count = p.kind === 'count';
    tx.update(
      'job',
      jobKey(p),
      { update: `ADD segmentsDone :d${count ? ', matched :m' : ''} SET updatedAt = :at`, values: { ':d': tally.segmentDone ? 1 : 0, ':at': at, ...(count ? { ':m': tally.matched } : {}) } },
      { expr: 'attribute_exists(pk)' },
    );
    if (next) outbox.plan(tx, next);
    return commitOnce(s, tx, 'job page');
  },
};

/** Whether the job item still exists (a page of a job that is gone has nothing to do). */
export function jobExists(s: Store, kind: JobKind, id: string, run: string): Promise<boolean> {
  return getItem(s, kind === 'count' ? audienceCountKey(id, run) : campaignKey(id)).then((i) => i !== undefined);
}
