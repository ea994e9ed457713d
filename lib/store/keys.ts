/**
 * The one place that knows the table's key schema. Single-table design:
 *
 *   pk (S), sk (S)           primary key
 *   gsi1pk (S), gsi1sk (S)   GSI "gsi1": sparse, for bounded lookups (member's orders, due work,
 *                            pending outbox rows, channel list, expiring lots)
 *   expiresAt (N)            TTL in epoch seconds (DynamoDB deletes lazily: readers compare too)
 *
 * The table itself (key attributes, index, TTL, billing) is defined once in lib/store/table.ts.
 *
 * Item types (pk | sk | gsi1pk | gsi1sk). Items marked → are built and parsed by their entity
 * module in lib/store/entities/ (keys, index attributes, stored fields, operations); the others
 * are built with `keys` below.
 *   dedupe marker     DEDUPE#<eventId>                 | #         | -                     | -    → entities/dedupe.ts
 *   identity          IDENT#<kind>#<value>             | #         | MIDENT#<memberId>     | <kind>#<value>
 *   member profile    MEMBER#<memberId>                | #PROFILE  | REVIEW#<local day>#<shard> | <memberId>
 *   points lot        MEMBER#<memberId>                | LOT#<earnedAt>#<lotId>  | LOTEXP#<local day> | <memberId>
 *   points ledger     MEMBER#<memberId>                | LEDGER#<at>#<entryId>
 *   merge record      MEMBER#<memberId>                | MERGE#<at>#<loserId>
 *   due work          MEMBER#<memberId>                | DUE#<kind>#<key> | DUE#<local day>    | <dueAt>#<memberId>
 *   order             ORDER#<platform>#<shopId>#<orderId> | #      | MORDERS#<memberId>    | <firstSeenAt>
 *   refund ledger row REFUND#<platform>#<refundId>     | #         | -                     | -
 *   channel           CHANNEL#<channelId>              | #         | CHANNELS              | <channelId>  → entities/channel.ts
 *   counter shard     COUNT#<channelId>#<shard>        | <model>#<local day>                    → entities/counter.ts
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
 *   tmc confirm       TMCMSG#<messageId>               | #  (committed, awaiting confirm)
 *   push nonce        NONCE#wechat#<sha256(appId, timestamp, nonce)> | #  plain-mode WeChat push: digest of
 *                     its body; TTL = the timestamp's end of window (lib/wechat/inbound.ts)  → entities/push-nonce.ts
 *   sms code          OTP#<phoneHash>                  | <appId>:<openid>  HMAC of the code (HUB_OTP_SECRET),
 *                     tries, sentAt; TTL 5 minutes; deleted by the registration that uses it  → entities/otp.ts
 *   sms send limit    OTPLIMIT#<phone#<phoneHash> | wechat#<appId>:<openid>> | <local day>  n, lastAt; TTL 2 days
 *                                                                                              → entities/otp.ts
 *
 * Member review index: a member profile with a paid order carries gsi1pk/gsi1sk naming the
 * local day of its next review, the day after the earliest instant its tier (an order leaving
 * the 12-month window), lifecycle stage or RFM recency changes with no new event
 * (lib/members/lifecycle.ts nextReviewAt), or tomorrow when a tier downgrade is owed. Every
 * profile write recomputes it (record.ts derive); a member with nothing left to change has none
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
  identity: (kind: string, value: string): Key => ({ pk: `IDENT#${kind}#${value}`, sk: ROOT }),
  memberIdentitiesIndex: (memberId: string, kind: string, value: string) => ({ gsi1pk: `MIDENT#${memberId}`, gsi1sk: `${kind}#${value}` }),
  member: (memberId: string): Key => ({ pk: `MEMBER#${memberId}`, sk: '#PROFILE' }),
  memberPartition: (memberId: string): string => `MEMBER#${memberId}`,
  /** The member profile's review-index attributes (sparse; see the header). */
  memberReviewIndex: (localDay: string, shard: number, memberId: string) => ({ gsi1pk: `REVIEW#${localDay}#${shard}`, gsi1sk: memberId }),
  lot: (memberId: string, earnedAt: number, lotId: string): Key => ({
    pk: `MEMBER#${memberId}`,
    sk: `LOT#${pad(earnedAt)}#${lotId}`,
  }),
  lotExpiryIndex: (localDay: string, memberId: string) => ({ gsi1pk: `LOTEXP#${localDay}`, gsi1sk: memberId }),
  ledger: (memberId: string, at: number, entryId: string): Key => ({
    pk: `MEMBER#${memberId}`,
    sk: `LEDGER#${pad(at)}#${entryId}`,
  }),
  merge: (survivorId: string, at: number, loserId: string): Key => ({
    pk: `MEMBER#${survivorId}`,
    sk: `MERGE#${pad(at)}#${loserId}`,
  }),
  due: (memberId: string, kind: string, key: string): Key => ({ pk: `MEMBER#${memberId}`, sk: `DUE#${kind}#${key}` }),
  dueIndex: (localDay: string, dueAt: number, memberId: string) => ({
    gsi1pk: `DUE#${localDay}`,
    gsi1sk: `${pad(dueAt)}#${memberId}`,
  }),
  order: (platform: string, shopId: string, orderId: string): Key => ({
    pk: `ORDER#${platform}#${shopId}#${orderId}`,
    sk: ROOT,
  }),
  memberOrdersIndex: (memberId: string, firstSeenAt: number) => ({
    gsi1pk: `MORDERS#${memberId}`,
    gsi1sk: pad(firstSeenAt),
  }),
  refund: (platform: string, refundId: string): Key => ({ pk: `REFUND#${platform}#${refundId}`, sk: ROOT }),
  tmcMessage: (messageId: string): Key => ({ pk: `TMCMSG#${messageId}`, sk: ROOT }),
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

/** Prefix helpers for Query on a member partition. */
export const memberPrefixes = {
  lot: 'LOT#',
  ledger: 'LEDGER#',
  merge: 'MERGE#',
  due: 'DUE#',
} as const;
