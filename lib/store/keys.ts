/**
 * The one place that knows the table's key schema. Single-table design:
 *
 *   pk (S), sk (S)           primary key
 *   gsi1pk (S), gsi1sk (S)   GSI "gsi1": sparse, for bounded lookups (member's orders, due work,
 *                            pending outbox rows, channel list, expiring lots, rewards, a member's
 *                            coupons, redemptions by id)
 *   expiresAt (N)            TTL in epoch seconds (DynamoDB deletes lazily: readers compare too)
 *
 * The table itself (key attributes, index, TTL, billing) is defined once in lib/store/table.ts.
 *
 * Item types (pk | sk | gsi1pk | gsi1sk). Every item type is owned by its entity module in
 * lib/store/entities/ (marked →): its keys are built and parsed, its index attributes written
 * and its reads and writes issued only there.
 *   dedupe marker     DEDUPE#<eventId>                 | #         | -                     | -    → entities/dedupe.ts
 *   identity          IDENT#<kind>#<value>             | #         | MIDENT#<memberId>     | <kind>#<value>  → entities/identity.ts
 *   member profile    MEMBER#<memberId>                | #PROFILE  | REVIEW#<local day>#<shard> | <memberId>  → entities/member.ts
 *   member history    MEMBER#<memberId>                | HIST#<YYYY-MM>  one UTC month of a long history's facts
 *                     (more than 32 list facts; a shorter one stays in the profile)  → entities/member-history.ts
 *   points lot        MEMBER#<memberId>                | LOT#<earnedAt>#<lotId>  | LOTEXP#<local day>#<shard 0..7> | <memberId>  → entities/lot.ts
 *   points ledger     MEMBER#<memberId>                | LEDGER#<at>#<entryId>                  → entities/ledger.ts
 *   merge record      MEMBER#<memberId>                | MERGE#<at>#<loserId>                   → entities/merge.ts
 *   due work          MEMBER#<memberId>                | DUE#<kind>#<key> | DUE#<local day>#<shard 0..7> | <dueAt>#<memberId>  → entities/due.ts
 *   order             ORDER#<platform>#<shopId>#<orderId> | #      | MORDERS#<memberId>    | <firstSeenAt>  → entities/order.ts
 *   refund ledger row REFUND#<platform>#<refundId>     | #         | -                     | -    → entities/refund.ts
 *   channel           CHANNEL#<channelId>              | #         | CHANNELS              | <channelId>  → entities/channel.ts
 *   counter shard     COUNT#<channelId>#<shard>        | <model>#<local day>   (written by the counter fold only)  → entities/counter.ts
 *   credit delta      DELTA#<shard 0..31>              | <at>#<memberId>#<version>  a member write's credit
 *                     difference, created in the event's transaction, deleted by the fold that counts it  → entities/credit-delta.ts
 *   rollup            ROLLUP#<model>#<local day | YYYY-MM> | <channelId>#<counter shard>  (the fold)  → entities/rollup.ts
 *   outbox row        OUTBOX#<messageId>               | #         | OUTBOX#<shard> (while pending) | <createdAt>  → entities/outbox.ts
 *   send record       SEND#<idempotencyKey>            | #         | -                     | -  → entities/send.ts
 *   send by msgid     SENDMSG#<appId>#<wechat msgid>   | #         | -                     | -  → entities/send.ts
 *   suppression       MEMBER#<memberId>                | SUPPRESS#<at>#<messageId>  → entities/suppression.ts
 *   sent log (caps)   MEMBER#<memberId>                | SENT#<at>#<messageId>  → entities/sent-log.ts
 *   token cache       TOKEN#wechat#<appId>             | #  → entities/token.ts
 *   code batch        BATCH#<batchId>                  | #         | BATCHES               | <firstSerial>  → entities/batch.ts
 *   serial sequence   SEQ#codes                        | #   (allocates serial ranges to batches)  → entities/batch.ts
 *   code redemption   CODE#<code>                      | #                                      → entities/code.ts
 *   scan limit        SCANLIMIT#<appId>:<openid>       | <local day>                            → entities/scan-limit.ts
 *   invalid scans     SCANBAD#<wechat#<appId>:<openid> | ip#<address>> | <local day>  (count; TTL 3 days)
 *                                                                                              → entities/scan-limit.ts
 *   refusal (review)  REFUSAL#<local day>              | <at>#<id>   kind: scan (limited), registration
 *                     (phone bound to another WeChat person), refund (above the amount paid); TTL 180 days
 *                                                                                              → entities/refusal.ts
 *   tmc confirm       TMCMSG#<messageId>               | #  (committed, awaiting confirm)   → entities/tmc.ts
 *   reconcile cursor  RECON#<platform>#<shopId>        | #  cursorAt, version: how far the catch-up poll has read
 *                                                                                              → entities/reconcile.ts
 *   push nonce        NONCE#wechat#<sha256(appId, timestamp, nonce)> | #  plain-mode WeChat push: digest of
 *                     its body; TTL = the timestamp's end of window (lib/sources/wechat/inbound.ts)  → entities/push-nonce.ts
 *   sms code          OTP#<phoneHash>                  | <appId>:<openid>  HMAC of the code (HUB_OTP_SECRET),
 *                     tries, sentAt; TTL 5 minutes; deleted by the registration that uses it  → entities/otp.ts
 *   reward            REWARD#<rewardId>                | #         | REWARDS               | <createdAt>#<rewardId>
 *                     points-mall item with its stock (taken under `stock >= 1`)  → entities/reward.ts
 *   redemption        MEMBER#<memberId>                | REDEEM#<idempotencyKey> | REDEMPTION#<redemptionId> | <memberId>
 *                     the lots it spent from, its coupon or fulfilment; created once per key  → entities/redemption.ts
 *   reward uses       MEMBER#<memberId>                | REWARDUSE#<rewardId>  n (per-member limit)  → entities/redemption.ts
 *   coupon            COUPON#<code>                    | #         | MCOUPONS#<memberId>   | <issuedAt>#<code>
 *                     issued → redeemed | revoked, once (member-owned: indexed by member id)  → entities/coupon.ts
 *   referral          MEMBER#<memberId>                | REFERRAL#BY  how the member came through a referral link:
 *                     referrerId, credited | capped | ignored (reason); created once  → entities/referral.ts
 *   sms send limit    OTPLIMIT#<phone#<phoneHash> | wechat#<appId>:<openid>> | <local day>  n, lastAt; TTL 2 days
 *                                                                                              → entities/otp.ts
 *   staff send budget STAFFRATE#<corpId>:<userid>     | m#<minute start> / h#<hour start>  n: WeCom app messages
 *                     to one staff member per minute / hour; TTL 2 hours  → entities/staff-rate.ts
 *   consent record    MEMBER#<memberId>                | CONSENT#<at>#<id>  what the person agreed to (privacy policy
 *                     version, marketing yes/no), when and through which channel  → entities/consent.ts
 *   erasure job       ERASE#<memberId>                 | #   gsi1 (while running): ERASING | <requestedAt>#<memberId>
 *                     the step cursor of one erasure; after it the member id and when only  → entities/erasure.ts
 *   audit entry       AUDIT#<local day>                | <at>#<id>  who exported or erased which member id, when
 *                     and why; TTL HUB_AUDIT_RETENTION_DAYS                                      → entities/audit.ts
 *   eligibility       MEMBER#<memberId>                | LIFT#<messageId> | LIFT#<local day>#<ruleId> | <messageId>
 *                     a marketing message's first decision and the member's arm (treated | holdout), once
 *                     per message; TTL HUB_MESSAGE_RETENTION_DAYS                                 → entities/eligibility.ts
 *   eligibility (erased) LIFTERASED#<digest>          | #         | LIFT#<local day>#<ruleId> | <digest>
 *                     an erased person's record: no member id, the conversion frozen (nextPaidAt)  → entities/eligibility.ts
 *   lift rule day     LIFTDAY#<local day>              | <ruleId>  the rules with eligibility on that day → entities/eligibility.ts
 *   insight counter   INSIGHT#<menu | kw | word>#<shard 0..15> | <local day>#<appId>#<channel>#<CLICK|VIEW>#<key> (menu),
 *                     …#<channel>#<keyword> (kw), …#<term> (word): menu events, matched keywords and unanswered
 *                     terms, added in the push's transaction; TTL 400 days (terms 90)  → entities/insight.ts
 *   keyword rules     KEYWORDS#<appId>                 | #   an official account's auto-reply rules  → entities/insight.ts
 *   audience          AUDIENCE#<audienceId>            | #  name, filter, latest count run  → entities/audience.ts
 *   audience count    AUDIENCE#<audienceId>            | COUNT#<run>  segments done, members matched  → entities/audience.ts
 *   campaign          CAMPAIGN#<campaignId>            | #  audience, filter, message, pages done, planned  → entities/audience.ts
 *   campaign member   MEMBER#<memberId>                | CAMPAIGN#<campaignId> | CAMPAIGNM#<campaignId>#<shard 0..7> | <memberId>
 *                     the member was planned for the campaign, once; TTL HUB_MESSAGE_RETENTION_DAYS  → entities/audience.ts
 *   job page          PAGE#<count|campaign>#<id>#<run> | <segment>#<cursor digest>  a counted page of a paged
 *                     job (audience count, campaign planning); TTL 7 days  → entities/audience.ts
 *
 * Member review index: a member profile with a paid order carries gsi1pk/gsi1sk naming the
 * local day of its next review, the day after the earliest instant its tier (an order leaving
 * the 12-month window), lifecycle stage or RFM recency changes with no new event
 * (lib/members/lifecycle.ts nextReviewAt), or tomorrow when a tier downgrade is owed. Every
 * profile write recomputes it (record.ts derive, through entities/member.ts setReviewIndex); a member with nothing left to change has none
 * (sparse). The nightly review
 * (lib/members/nightly.ts) queries REVIEW#<day>#<shard> for today and a few missed days, one
 * query per shard (lifecycle.ts REVIEW_SHARDS, shard = bucketOf(memberId)), so its work is
 * bounded by the members due, never by the table.
 */

/** The index and TTL attribute names, defined with the table (lib/store/table.ts). */
export { GSI1, TTL_ATTRIBUTE } from './table.ts';

export interface Key {
  pk: string;
  sk: string;
}

export const ROOT = '#';

export const keys = {
  memberPartition: (memberId: string): string => `MEMBER#${memberId}`,
};

/**
 * Ids that come from a request path (member, batch): at most this long and of this alphabet, so
 * a key never exceeds what DynamoDB allows; anything else cannot name a stored item (404).
 */
export const MAX_PATH_ID = 64;
export function isPathId(id: string): boolean {
  return id.length >= 1 && id.length <= MAX_PATH_ID && /^[A-Za-z0-9_-]+$/.test(id);
}

/** Zero-padded to 16 digits (every safe integer: epoch ms, serials) so string order is numeric order. */
export function pad(n: number): string {
  return String(Math.max(0, Math.trunc(n))).padStart(16, '0');
}

/** A key that is not of the type being parsed (a programming error: the caller read the wrong item). */
export class ForeignKeyError extends Error {
  constructor(
    readonly key: string,
    readonly expected: string,
  ) {
    super(`not ${/^[aeiou]/i.test(expected) ? 'an' : 'a'} ${expected} key: ${key}`);
    this.name = 'ForeignKeyError';
  }
}

/**
 * Reading a key back: `<prefix>#a#b#rest…` → [a, b, rest…] with `count` fields; throws
 * ForeignKeyError (naming `what`, the item type) on a key of another type or with an empty field. Builders join fields with
 * `#`; only the LAST field may contain `#` or `:` (ids from outside, e.g. a `wechat_openid` value
 * `<appId>:<openid>`), so a key parses back to exactly what built it.
 */
export function splitKey(key: string, prefix: string, count: number, what: string = prefix): string[] {
  const head = `${prefix}#`;
  if (!key.startsWith(head)) throw new ForeignKeyError(key, what);
  const out: string[] = [];
  let rest = key.slice(head.length);
  for (let i = 1; i < count; i++) {
    const at = rest.indexOf('#');
    if (at < 0) throw new ForeignKeyError(key, what);
    out.push(rest.slice(0, at));
    rest = rest.slice(at + 1);
  }
  out.push(rest);
  if (out.some((f) => f === '')) throw new ForeignKeyError(key, what);
  return out;
}

/** A `pad`ded number field read back; throws ForeignKeyError on anything else. */
export function unpad(field: string, key: string, what: string): number {
  if (!/^\d{16}$/.test(field)) throw new ForeignKeyError(key, what);
  return Number(field);
}

/** A root item's key (`<prefix>#<id>` | `#`) read back to its id; throws ForeignKeyError on any other key. */
export function parseRootKey(k: Key, prefix: string, what: string = prefix): string {
  if (k.sk !== ROOT) throw new ForeignKeyError(`${k.pk} ${k.sk}`, what);
  return splitKey(k.pk, prefix, 1, what)[0]!;
}
