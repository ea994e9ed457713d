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
 * Item types (pk | sk | gsi1pk | gsi1sk). An item type marked [entities/<file>] is owned by
 * lib/store/entities/<file>: its keys are built and parsed, its index attributes written and its
 * reads and writes issued only there; the others are built here.
 *   dedupe marker     DEDUPE#<eventId>                 | #         | -                     | -
 *   identity          IDENT#<kind>#<value>             | #         | MIDENT#<memberId>     | <kind>#<value>   [entities/identity.ts]
 *   member profile    MEMBER#<memberId>                | #PROFILE  | REVIEW#<local day>#<shard> | <memberId>   [entities/member.ts]
 *   points lot        MEMBER#<memberId>                | LOT#<earnedAt>#<lotId>  | LOTEXP#<local day> | <memberId>   [entities/lot.ts]
 *   points ledger     MEMBER#<memberId>                | LEDGER#<at>#<entryId>   [entities/ledger.ts]
 *   merge record      MEMBER#<memberId>                | MERGE#<at>#<loserId>   [entities/merge.ts]
 *   due work          MEMBER#<memberId>                | DUE#<kind>#<key> | DUE#<local day>    | <dueAt>#<memberId>   [entities/due.ts]
 *   order             ORDER#<platform>#<shopId>#<orderId> | #      | MORDERS#<memberId>    | <firstSeenAt>   [entities/order.ts]
 *   refund ledger row REFUND#<platform>#<refundId>     | #         | -                     | -   [entities/refund.ts]
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
 *   tmc confirm       TMCMSG#<messageId>               | #  (committed, awaiting confirm)   [entities/tmc.ts]
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
  dedupe: (eventId: string): Key => ({ pk: `DEDUPE#${eventId}`, sk: ROOT }),
  memberPartition: (memberId: string): string => `MEMBER#${memberId}`,
  channel: (channelId: string): Key => ({ pk: `CHANNEL#${channelId}`, sk: ROOT }),
  channelListIndex: (channelId: string) => ({ gsi1pk: 'CHANNELS', gsi1sk: channelId }),
  counter: (channelId: string, shard: number, model: string, localDay: string): Key => ({
    pk: `COUNT#${channelId}#${shard}`,
    sk: `${model}#${localDay}`,
  }),
  counterPartition: (channelId: string, shard: number): string => `COUNT#${channelId}#${shard}`,
  outbox: (messageId: string): Key => ({ pk: `OUTBOX#${messageId}`, sk: ROOT }),
  outboxPendingIndex: (shard: number, createdAt: number) => ({ gsi1pk: `OUTBOX#${shard}`, gsi1sk: pad(createdAt) }),
  send: (idempotencyKey: string): Key => ({ pk: `SEND#${idempotencyKey}`, sk: ROOT }),
  sendByMsgId: (appId: string, msgId: string): Key => ({ pk: `SENDMSG#${appId}#${msgId}`, sk: ROOT }),
  suppression: (memberId: string, at: number, messageId: string): Key => ({
    pk: `MEMBER#${memberId}`,
    sk: `SUPPRESS#${pad(at)}#${messageId}`,
  }),
  sentLog: (memberId: string, at: number, messageId: string): Key => ({
    pk: `MEMBER#${memberId}`,
    sk: `SENT#${pad(at)}#${messageId}`,
  }),
  wechatToken: (appId: string): Key => ({ pk: `TOKEN#wechat#${appId}`, sk: ROOT }),
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
  suppression: 'SUPPRESS#',
  sent: 'SENT#',
} as const;
