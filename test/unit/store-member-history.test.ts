/**
 * The member profile's history: readable names in the domain, short names and tuples in the
 * stored item (lib/store/entities/member.ts). The stored form is the one items already in the
 * table use, so the mapping must read them as they are and write them back unchanged.
 */
import { describe, expect, it } from 'vitest';
import { marshall } from '@aws-sdk/util-dynamodb';
import { Tx } from '../../lib/store/tx.ts';
import { fromStored, historyFromStored, historyToStored, members, toStored, type MemberHistory, type ProfileItem } from '../../lib/store/entities/member.ts';
import { HISTORY_INLINE_FACTS } from '../../lib/store/entities/member-history.ts';

/** A profile item exactly as the tuple-history code wrote it (a member who followed twice, unfollowed, scanned, registered and paid twice). */
const OLD_ITEM_JSON = `{
  "pk": "MEMBER#01JBX5Q8Z0000000000000000",
  "sk": "#PROFILE",
  "memberId": "01JBX5Q8Z0000000000000000",
  "version": 7,
  "status": "member",
  "points": 173,
  "h": {
    "f": [[1741568400000, "qr_store"], [1741572000000, "qr_ad"]],
    "u": [1741654800000],
    "q": [[1741658400000, "qr_event"]],
    "c": [[1741662000000, "pack_card"]],
    "r": 1741659300000,
    "o": [["youzan:1:A", 1741600800000, 5000, "youzan"], ["tmall:2:B", 1741694400000, 12345, "tmall"]],
    "seen": [1741568000000, "organic"]
  },
  "credits": {"[\\"qr_store\\",\\"first\\",\\"2025-03-10\\"]": {"newFans": 1}},
  "updatedAt": 1741694400000
}`;

/** The same history, read by hand from the literal above. */
const READABLE: MemberHistory = {
  follows: [
    { at: 1_741_568_400_000, channel: 'qr_store' },
    { at: 1_741_572_000_000, channel: 'qr_ad' },
  ],
  unfollows: [1_741_654_800_000],
  qrScans: [{ at: 1_741_658_400_000, channel: 'qr_event' }],
  codeScans: [{ at: 1_741_662_000_000, channel: 'pack_card' }],
  registeredAt: 1_741_659_300_000,
  orders: [
    { key: 'youzan:1:A', paidAt: 1_741_600_800_000, paidFen: 5_000, platform: 'youzan' },
    { key: 'tmall:2:B', paidAt: 1_741_694_400_000, paidFen: 12_345, platform: 'tmall' },
  ],
  seen: { at: 1_741_568_000_000, channel: 'organic' },
};

describe('member history: stored short form ↔ readable form', () => {
  it('reads an item written by the tuple-history code into the readable history', () => {
    const item = JSON.parse(OLD_ITEM_JSON) as Record<string, unknown>;
    const m = fromStored<ProfileItem & Record<string, unknown>>(item);
    expect(m.history).toEqual(READABLE);
    expect(m).not.toHaveProperty('h');
    expect(m.memberId).toBe('01JBX5Q8Z0000000000000000');
    expect(m.credits).toEqual(item.credits);
  });

  it('writes it back as the very same stored item (no migration, same size)', () => {
    const item = JSON.parse(OLD_ITEM_JSON) as Record<string, unknown>;
    const back = toStored(fromStored(item));
    expect(back).toEqual(item);
    expect(back).not.toHaveProperty('history');
    // The attribute values DynamoDB stores (and bills by) are identical.
    expect(marshall(back)).toEqual(marshall(item));
  });

  it('round-trips a full history both ways', () => {
    expect(historyFromStored(historyToStored(READABLE))).toEqual(READABLE);
    const stored = historyToStored(READABLE);
    expect(stored).toEqual((JSON.parse(OLD_ITEM_JSON) as { h: unknown }).h);
    expect(historyToStored(historyFromStored(stored))).toEqual(stored);
  });

  it('an empty history stores no `r` and no `seen` attribute', () => {
    const empty: MemberHistory = { follows: [], unfollows: [], qrScans: [], codeScans: [], orders: [] };
    const stored = historyToStored(empty);
    expect(stored).toEqual({ f: [], u: [], q: [], c: [], o: [] });
    expect(Object.keys(stored)).toEqual(['f', 'u', 'q', 'c', 'o']);
    expect(historyFromStored(stored)).toEqual(empty);
    expect(Object.keys(historyFromStored(stored))).toEqual(['follows', 'unfollows', 'qrScans', 'codeScans', 'orders']);
  });

  it('the profile writes put the short form in the transaction', () => {
    const tx = new Tx('t');
    const m: ProfileItem & { points: number } = { memberId: 'm1', version: 3, points: 5, history: READABLE };
    members.write(tx, m, { isNew: false, prevVersion: 2 });
    members.writeMergedAway(tx, { memberId: 'm2', version: 4, history: READABLE }, 'm1', 99);
    const [put, merged] = tx.build().items as { Put: { Item: Record<string, unknown> } }[];
    const h = historyToStored(READABLE);
    expect(put!.Put.Item).toEqual({ memberId: 'm1', version: 3, points: 5, h, pk: 'MEMBER#m1', sk: '#PROFILE' });
    expect(merged!.Put.Item).toEqual({ memberId: 'm2', version: 5, h, mergedInto: 'm1', credits: {}, updatedAt: 99, pk: 'MEMBER#m2', sk: '#PROFILE' });
  });
});

describe('member history: a long history in month buckets (lib/store/entities/member-history.ts)', () => {
  // 40 code scans, one every 10 days from 2025-01-01 00:00 UTC: day 0 … 390 (2026-01-26), months 2025-01 … 2026-01.
  const DAY = 86_400_000;
  const START = Date.UTC(2025, 0, 1);
  const scans = Array.from({ length: 40 }, (_, i) => ({ at: START + i * 10 * DAY, channel: `b${i % 2}` }));
  const long: MemberHistory = { follows: [], unfollows: [], qrScans: [], codeScans: scans, orders: [], registeredAt: START, seen: { at: START, channel: 'organic' } };
  const monthsByHand = ['2025-01', '2025-02', '2025-03', '2025-04', '2025-05', '2025-06', '2025-07', '2025-08', '2025-09', '2025-10', '2025-11', '2025-12', '2026-01'];
  const profileOf = (tx: Tx) => (tx.build().items as { Put?: { Item: Record<string, unknown> }; Delete?: { Key: Record<string, unknown> } }[]).map((i) => i.Put?.Item ?? i.Delete!.Key);

  it('keeps 32 facts inline and moves a 33rd-fact history into month buckets, the profile naming them', () => {
    const short = { ...long, codeScans: scans.slice(0, HISTORY_INLINE_FACTS) };
    expect(toStored({ memberId: 'm', version: 1, history: short })).toEqual({ memberId: 'm', version: 1, h: historyToStored(short) });
    const stored = toStored({ memberId: 'm', version: 1, history: long });
    expect(stored.h).toEqual({ r: START, seen: [START, 'organic'] });
    expect(stored.hb).toEqual(monthsByHand);
    expect(stored.hd).toMatch(/^[0-9a-f]{16}$/);
  });

  it('a new record writes every bucket; a read record rewrites only the month that changed; the buckets read back into the same history', () => {
    const tx = new Tx('t');
    members.write(tx, { memberId: 'm', version: 1, history: long }, { isNew: true, prevVersion: 0 });
    const written = profileOf(tx);
    expect(written.map((i) => i.sk)).toEqual(['#PROFILE', ...monthsByHand.map((m) => `HIST#${m}`)]);
    // January 2025: days 0, 10, 20, 30 → four scans.
    expect(written[1]).toEqual({ pk: 'MEMBER#m', sk: 'HIST#2025-01', h: { c: scans.slice(0, 4).map((s) => [s.at, s.channel]) } });

    const buckets = new Map(written.slice(1).map((i) => [String(i.sk).slice(5), i.h as Record<string, never>]));
    const read = fromStored<ProfileItem>(written[0]!, buckets);
    expect(read.history).toEqual(long);
    expect(members.historyAsRead(read)).toEqual(long);
    read.history.codeScans.push({ at: Date.UTC(2025, 5, 15), channel: 'b9' });
    read.history.codeScans.sort((a, b) => a.at - b.at);
    const again = new Tx('t');
    members.write(again, read, { isNew: false, prevVersion: 1 });
    expect(profileOf(again).map((i) => i.sk)).toEqual(['#PROFILE', 'HIST#2025-06']);
    // The history as read stays what was read.
    expect(members.historyAsRead(read)).toEqual(long);
  });

  it('keeps the facts that are not month lists (WeCom contacts, referrals) in the profile and reads them back', () => {
    const withOthers: MemberHistory = {
      ...long,
      contactAdds: [{ at: START + 2 * DAY, guide: 'guide_li', channel: 'cw_store' }],
      contactEnds: [{ at: START + 9 * DAY, guide: 'guide_li', by: 'customer' }],
      referrals: [{ at: START + 5 * DAY, memberId: 'referred-1', points: 100 }],
    };
    const tx = new Tx('t');
    members.write(tx, { memberId: 'm', version: 1, history: withOthers }, { isNew: true, prevVersion: 0 });
    const written = profileOf(tx);
    // The profile keeps them in their stored short form (h.w, h.x, h.rf), written out by hand.
    expect(written[0]!.h).toEqual({
      r: START,
      seen: [START, 'organic'],
      w: [[START + 2 * DAY, 'guide_li', 'cw_store']],
      x: [[START + 9 * DAY, 'guide_li', 'customer']],
      rf: [[START + 5 * DAY, 'referred-1', 100]],
    });
    const read = fromStored<ProfileItem>(written[0]!, new Map(written.slice(1).map((i) => [String(i.sk).slice(5), i.h as Record<string, never>])));
    expect(read.history).toEqual(withOthers);
  });

  it('a history that shrinks back under the limit deletes its buckets', () => {
    const tx = new Tx('t');
    members.write(tx, { memberId: 'm', version: 1, history: long }, { isNew: true, prevVersion: 0 });
    const written = profileOf(tx);
    const read = fromStored<ProfileItem>(written[0]!, new Map(written.slice(1).map((i) => [String(i.sk).slice(5), i.h as Record<string, never>])));
    read.history.codeScans = scans.slice(0, 3);
    const again = new Tx('t');
    members.write(again, read, { isNew: false, prevVersion: 1 });
    const out = profileOf(again);
    expect(out[0]).toEqual({ memberId: 'm', version: 1, h: historyToStored(read.history), pk: 'MEMBER#m', sk: '#PROFILE' });
    expect(out.slice(1)).toEqual(monthsByHand.map((m) => ({ pk: 'MEMBER#m', sk: `HIST#${m}` })));
  });
});
