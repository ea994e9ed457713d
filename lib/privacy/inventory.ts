/**
 * The data inventory as the code uses it (docs/privacy.md#inventory has the same item types with
 * what, where, why and how long; test/unit/privacy-inventory.test.ts holds both to the item
 * types of lib/store/keys.ts, so a new item type without an inventory line fails the tests).
 *
 * `erase` is what an erasure (lib/privacy/erase.ts) does with an item of the type that holds one
 * of the person's identifiers:
 *   delete     the item goes
 *   anonymise  the item stays for the brand's books with every attribute naming the person
 *              removed (orders, refunds: amounts without identifiers)
 *   rekey      the item stays with the member id in its key replaced (credit deltas: the
 *              attribution counters are aggregates and must still receive them)
 *   keep       the item records the erasure itself (member id only)
 * Any item of the person's member partitions or of a type not listed here is deleted: a new
 * item type is erased without a change here. Another member's partition is never touched.
 */
export type ErasePolicy = 'delete' | 'anonymise' | 'rekey' | 'keep';

export interface InventoryType {
  /** The item type's name in lib/store/keys.ts. */
  type: string;
  /** The partition key's prefix (up to and including the first `#`, or the whole fixed key). */
  pk: string;
  /** Within the member partition: the sort key's prefix. */
  sk?: string;
  erase: ErasePolicy;
}

export const INVENTORY: readonly InventoryType[] = [
  { type: 'dedupe marker', pk: 'DEDUPE#', erase: 'delete' },
  { type: 'identity', pk: 'IDENT#', erase: 'delete' },
  { type: 'member profile', pk: 'MEMBER#', sk: '#PROFILE', erase: 'delete' },
  { type: 'member history', pk: 'MEMBER#', sk: 'HIST#', erase: 'delete' },
  { type: 'points lot', pk: 'MEMBER#', sk: 'LOT#', erase: 'delete' },
  { type: 'points ledger', pk: 'MEMBER#', sk: 'LEDGER#', erase: 'delete' },
  { type: 'merge record', pk: 'MEMBER#', sk: 'MERGE#', erase: 'delete' },
  { type: 'due work', pk: 'MEMBER#', sk: 'DUE#', erase: 'delete' },
  { type: 'order', pk: 'ORDER#', erase: 'anonymise' },
  { type: 'refund ledger row', pk: 'REFUND#', erase: 'anonymise' },
  { type: 'channel', pk: 'CHANNEL#', erase: 'keep' },
  { type: 'counter shard', pk: 'COUNT#', erase: 'keep' },
  { type: 'credit delta', pk: 'DELTA#', erase: 'rekey' },
  { type: 'rollup', pk: 'ROLLUP#', erase: 'keep' },
  { type: 'outbox row', pk: 'OUTBOX#', erase: 'delete' },
  { type: 'send record', pk: 'SEND#', erase: 'delete' },
  { type: 'send by msgid', pk: 'SENDMSG#', erase: 'delete' },
  { type: 'suppression', pk: 'MEMBER#', sk: 'SUPPRESS#', erase: 'delete' },
  { type: 'sent log (caps)', pk: 'MEMBER#', sk: 'SENT#', erase: 'delete' },
  { type: 'token cache', pk: 'TOKEN#', erase: 'keep' },
  { type: 'code batch', pk: 'BATCH#', erase: 'keep' },
  { type: 'serial sequence', pk: 'SEQ#', erase: 'keep' },
  { type: 'code redemption', pk: 'CODE#', erase: 'anonymise' },
  { type: 'scan limit', pk: 'SCANLIMIT#', erase: 'delete' },
  { type: 'invalid scans', pk: 'SCANBAD#', erase: 'delete' },
  { type: 'refusal (review)', pk: 'REFUSAL#', erase: 'delete' },
  { type: 'tmc confirm', pk: 'TMCMSG#', erase: 'delete' },
  { type: 'reconcile cursor', pk: 'RECON#', erase: 'keep' },
  { type: 'push nonce', pk: 'NONCE#', erase: 'delete' },
  { type: 'sms code', pk: 'OTP#', erase: 'delete' },
  { type: 'sms send limit', pk: 'OTPLIMIT#', erase: 'delete' },
  { type: 'reward', pk: 'REWARD#', erase: 'keep' },
  { type: 'redemption', pk: 'MEMBER#', sk: 'REDEEM#', erase: 'delete' },
  { type: 'reward uses', pk: 'MEMBER#', sk: 'REWARDUSE#', erase: 'delete' },
  { type: 'coupon', pk: 'COUPON#', erase: 'anonymise' },
  { type: 'referral', pk: 'MEMBER#', sk: 'REFERRAL#', erase: 'delete' },
  { type: 'staff send budget', pk: 'STAFFRATE#', erase: 'keep' },
  { type: 'consent record', pk: 'MEMBER#', sk: 'CONSENT#', erase: 'delete' },
  { type: 'erasure job', pk: 'ERASE#', erase: 'keep' },
  { type: 'audit entry', pk: 'AUDIT#', erase: 'keep' },
  { type: 'eligibility', pk: 'MEMBER#', sk: 'LIFT#', erase: 'delete' },
  { type: 'eligibility (erased)', pk: 'LIFTERASED#', erase: 'keep' },
  { type: 'lift rule day', pk: 'LIFTDAY#', erase: 'keep' },
  { type: 'insight counter', pk: 'INSIGHT#', erase: 'keep' },
  { type: 'keyword rules', pk: 'KEYWORDS#', erase: 'keep' },
  { type: 'audience', pk: 'AUDIENCE#', erase: 'keep' },
  { type: 'audience count', pk: 'AUDIENCE#', erase: 'keep' },
  { type: 'campaign', pk: 'CAMPAIGN#', erase: 'keep' },
  { type: 'campaign member', pk: 'MEMBER#', sk: 'CAMPAIGN#', erase: 'delete' },
  { type: 'job page', pk: 'PAGE#', erase: 'keep' },
];

const MEMBER_PK = 'MEMBER#';

/** The inventory entry of a stored item (by its key), or undefined for a type not listed. */
export function typeOf(key: { pk: string; sk: string }): InventoryType | undefined {
  if (key.pk.startsWith(MEMBER_PK)) return INVENTORY.find((t) => t.pk === MEMBER_PK && t.sk !== undefined && key.sk.startsWith(t.sk));
  // Longest prefix first: `SENDMSG#` before `SEND#` cannot collide (the `#` ends each), but `SEQ#codes` is a whole key.
  return INVENTORY.find((t) => t.pk !== MEMBER_PK && key.pk.startsWith(t.pk));
}

/**
 * What the erasure of the records `ids` (the person's record and those merged into it) does with
 * an item holding one of the person's identifiers: their member partitions and unknown types are
 * deleted; another member's partition is that member's and is kept (a referrer's history lists
 * the people it referred by member id, an opaque id that resolves to nothing once the erasure is
 * done: docs/privacy.md#erasure).
 */
export function erasePolicyOf(key: { pk: string; sk: string }, ids: readonly string[]): ErasePolicy {
  if (key.pk.startsWith(MEMBER_PK)) return ids.includes(key.pk.slice(MEMBER_PK.length)) ? 'delete' : 'keep';
  return typeOf(key)?.erase ?? 'delete';
}

/** A section name of the export for an item: its inventory type, else its key prefix (a type added later). */
export function sectionOf(key: { pk: string; sk: string }): string {
  const t = typeOf(key);
  if (t) return t.type;
  const prefix = key.pk.startsWith(MEMBER_PK) ? key.sk : key.pk;
  return prefix.split('#')[0] || prefix;
}
