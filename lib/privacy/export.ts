/**
 * Access and copy (PIPL art. 45; docs/privacy.md#access): everything the hub holds about one
 * person, as stored, found through the key schema — never a scan:
 *
 *   - every item of the member partition `MEMBER#<id>` of the record and of each record merged
 *     into it (profile, points lots and ledger, consent history, suppressions, sent log, due work,
 *     and any item type added to the partition later);
 *   - their identities (gsi1 `MIDENT#<id>`), orders (gsi1 `MORDERS#<id>`) and coupons (gsi1 `MCOUPONS#<id>`);
 *   - the send records and outbox rows of the messages named in the partition;
 *   - the rows keyed by the person's addresses: SMS codes and send limits (phone HMAC, WeChat
 *     address), scan limits and invalid-scan counts.
 *
 * Items are grouped by inventory type (lib/privacy/inventory.ts `sectionOf`); a type the
 * inventory does not know yet is its own section under its key prefix.
 */
import type { Store } from '../store/client.ts';
import { allItems, itemsByKey } from '../store/item-ops.ts';
import { memberPartition } from '../store/entities/member.ts';
import { memberIdentitiesPartition, parseIdentityKey } from '../store/entities/identity.ts';
import { memberOrdersPartition } from '../store/entities/order.ts';
import { memberCouponsPartition } from '../store/entities/coupon.ts';
import { sendKey } from '../store/entities/send.ts';
import { outboxKey } from '../store/entities/outbox.ts';
import { otpLimitPartitions, otpPartition } from '../store/entities/otp.ts';
import { scanPartitions } from '../store/entities/scan-limit.ts';
import { NotFoundError } from '../errors.ts';
import { readMember, type StoredMember } from '../members/record.ts';
import { memberView } from '../members/view.ts';
import { sectionOf } from './inventory.ts';

export type Item = Record<string, unknown>;

export interface MemberData {
  memberId: string;
  exportedAt: number;
  /** The member as the admin API shows it, with the consent given. */
  profile: ReturnType<typeof memberView> & { consent?: StoredMember['consent'] };
  /** Every item, as stored, by inventory type. */
  sections: Record<string, Item[]>;
}

export const partitionItems = (s: Store, pk: string) => allItems(s, { pk });
export const indexItems = (s: Store, gsi1pk: string) => allItems(s, { gsi1pk });

/** The record ids of one person: the record and every record merged into it. */
export function recordIds(m: Pick<StoredMember, 'memberId' | 'mergedFrom'>): string[] {
  return [...new Set([m.memberId, ...(m.mergedFrom ?? [])])];
}

/** Everything keyed by the person: the items the export holds (and the erasure removes first). */
export async function personItems(s: Store, m: Pick<StoredMember, 'memberId' | 'mergedFrom'>): Promise<Item[]> {
  const ids = recordIds(m);
  const items: Item[] = [];
  for (const id of ids) {
    items.push(...(await partitionItems(s, memberPartition(id))));
    items.push(...(await indexItems(s, memberIdentitiesPartition(id))));
    items.push(...(await indexItems(s, memberOrdersPartition(id))));
    items.push(...(await indexItems(s, memberCouponsPartition(id))));
  }
  const identities = items.filter((i) => String(i.pk).startsWith('IDENT#')).map((i) => parseIdentityKey({ pk: String(i.pk) }));
  const messageIds = [...new Set(items.map((i) => i.messageId).filter((x): x is string => typeof x === 'string'))];
  const byAddress: string[] = [];
  for (const i of identities) {
    if (i.kind === 'phone') byAddress.push(otpPartition(i.value), ...otpLimitPartitions({ phoneHash: i.value }));
    if (i.kind === 'wechat_openid') byAddress.push(...otpLimitPartitions({ wechat: i.value }), ...scanPartitions(i.value));
  }
  for (const pk of byAddress) items.push(...(await partitionItems(s, pk)));
  items.push(...(await itemsByKey(s, messageIds.flatMap((id) => [sendKey(id), outboxKey(id)]))));
  // One copy of each item (a profile found twice through merges, a message named twice).
  return [...new Map(items.map((i) => [`${String(i.pk)}\u0000${String(i.sk)}`, i])).values()];
}

/** GET /me/data, GET /members/{id}/export: the person's data, or 404 for an unknown or erased record. */
export async function exportMember(s: Store, memberId: string, now: number): Promise<MemberData> {
  const m = await readMember(s, memberId);
  if (!m) throw new NotFoundError(`no member ${memberId}`);
  const sections: Record<string, Item[]> = {};
  for (const item of await personItems(s, m)) (sections[sectionOf({ pk: String(item.pk), sk: String(item.sk) })] ??= []).push(item);
  for (const list of Object.values(sections)) list.sort((a, b) => (`${String(a.pk)} ${String(a.sk)}` < `${String(b.pk)} ${String(b.sk)}` ? -1 : 1));
  return { memberId: m.memberId, exportedAt: now, profile: { ...memberView(m), ...(m.consent ? { consent: m.consent } : {}) }, sections };
}
