/**
 * The member profile and the member partition.
 *
 *   MEMBER#<memberId> | #PROFILE    gsi1 (sparse): REVIEW#<local day>#<shard> | <memberId>
 *
 * The partition also holds the member's lots, ledger rows, merge records and due work (their
 * own entity modules) under sort-key prefixes. A profile is written whole: created once (tag
 * `member`) or put under the `version` it was read at; a merged-away record keeps its facts,
 * points at the survivor (`mergedInto`) and leaves every index.
 *
 * History: the domain reads and writes `history` with readable names (MemberHistory); the item
 * stores it as `h` with one-letter names and tuples (StoredHistory). Only this module maps
 * between the two (toStored on every profile write, fromStored on every profile read). A long
 * history (more than HISTORY_INLINE_FACTS list facts) lives in month buckets of the member
 * partition instead (lib/store/entities/member-history.ts): the profile then keeps `h.r` and
 * `h.seen`, the bucket months (`hb`) and their digest (`hd`); `get` and `resolve` join the
 * buckets back, so readers always see the whole history, and `write` rewrites only the buckets
 * whose facts changed since the read.
 *
 * Review index: the local day the nightly review (lib/members/nightly.ts) must look at the
 * member again, one partition per day and shard (lib/members/lifecycle.ts REVIEW_SHARDS).
 */
import { keys, splitKey, type Key } from '../keys.ts';
import type { Store } from '../client.ts';
import type { Tx } from '../tx.ts';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { getItem, queryPage, stripKeys } from '../item-ops.ts';
import { TransientError } from '../../errors.ts';
import { bucketJson, bucketsDigest, factCount, fromBuckets, HISTORY_INLINE_FACTS, memberHistory, toBuckets, type BucketFacts } from './member-history.ts';

const PREFIX = 'MEMBER';
const PROFILE_SK = '#PROFILE';
const REVIEW_PREFIX = 'REVIEW';

/** Merge pointers followed at most this many times (a chain longer than this reads as absent). */
const MAX_MERGE_HOPS = 5;

/** A marketing touch: when, and the channel it credits. */
export interface Touch {
  at: number;
  channel: string;
  /** Follows: the WeChat app followed (absent on follows recorded before accounts were per app). */
  app?: string;
}

/** A paid order as the member's history keeps it. */
export interface PaidOrder {
  /** The order's key (`<platform>:<shop>:<order id>`). */
  key: string;
  paidAt: number;
  paidFen: number;
  platform: string;
}

/** The facts attribution and the member programme are computed from (lib/attribution/credits.ts). */
export interface MemberHistory {
  /** follow events */
  follows: Touch[];
  /** unfollow times */
  unfollows: number[];
  /** parametric-QR scans by an existing fan */
  qrScans: Touch[];
  /** code scans, channel = the batch's channel */
  codeScans: Touch[];
  /** registration time */
  registeredAt?: number;
  /** orders that reached `paid` */
  orders: PaidOrder[];
  /** earliest time the hub saw this person at all, with the channel to use when nothing else touched them */
  seen?: Touch;
  /** WeCom: a staff member (`guide`) and the person became contacts, through a contact way's channel (absent when none) */
  contactAdds?: ContactAdd[];
  /** WeCom: a contact with a staff member ended, and by whom */
  contactEnds?: ContactEnd[];
  /** people this member referred (老带新) who registered: when, who, the points it earned (0 past the monthly cap) */
  referrals?: Referral[];
}

/** One person a member referred (lib/loyalty/referrals.ts). */
export interface Referral {
  at: number;
  memberId: string;
  points: number;
}

/** A WeCom add (add_external_contact / add_half_external_contact): when, which guide, the channel of its contact way. */
export interface ContactAdd {
  at: number;
  guide: string;
  channel: string;
}

/** A WeCom contact's end: `staff` (del_external_contact), `customer` (del_follow_user), `transfer` (DELETE_BY_TRANSFER). */
export interface ContactEnd {
  at: number;
  guide: string;
  by: 'staff' | 'customer' | 'transfer';
}

/**
 * The history as stored: short attribute names and positional tuples keep the profile item small
 * (every byte counts against the write units of each event's transaction).
 *
 *   h.f / h.q / h.c  [at, channel][]  (h.f: [at, channel, appId] for a follow on a known app)
 *   h.u  at[]          h.r  at
 *   h.o              [key, paidAt, paidFen, platform][]            h.seen  [at, channel]
 *   h.w  [at, guide, channel][] (WeCom adds)   h.x  [at, guide, by][] (WeCom contact ends)
 *   h.rf             [at, referred memberId, points][]  (only when the member referred someone)
 */
export interface StoredHistory {
  f: ([number, string] | [number, string, string])[];
  u: number[];
  q: [number, string][];
  c: [number, string][];
  r?: number;
  o: [string, number, number, string][];
  seen?: [number, string];
  w?: [number, string, string][];
  x?: [number, string, ContactEnd['by']][];
  rf?: [number, string, number][];
}

const touchToStored = (t: Touch): [number, string] => [t.at, t.channel];
const touchFromStored = ([at, channel]: readonly [number, string]): Touch => ({ at, channel });
const followToStored = (t: Touch): [number, string] | [number, string, string] => (t.app === undefined ? [t.at, t.channel] : [t.at, t.channel, t.app]);
const followFromStored = ([at, channel, app]: readonly [number, string, string?]): Touch => (app === undefined ? { at, channel } : { at, channel, app });

export function historyToStored(h: MemberHistory): StoredHistory {
  return {
    f: h.follows.map(followToStored),
    u: [...h.unfollows],
    q: h.qrScans.map(touchToStored),
    c: h.codeScans.map(touchToStored),
    ...(h.registeredAt !== undefined ? { r: h.registeredAt } : {}),
    o: h.orders.map((o): [string, number, number, string] => [o.key, o.paidAt, o.paidFen, o.platform]),
    ...(h.seen ? { seen: touchToStored(h.seen) } : {}),
    ...(h.contactAdds?.length ? { w: h.contactAdds.map((a): [number, string, string] => [a.at, a.guide, a.channel]) } : {}),
    ...(h.contactEnds?.length ? { x: h.contactEnds.map((e): [number, string, ContactEnd['by']] => [e.at, e.guide, e.by]) } : {}),
    ...(h.referrals?.length ? { rf: h.referrals.map((r): [number, string, number] => [r.at, r.memberId, r.points]) } : {}),
  };
}

export function historyFromStored(h: Partial<StoredHistory> | undefined): MemberHistory {
  return {
    follows: (h?.f ?? []).map(followFromStored),
    unfollows: [...(h?.u ?? [])],
    qrScans: (h?.q ?? []).map(touchFromStored),
    codeScans: (h?.c ?? []).map(touchFromStored),
    ...(h?.r !== undefined ? { registeredAt: h.r } : {}),
    orders: (h?.o ?? []).map(([key, paidAt, paidFen, platform]) => ({ key, paidAt, paidFen, platform })),
    ...(h?.seen ? { seen: touchFromStored(h.seen) } : {}),
    ...(h?.w?.length ? { contactAdds: h.w.map(([at, guide, channel]) => ({ at, guide, channel })) } : {}),
    ...(h?.x?.length ? { contactEnds: h.x.map(([at, guide, by]) => ({ at, guide, by })) } : {}),
    ...(h?.rf?.length ? { referrals: h.rf.map(([at, memberId, points]) => ({ at, memberId, points })) } : {}),
  };
}

/** What the data layer needs of a profile; the domain's record type extends it. */
export interface ProfileItem {
  memberId: string;
  version: number;
  mergedInto?: string;
  history: MemberHistory;
}

/** The history's list facts split off into month buckets (undefined: short enough for the profile). */
export function historyBuckets(h: MemberHistory): Map<string, BucketFacts> | undefined {
  const stored = historyToStored(h);
  return factCount(stored) > HISTORY_INLINE_FACTS ? toBuckets(stored) : undefined;
}

/**
 * A profile as the domain sees it → its stored attributes (`history` → `h`; a long history's
 * lists → the bucket months `hb` and their digest `hd`, the buckets written by `members.write`).
 */
export function toStored(m: ProfileItem): Record<string, unknown> {
  const { history, hb: _hb, hd: _hd, ...rest } = m as ProfileItem & { hb?: unknown; hd?: unknown };
  const h = historyToStored(history);
  if (factCount(h) <= HISTORY_INLINE_FACTS) return { ...rest, h };
  const buckets = toBuckets(h);
  // Everything that is not a month list stays in the profile (h.r, h.seen, WeCom contacts, referrals).
  const { f: _f, u: _u, q: _q, c: _c, o: _o, ...scalars } = h;
  return { ...rest, h: scalars, hb: [...buckets.keys()], hd: bucketsDigest(buckets) };
}

/** What a profile object was read as: its history (stored form) and its buckets. */
const asRead = new WeakMap<object, { history: string; months: string[]; buckets?: Map<string, string> }>();

/**
 * A stored profile item (and, for a long history, its month buckets) → the domain's profile
 * (`h` → `history`).
 */
export function fromStored<T extends ProfileItem>(item: Record<string, unknown>, buckets?: ReadonlyMap<string, BucketFacts>): T {
  const { h, ...rest } = item;
  const stored = { ...(h as Partial<StoredHistory> | undefined), ...(buckets ? fromBuckets(buckets) : {}) };
  const m = { ...rest, history: historyFromStored(stored) } as unknown as T;
  asRead.set(m, {
    history: JSON.stringify(historyToStored(m.history)),
    months: bucketMonths(item),
    ...(buckets ? { buckets: new Map([...buckets].map(([month, b]) => [month, bucketJson(b)])) } : {}),
  });
  return m;
}

const bucketMonths = (item: Record<string, unknown>): string[] => (Array.isArray(item.hb) ? item.hb.map(String) : []);

/** A profile item read with its history buckets, checked against the profile's `hb` and `hd`. */
async function readProfile(store: Store, memberId: string): Promise<Record<string, unknown> & { buckets?: Map<string, BucketFacts> } | undefined> {
  for (let attempt = 0; attempt < HISTORY_READ_ATTEMPTS; attempt++) {
    const item = await getItem<Record<string, unknown>>(store, memberKey(memberId), { consistent: true });
    if (!item) return undefined;
    const months = bucketMonths(item);
    if (!months.length) return item;
    const all = await memberHistory.read(store, memberId);
    const buckets = new Map(months.map((month) => [month, all.get(month)] as const).filter((e): e is [string, BucketFacts] => e[1] !== undefined));
    if (buckets.size === months.length && bucketsDigest(buckets) === item.hd) return { ...item, buckets };
    // A write of this member committed between the two reads: read both again.
  }
  throw new TransientError(`member ${memberId}: history buckets kept changing while being read`);
}

/** Reads of a profile and its buckets that may race a writer before the read gives up (503). */
const HISTORY_READ_ATTEMPTS = 4;

async function loadProfile<T extends ProfileItem>(store: Store, memberId: string): Promise<T | undefined> {
  const read = await readProfile(store, memberId);
  if (!read) return undefined;
  const { buckets, ...item } = read;
  return fromStored<T>(item, buckets);
}

/** `MEMBER#<memberId>`: shared with the suppression and sent-log rows (lib/store/keys.ts). */
export const memberPartition = keys.memberPartition;
export const memberKey = (memberId: string): Key => ({ pk: memberPartition(memberId), sk: PROFILE_SK });

/** True for a stored item that is a member profile. */
export const isProfileItem = (item: Record<string, unknown>): boolean => item.sk === PROFILE_SK && typeof item.pk === 'string' && item.pk.startsWith(`${PREFIX}#`);

/** `MEMBER#<memberId>` (any item of the partition) → the member id. */
export function parseMemberPartition(pk: string): string {
  return splitKey(pk, PREFIX, 1)[0]!;
}

export const reviewPartition = (localDay: string, shard: number): string => `${REVIEW_PREFIX}#${localDay}#${shard}`;

/** The profile's review-index attributes (sparse; see the header). */
export const memberReviewIndex = (localDay: string, shard: number, memberId: string) => ({
  gsi1pk: reviewPartition(localDay, shard),
  gsi1sk: memberId,
});

/** `REVIEW#<day>#<shard>` → {day, shard}. */
export function parseReviewPartition(gsi1pk: string): { day: string; shard: number } {
  const [day, shard] = splitKey(gsi1pk, REVIEW_PREFIX, 2) as [string, string];
  return { day, shard: Number(shard) };
}

/** The review day a stored profile is filed under, if any. */
export function parseReviewDay(item: Record<string, unknown>): string | undefined {
  const pk = item.gsi1pk;
  return typeof pk === 'string' && pk.startsWith(`${REVIEW_PREFIX}#`) ? parseReviewPartition(pk).day : undefined;
}

/** Files the profile under a review day, or takes it out of the index (`review` undefined). */
export function setReviewIndex(m: object, review: { localDay: string; shard: number } | undefined, memberId: string): void {
  const indexed = m as { gsi1pk?: string; gsi1sk?: string };
  if (review === undefined) {
    delete indexed.gsi1pk;
    delete indexed.gsi1sk;
  } else Object.assign(indexed, memberReviewIndex(review.localDay, review.shard, memberId));
}

/** Sort-key prefixes of the member partition's item types. */
export type PartitionPrefix = 'LOT#' | 'LEDGER#' | 'MERGE#' | 'DUE#' | 'SUPPRESS#' | 'SENT#' | 'HIST#' | 'CONSENT#' | 'REDEEM#' | 'REFERRAL#' | 'CAMPAIGN#';

/**
 * A scan cursor: DynamoDB's LastEvaluatedKey of a profile scan, the table key of whatever item the
 * page's evaluation ended on (any item type: the filter keeps profiles, the cursor does not).
 */
export interface ProfileCursor {
  pk: string;
  sk: string;
}

/** Whether a cursor a caller handed back is a table key (resuming a scan from any key reads only what the filter keeps). */
export function isProfileCursor(c: unknown): c is ProfileCursor {
  if (c === null || typeof c !== 'object') return false;
  const { pk, sk, ...rest } = c as Record<string, unknown>;
return Object.keys(rest).length === 0 && typeof pk === 'string' && pk.length >= 1 && pk.length <= 1024 && typeof sk === 'string' && sk.length >= 1 && sk.length <= 1024;
}

/** The bucket writes of a profile write: the months whose facts changed since the read, and those gone. */
function writeBuckets(tx: Tx, m: ProfileItem, isNew: boolean): void {
  const read = isNew ? undefined : asRead.get(m);
  const before = { months: read?.months ?? (isNew ? [] : bucketMonths(m as unknown as Record<string, unknown>)), ...(read?.buckets ? { buckets: read.buckets } : {}) };
  const after = historyBuckets(m.history) ?? new Map<string, BucketFacts>();
  if (after.size || before.months.length) memberHistory.write(tx, m.memberId, after, before);
}

export const members = {
  /** The profile (consistent read), merged-away records included. */
  async get<T extends ProfileItem>(store: Store, memberId: string): Promise<(T & Record<string, unknown>) | undefined> {
    return loadProfile<T & Record<string, unknown>>(store, memberId);
  },

  /** The member a record id leads to, following merge pointers. */
  async resolve<T extends ProfileItem>(store: Store, memberId: string): Promise<T | undefined> {
    let id: string | undefined = memberId;
    for (let hops = 0; id && hops < MAX_MERGE_HOPS; hops++) {
      const m: T | undefined = await loadProfile<T>(store, id);
      if (!m) return undefined;
      if (!m.mergedInto) return m;
      id = m.mergedInto;
    }
    return undefined;
  },

  /**
   * The profile write: created (tag `member`) when new, else put under the version it was read
   * at (`prevVersion`). `m` carries its review-index attributes (setReviewIndex).
   */
  write(tx: Tx, m: ProfileItem, o: { isNew: boolean; prevVersion: number }): void {
    const { pk: _pk, sk: _sk, ...attrs } = toStored(m);
    if (o.isNew) tx.create('member', memberKey(m.memberId), attrs);
    else tx.put('member', memberKey(m.memberId), attrs, { expr: '#v = :v', names: { '#v': 'version' }, values: { ':v': o.prevVersion } });
    writeBuckets(tx, m, o.isNew);
  },

  /**
   * The history `m` had when it was read (undefined for a record not read by `get`/`resolve`):
   * what the record's credits were computed from (lib/members/record.ts).
   */
  historyAsRead(m: ProfileItem): MemberHistory | undefined {
    const read = asRead.get(m);
    return read && historyFromStored(JSON.parse(read.history) as StoredHistory);
  },

  /** The losing record of a merge: its facts kept, out of every index, pointing at the survivor. */
  writeMergedAway(tx: Tx, loser: ProfileItem, survivorId: string, now: number): void {
    const prev = loser.version;
    const rest = stripKeys(toStored(loser));
    writeBuckets(tx, loser, false);
    tx.put(
      `merged:${loser.memberId}`,
      memberKey(loser.memberId),
      { ...rest, mergedInto: survivorId, credits: {}, version: prev + 1, updatedAt: now },
      { expr: '#v = :v', names: { '#v': 'version' }, values: { ':v': prev } },
    );
  },

  /**
   * Marks a record whose credits now include its cohort credits (lib/members/record.ts), under the
   * version it was read at: the version rises by one and a legacy `credits` map goes (the same
   * transaction gives the difference as a credit delta). Used by the cohort backfill.
   */
  markCohortCredits(tx: Tx, memberId: string, prevVersion: number, now: number): void {
    tx.update(
      'member',
      memberKey(memberId),
      { update: 'SET #cc = :t, #v = :v1, #u = :now REMOVE #cr', names: { '#cc': 'cohortCredits', '#v': 'version', '#u': 'updatedAt', '#cr': 'credits' }, values: { ':t': true, ':v1': prevVersion + 1, ':now': now } },
      { expr: '#v = :v', values: { ':v': prevVersion } },
    );
  },

  /**
   * One page of a scan of the table for member profiles (audiences: lib/audiences/pages.ts): at
   * most `limit` items evaluated (every item type counts, profiles are kept), of one segment of
   * a parallel scan when `segment` is given. A profile with a long history is read again with its
   * month buckets, so its history is whole. Merged-away records are included (readers skip them).
   */
  async scanPage<T extends ProfileItem>(
    store: Store,
    o: { limit: number; segment?: { index: number; total: number }; cursor?: ProfileCursor },
  ): Promise<{ profiles: (T & Record<string, unknown>)[]; cursor?: ProfileCursor; scanned: number }> {
    const res = await store.db.send(
      new ScanCommand({
        TableName: store.table,
        FilterExpression: 'sk = :profile',
        ExpressionAttributeValues: { ':profile': PROFILE_SK },
        Limit: o.limit,
        ...(o.segment ? { Segment: o.segment.index, TotalSegments: o.segment.total } : {}),
        ...(o.cursor ? { ExclusiveStartKey: { pk: o.cursor.pk, sk: o.cursor.sk } } : {}),
      }),
    );
    const profiles: (T & Record<string, unknown>)[] = [];
    for (const item of res.Items ?? []) {
      if (bucketMonths(item).length) {
        const whole = await loadProfile<T & Record<string, unknown>>(store, parseMemberPartition(String(item.pk)));
        if (whole) profiles.push(whole);
      } else profiles.push(fromStored<T & Record<string, unknown>>(item));
    }
    const last = res.LastEvaluatedKey;
    return { profiles, scanned: res.ScannedCount ?? 0, ...(last ? { cursor: { pk: String(last.pk), sk: String(last.sk) } } : {}) };
  },

  /** One page of the member ids filed under a review day and shard. */
  async reviewPage(
    store: Store,
    localDay: string,
    shard: number,
    o: { limit: number; startKey?: Record<string, unknown> },
  ): Promise<{ memberIds: string[]; lastKey?: Record<string, unknown> }> {
    const page = await queryPage<{ memberId: unknown }>(store, {
      index: true,
      pk: reviewPartition(localDay, shard),
      projection: 'memberId',
      limit: o.limit,
      ...(o.startKey ? { startKey: o.startKey } : {}),
    });
    return { memberIds: page.items.map((i) => String(i.memberId)), ...(page.lastKey ? { lastKey: page.lastKey } : {}) };
  },
};

/** First page (at most `limit`) of one item type of a member partition, keys stripped unless asked. */
export async function queryMemberPartition<T extends object = Record<string, unknown>>(
  store: Store,
  memberId: string,
  prefix: PartitionPrefix,
  o: { limit: number; newestFirst?: boolean; consistent?: boolean },
): Promise<T[]> {
  const page = await queryPage<T>(store, { pk: memberPartition(memberId), prefix, ...o });
  return page.items;
}
