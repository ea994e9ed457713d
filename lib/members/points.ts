/**
 * Points: earn lots with an expiry; spend and clawback consume lots first-in-first-out; every
 * change is a ledger row in the same transaction as the balance, so the balance never drifts
 * from the ledger. A clawback larger than what is left records a negative balance.
 *
 * A lot earned in a transaction is not readable until it commits, yet a clawback planned in the
 * same transaction (an order whose refund arrived first) must take from it. So a new lot is
 * written as an insert-if-absent update (`Tx.add` with set-if-missing attributes, which merge
 * per item): a later consume() in the same plan lowers its `remaining` before the commit. The
 * ledger row's conditional create keeps one earn from being applied twice.
 */
import type { Port, Reads } from '../port.ts';
import type { StoredMember } from './record.ts';
import { localDay, startOfLocalDay } from '../time.ts';
import { lotKey, lots as lotRows, type Lot, type LotTake } from '../store/entities/lot.ts';
import { ledger as ledgerRows } from '../store/entities/ledger.ts';
import { stableId } from '../ids.ts';
import type { Tx } from '../store/tx.ts';

/** First in, first out: oldest earned first. */
const fifo = (a: Lot, b: Lot) => a.earnedAt - b.earnedAt || (a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0);

/** End of the 12th month after earning (local time), e.g. earned 2026-03-15 → expires 2027-03-31 end. */
export function lotExpiry(earnedAt: number, tz: string, months = 12): number {
  const day = localDay(earnedAt, tz);
  const [y, m] = day.split('-').map(Number) as [number, number];
  const endMonth = m + months; // 1-based month index of the expiry month
  const firstOfNext = new Date(Date.UTC(y + Math.floor(endMonth / 12), endMonth % 12, 1));
  // 00:00 local on the first day after the expiry month, minus 1 ms.
  const nextDay = firstOfNext.toISOString().slice(0, 10);
  return startOfLocalDay(nextDay, tz) - 1;
}

/**
 * What points need of a port: the transaction, the clock, the timezone and the lot reads. An
 * event's planner passes its Port; a member-centre use case (lib/loyalty) its own.
 */
export type PointsPort = Pick<Port, 'tx' | 'now' | 'tz'> & { reads: Pick<Reads, 'lots'> };

/** Lots earned earlier in a transaction that has not committed yet. */
const pendingLots = new WeakMap<Tx, Lot[]>();

export type { Lot, LotTake };

function writeNewLot(p: PointsPort, lot: Lot): void {
  lotRows.upsertNew(p.tx, lot, p.tz);
}

export function earn(p: PointsPort, m: StoredMember, points: number, reason: string, ref: string, at: number): void {
  if (points <= 0) return;
  const lotId = stableId('lot', reason, ref);
  const expiresAtMs = lotExpiry(at, p.tz);
  const lot: Lot = {
    ...lotKey(m.memberId, at, lotId),
    lotId,
    memberId: m.memberId,
    earned: points,
    remaining: points,
    earnedAt: at,
    expiresAtMs,
    reason,
    ref,
  };
  writeNewLot(p, lot);
  pendingLots.set(p.tx, [...(pendingLots.get(p.tx) ?? []), lot]);
  m.points += points;
  ledger(p, m, points, reason, ref, at);
}

/** Removes points FIFO from the member's lots (its own and merged-in partitions); returns what it took from which lot. */
export async function consume(p: PointsPort, m: StoredMember, points: number, reason: string, ref: string, at: number): Promise<LotTake[]> {
  if (points <= 0) return [];
  const takes: LotTake[] = [];
  let left = points;
  const ids = [m.memberId, ...(m.mergedFrom ?? [])];
  const pending = (pendingLots.get(p.tx) ?? []).filter((l) => ids.includes(l.memberId) && l.remaining > 0 && l.expiresAtMs > p.now);
  const lots = [...(await openLots(p, m)), ...pending].sort(fifo);
  for (const lot of lots) {
    if (left <= 0) break;
    const take = Math.min(lot.remaining, left);
    if (pending.includes(lot)) {
      lot.remaining -= take;
      writeNewLot(p, lot);
    } else {
      lotRows.take(p.tx, lot, take);
    }
    takes.push({ pk: lot.pk, sk: lot.sk, n: take });
    left -= take;
  }
  m.points -= points;
  ledger(p, m, -points, reason, ref, at);
  return takes;
}

/** Puts points back into the lots they were taken from (their original expiry), with a ledger row. */
export function restore(p: PointsPort, m: StoredMember, takes: readonly LotTake[], reason: string, ref: string, at: number): void {
  const points = takes.reduce((s, t) => s + t.n, 0);
  if (points <= 0) return;
  for (const t of takes) lotRows.giveBack(p.tx, t);
  m.points += points;
  ledger(p, m, points, reason, ref, at);
}

function ledger(p: PointsPort, m: StoredMember, delta: number, reason: string, ref: string, at: number): void {
  const entryId = stableId('ledger', reason, ref, String(delta));
  ledgerRows.append(p.tx, {
    entryId,
    memberId: m.memberId,
    delta,
    balanceAfter: m.points,
    reason,
    ref,
    at,
  });
}

/** Unexpired lots with points left, oldest first (bounded: at most 200 are read). */
export async function openLots(p: Pick<PointsPort, 'now' | 'reads'>, m: StoredMember): Promise<Lot[]> {
  const lots: Lot[] = [];
  for (const id of [m.memberId, ...(m.mergedFrom ?? [])]) lots.push(...(await p.reads.lots(id)));
  return lots.filter((l) => l.remaining > 0 && l.expiresAtMs > p.now).sort(fifo);
}

/** Points a paid amount earns: whole yuan × HUB_POINTS_PER_YUAN. */
export function pointsFor(fen: number, perYuan: number): number {
  return Math.floor(Math.max(0, fen) / 100) * perYuan;
}
