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
 * Builders and parsers of each item type's keys live with the entity (lib/store/entities/*.ts);
 * outbox, send, sent-log, suppression and token there already.
 *
 * Item types (pk | sk | gsi1pk | gsi1sk):
 *   dedupe marker     DEDUPE#<eventId>                 | #         | -                     | -
 *   identity          IDENT#<kind>#<value>             | #         | MIDENT#<memberId>     | <kind>#<value>
 *   member profile    MEMBER#<memberId>                | #PROFILE  | REVIEW#<local day>#<shard> | <memberId>
 *   points lot        MEMBER#<memberId>                | LOT#<earnedAt>#<lotId>  | LOTEXP#<local day> | <memberId>
 *   points ledger     MEMBER#<memberId>                | LEDGER#<at>#<entryId>
 *   merge record      MEMBER#<memberId>                | MERGE#<at>#<loserId>
 *   due work          MEMBER#<memberId>                | DUE#<kind>#<key> | DUE#<local day>    | <dueAt>#<memberId>
 *   order             ORDER#<platform>#<shopId>#<orderId> | #      | MORDERS#<memberId>    | <firstSeenAt>
 *   refund ledger row REFUND#<platform>#<refundId>     | #         | -                     | -
 *   channel           CHANNEL#<channelId>              | #         | CHANNELS              | <channelId>
 *   counter shard     COUNT#<channelId>#<shard>        | <model>#<local day>
 *   outbox row        OUTBOX#<messageId>               | #         | OUTBOX#<shard> (while pending) | <createdAt>
 *   send record       SEND#<idempotencyKey>            | #         | -                     | -
 *   send by msgid     SENDMSG#<appId>#<wechat msgid>   | #         | -                     | -
 *   suppression       MEMBER#<memberId>                | SUPPRESS#<at>#<messageId>
 *   sent log (caps)   MEMBER#<memberId>                | SENT#<at>#<messageId>
 *   token cache       TOKEN#wechat#<appId>             | #
 *   code batch        BATCH#<batchId>                  | #         | BATCHES               | <firstSerial>
 *   serial sequence   SEQ#codes                        | #   (allocates serial ranges to batches)
 *   code redemption   CODE#<code>                      | #
 *   scan limit        SCANLIMIT#<appId>:<openid>       | <local day>
 *   invalid scans     SCANBAD#<wechat#<appId>:<openid> | ip#<address>> | <local day>  (count; TTL 3 days)
 *   refusal (review)  REFUSAL#<local day>              | <at>#<id>   kind: scan (limited), registration
 *                     (phone bound to another WeChat person), refund (above the amount paid); TTL 180 days
 *   tmc confirm       TMCMSG#<messageId>               | #  (committed, awaiting confirm)
 *   push nonce        NONCE#wechat#<sha256(appId, timestamp, nonce)> | #  plain-mode WeChat push: digest of
 *                     its body; TTL = the timestamp's end of window (lib/wechat/inbound.ts)
 *   sms code          OTP#<phoneHash>                  | <appId>:<openid>  HMAC of the code (HUB_OTP_SECRET),
 *                     tries, sentAt; TTL 5 minutes; deleted by the registration that uses it
 *   sms send limit    OTPLIMIT#<phone#<phoneHash> | wechat#<appId>:<openid>> | <local day>  n, lastAt; TTL 2 days
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

const ROOT = '#';

export const keys = {
  dedupe: (eventId: string): Key => ({ pk: `DEDUPE#${eventId}`, sk: ROOT }),
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
  channel: (channelId: string): Key => ({ pk: `CHANNEL#${channelId}`, sk: ROOT }),
  channelListIndex: (channelId: string) => ({ gsi1pk: 'CHANNELS', gsi1sk: channelId }),
  counter: (channelId: string, shard: number, model: string, localDay: string): Key => ({
    pk: `COUNT#${channelId}#${shard}`,
    sk: `${model}#${localDay}`,
  }),
  counterPartition: (channelId: string, shard: number): string => `COUNT#${channelId}#${shard}`,
  batch: (batchId: string): Key => ({ pk: `BATCH#${batchId}`, sk: ROOT }),
  /** Batches by first serial: the batch of a serial is the last one starting at or before it. */
  batchSerialIndex: (firstSerial: number) => ({ gsi1pk: 'BATCHES', gsi1sk: pad(firstSerial) }),
  codeSerialSequence: (): Key => ({ pk: 'SEQ#codes', sk: ROOT }),
  code: (code: string): Key => ({ pk: `CODE#${code}`, sk: ROOT }),
  scanLimit: (appId: string, openid: string, localDay: string): Key => ({
    pk: `SCANLIMIT#${appId}:${openid}`,
    sk: localDay,
  }),
  /** A refused request kept for review (scan limits, phone bound elsewhere, refund above paid). */
  refusal: (localDay: string, at: number, id: string): Key => ({ pk: `REFUSAL#${localDay}`, sk: `${pad(at)}#${id}` }),
  scanInvalid: (subject: string, localDay: string): Key => ({ pk: `SCANBAD#${subject}`, sk: localDay }),
  otp: (phoneHash: string, appId: string, openid: string): Key => ({ pk: `OTP#${phoneHash}`, sk: `${appId}:${openid}` }),
  otpSendLimit: (subject: string, localDay: string): Key => ({ pk: `OTPLIMIT#${subject}`, sk: localDay }),
  tmcMessage: (messageId: string): Key => ({ pk: `TMCMSG#${messageId}`, sk: ROOT }),
  /** Nonce cache of plain-mode WeChat pushes: `digest` = sha256 of appId, timestamp and nonce. */
  pushNonce: (digest: string): Key => ({ pk: `NONCE#wechat#${digest}`, sk: ROOT }),
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
