/**
 * A member's history, one item per calendar month (UTC) of its facts, once it is too long for the
 * profile.
 *
 *   MEMBER#<memberId> | HIST#<YYYY-MM>     h: the facts of that month, in the profile's short form
 *
 * Layout, a function of the facts alone (never of arrival order or of the time of the write):
 * a history of at most HISTORY_INLINE_FACTS list facts (follows, unfollows, QR scans, code scans,
 * paid orders) lives in the profile's `h` as it always did; a longer one keeps only its scalars
 * (`h.r`, `h.seen`) in the profile and every list fact in the bucket of its month (a follow or a
 * scan by `at`, an unfollow by its time, an order by `paidAt`). The profile then names the
 * buckets (`hb`, sorted months) and carries a digest of their contents (`hd`).
 *
 * Why: every event's transaction writes the profile whole, at 2 WCU per started KB. A member with
 * two years of history (200 orders, 500 code scans) had a 79 KB profile (160 WCU per event);
 * now the profile stays a few hundred bytes plus 8 per active month, and an event rewrites the
 * one or two buckets whose facts changed (≈ 1 KB each). Each bucket holds one person's month:
 * code scans are limited to HUB_SCAN_DAILY_LIMIT a day, so a month of scans is ≈ 11 KB at the
 * default limit, far from DynamoDB's 400 KB item limit; orders are ≈ 60 bytes each.
 *
 * Consistency: the profile's `version` condition guards every write of the member (profile and
 * buckets in one transaction). A read takes the profile, then the buckets (consistent Query), and
 * checks them against the profile's `hb` and `hd`: a write that committed in between is seen as
 * a mismatch and the read starts again; a writer working from a stale read fails its version
 * condition. Only lib/store/entities/member.ts uses this module.
 */
import { createHash } from 'node:crypto';
import type { Store } from '../client.ts';
import type { Tx } from '../tx.ts';
import type { Key } from '../keys.ts';
import { queryPage } from '../item-ops.ts';
import { keys } from '../keys.ts';

const SK_PREFIX = 'HIST#';

/** At most this many list facts stay in the profile; a longer history moves to month buckets. */
export const HISTORY_INLINE_FACTS = 32;

/** The list facts of a stored history (the short form of lib/store/entities/member.ts). */
export interface StoredFacts {
  f: ([number, string] | [number, string, string])[];
  u: number[];
  q: [number, string][];
  c: [number, string][];
  o: [string, number, number, string][];
}

/** One month's facts as its bucket item stores them: only the lists that have facts. */
export type BucketFacts = Partial<StoredFacts>;

const LISTS = ['f', 'u', 'q', 'c', 'o'] as const;

export const historyBucketKey = (memberId: string, month: string): Key => ({ pk: keys.memberPartition(memberId), sk: `${SK_PREFIX}${month}` });

/** The UTC calendar month (`YYYY-MM`) of an epoch-ms instant. */
export function monthOf(at: number): string {
  return new Date(at).toISOString().slice(0, 7);
}

/** Number of list facts. */
export function factCount(h: Partial<StoredFacts>): number {
  return LISTS.reduce((n, l) => n + (h[l]?.length ?? 0), 0);
}

const timeOf = {
  f: (x: StoredFacts['f'][number]) => x[0],
  u: (x: number) => x,
  q: (x: [number, string]) => x[0],
  c: (x: [number, string]) => x[0],
  o: (x: StoredFacts['o'][number]) => x[1],
};

/** The list facts split by month: month → its bucket (lists in their given order; empty lists left out). */
export function toBuckets(h: StoredFacts): Map<string, BucketFacts> {
  const out = new Map<string, BucketFacts>();
  for (const l of LISTS) {
    for (const fact of h[l] as unknown[]) {
      const month = monthOf((timeOf[l] as (x: unknown) => number)(fact));
      let bucket = out.get(month);
      if (!bucket) out.set(month, (bucket = {}));
      ((bucket[l] ??= []) as unknown[]).push(fact);
    }
  }
  return new Map([...out.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The buckets joined back into the lists, month after month. */
export function fromBuckets(buckets: ReadonlyMap<string, BucketFacts>): StoredFacts {
  const out: StoredFacts = { f: [], u: [], q: [], c: [], o: [] };
  for (const month of [...buckets.keys()].sort()) {
    const b = buckets.get(month)!;
    for (const l of LISTS) if (b[l]) (out[l] as unknown[]).push(...(b[l] as unknown[]));
  }
  return out;
}

/** The stored form of one bucket, the unit of change detection and of the digest. */
export const bucketJson = (b: BucketFacts): string => JSON.stringify(LISTS.filter((l) => b[l]?.length).map((l) => [l, b[l]]));

/** Digest of a member's buckets (months and contents): 64 bits of SHA-256. */
export function bucketsDigest(buckets: ReadonlyMap<string, BucketFacts>): string {
  const hash = createHash('sha256');
  for (const month of [...buckets.keys()].sort()) hash.update(`${month}\u0000${bucketJson(buckets.get(month)!)}\u0001`);
  return hash.digest('hex').slice(0, 16);
}

/** A bucket's stored attributes (only the lists that have facts). */
function bucketAttrs(b: BucketFacts): { h: BucketFacts } {
  const h: BucketFacts = {};
  for (const l of LISTS) if (b[l]?.length) (h as Record<string, unknown>)[l] = b[l];
  return { h };
}

export const memberHistory = {
  /** Every bucket of a member's partition (consistent; a page holds ≈ 1 MB of buckets). */
  async read(store: Store, memberId: string): Promise<Map<string, BucketFacts>> {
    const out = new Map<string, BucketFacts>();
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await queryPage<{ sk: string; h?: BucketFacts }>(store, {
        pk: keys.memberPartition(memberId),
        prefix: SK_PREFIX,
        consistent: true,
        limit: 200,
        ...(startKey ? { startKey } : {}),
      });
      for (const item of page.items) out.set(item.sk.slice(SK_PREFIX.length), item.h ?? {});
      startKey = page.lastKey;
    } while (startKey);
    return out;
  },

  /**
   * The bucket writes that take a member from `before` (as read; undefined: not known, every
   * bucket is written) to `after`: a put per new or changed month, a delete per month gone.
   */
  write(tx: Tx, memberId: string, after: ReadonlyMap<string, BucketFacts>, before: { months: readonly string[]; buckets?: ReadonlyMap<string, string> }): void {
    for (const [month, b] of after) {
      const json = bucketJson(b);
      if (before.buckets?.get(month) === json) continue;
      tx.put('member-history', historyBucketKey(memberId, month), bucketAttrs(b));
    }
    for (const month of before.months) if (!after.has(month)) tx.delete('member-history', historyBucketKey(memberId, month));
  },
};
