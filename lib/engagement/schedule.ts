/**
 * Scheduled engagement: due work rows written in the event's transaction and found later by the
 * nudge sweep through the `DUE#<local day>` index (never a table scan).
 *
 *   repurchase ladder  one row per step after a member's first paid order; at the sweep a step
 *                      is sent only if the member still has exactly one order (any repeat
 *                      purchase cancels the rest of the ladder)
 *   lapse alert        one row per member, moved forward by every paid order; at the sweep it
 *                      alerts staff if the member's tier is high enough and no order came since
 *   birthday           one row per member and year, written on registration and re-armed yearly
 *   points expiry      found through the lots' expiry index (LOTEXP#<local day>, lib/store/entities/lot.ts)
 */
import type { PlanContext } from '../apply/context.ts';
import type { StoredMember } from '../members/record.ts';
import { readMember } from '../members/record.ts';
import { dues } from '../store/entities/due.ts';
import { lots } from '../store/entities/lot.ts';
import { Tx } from '../store/tx.ts';
import { TxConditionFailed } from '../store/errors.ts';
import { addDays, DAY_MS, localDay, localToEpoch } from '../time.ts';
import type { RulesConfig } from '../config/rules.ts';
import { drainOutbox, messageIdOf, planOutboxRows, type PlannedMessage } from './outbox.ts';
import { outbox } from '../store/entities/outbox.ts';
import type { ApplyDeps } from '../apply/index.ts';

export type DueKind = 'repurchase' | 'lapse' | 'birthday';

export interface DueRow {
  memberId: string;
  kind: DueKind;
  key: string;
  dueAt: number;
  /** Step data (ladder step index, the order that started it, the year of a birthday). */
  data: Record<string, unknown>;
}

/** On a member's first paid order: the repurchase ladder; on every paid order: the lapse alert moves. */
export function scheduleAfterOrder(ctx: PlanContext, m: StoredMember, orderRef: string, paidAt: number): void {
  const rules = ctx.deps.cfg.rules;
  const items: DueRow[] = [];
  if (rules.repurchase.enabled && m.history.orders.length === 1) {
    rules.repurchase.ladder.forEach((step, i) =>
      items.push({ memberId: m.memberId, kind: 'repurchase', key: `${i}`, dueAt: paidAt + step.day * DAY_MS, data: { step: i, orderRef, ...step } }),
    );
  }
  const lastOrderAt = Math.max(paidAt, ...m.history.orders.map((o) => o.paidAt));
  if (rules.lapseAlert.enabled) {
    items.push({ memberId: m.memberId, kind: 'lapse', key: 'current', dueAt: lastOrderAt + rules.lapseAlert.days * DAY_MS, data: { lastOrderAt } });
  }
  for (const row of items) dues.write(ctx.tx, `due:${row.kind}:${row.key}`, row, ctx.tz);
}

/** On registration with a birthday: the next birthday at 10:00 local. */
export function scheduleBirthday(ctx: PlanContext, m: StoredMember, birthday: string, now: number): void {
  if (!ctx.deps.cfg.rules.birthday.enabled) return;
  const row = nextBirthdayRow(m.memberId, birthday, now, ctx.tz);
  if (row) dues.write(ctx.tx, `due:birthday:${row.key}`, row, ctx.tz);
}

export function nextBirthdayRow(memberId: string, birthday: string, now: number, tz: string): DueRow | undefined {
  const mmdd = birthday.slice(-5);
  const today = localDay(now, tz);
  let year = Number(today.slice(0, 4));
  for (let i = 0; i < 2; i++, year++) {
    const day = mmdd === '02-29' && !isLeap(year) ? `${year}-02-28` : `${year}-${mmdd}`;
    const at = localToEpoch(day, 10, 0, tz);
    if (day >= today && !Number.isNaN(at)) return { memberId, kind: 'birthday', key: String(year), dueAt: at, data: { year, birthday: mmdd } };
  }
  return undefined;
}

const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

const TIER_ORDER = ['normal', 'silver', 'gold', 'diamond'];

/** What a due row turns into, given the member now. `undefined` = cancelled (recorded on the row). */
export function messageForDue(row: DueRow, m: StoredMember, rules: RulesConfig): { message?: PlannedMessage; cancelled?: string } {
  const base = { memberId: m.memberId, triggeredAt: row.dueAt, appId: m.wechat?.appId, openid: m.wechat?.openid };
  switch (row.kind) {
    case 'repurchase': {
      if (m.history.orders.length > 1) return { cancelled: 'repeat_purchase' };
      const step = rules.repurchase.ladder[Number(row.data.step)];
      if (!step) return { cancelled: 'ladder_changed' };
      return {
        message: {
          ...base,
          ruleId: 'repurchase',
          step: `${row.data.orderRef}#${row.key}`,
          class: 'marketing',
          destination: 'member',
          payload: { templateId: rules.repurchase.templateId, kind: step.kind, percentOff: step.percentOff, day: step.day },
        },
      };
    }
    case 'lapse': {
      const last = Math.max(0, ...m.history.orders.map((o) => o.paidAt));
      if (last > Number(row.data.lastOrderAt)) return { cancelled: 'ordered_since' };
      if (TIER_ORDER.indexOf(m.tier) < TIER_ORDER.indexOf(rules.lapseAlert.minTier)) return { cancelled: 'tier_below_threshold' };
      return {
        message: {
          ...base,
          ruleId: 'lapse_alert',
          step: String(last),
          class: 'transactional',
          destination: 'staff',
          payload: { tier: m.tier, lastOrderAt: last, gmvFen: m.gmvFen, days: rules.lapseAlert.days },
        },
      };
    }
    case 'birthday':
      return {
        message: { ...base, ruleId: 'birthday', step: row.key, class: 'marketing', destination: 'member', payload: { templateId: rules.birthday.templateId } },
      };
  }
}

/**
 * The nudge sweep: every due row of the last `lookbackDays` local days whose time has come is
 * turned into its message (outbox + the row marked done, in one transaction), then drained.
 * Points-expiry reminders: lots expiring `daysBefore` days from today.
 */
export async function sweepDue(deps: ApplyDeps, opts: { lookbackDays?: number } = {}): Promise<{ planned: number; cancelled: number; expiryReminders: number }> {
  const now = deps.now();
  const tz = deps.cfg.HUB_TIMEZONE;
  const rules = deps.cfg.rules;
  const store = { db: deps.db, table: deps.table };
  const today = localDay(now, tz);
  let planned = 0;
  let cancelled = 0;
  for (let d = opts.lookbackDays ?? 7; d >= 0; d--) {
    const day = addDays(today, -d);
    for await (const row of dues.listDue<DueRow>(store, day, now)) {
      const m = await readMember(store, row.memberId);
      if (!m) continue;
      const out = messageForDue(row, m, rules);
      const tx = new Tx(deps.table);
      const ids = out.message ? planOutboxRows(tx, [out.message], now) : [];
      dues.markDone(tx, row, out.cancelled ?? 'planned', now);
      if (row.kind === 'birthday' && m.birthday) {
        const next = nextBirthdayRow(m.memberId, m.birthday, row.dueAt + DAY_MS, tz);
        if (next && next.key !== row.key) dues.write(tx, 'due:next', next, tz);
      }
      try {
        await tx.commit(deps.db);
      } catch (err) {
        if (err instanceof TxConditionFailed) continue; // another sweep took it, or the row moved
        throw err;
      }
      if (out.message) planned++;
      else cancelled++;
      await drainOutbox(ids, deps).catch(() => undefined); // the outbox sweep retries
    }
  }
  const expiryReminders = rules.pointsExpiry.enabled ? await planExpiryReminders(deps, addDays(today, rules.pointsExpiry.daysBefore), now) : 0;
  return { planned, cancelled, expiryReminders };
}

async function planExpiryReminders(deps: ApplyDeps, expiryDay: string, now: number): Promise<number> {
  const rules = deps.cfg.rules;
  let n = 0;
  const seen = new Set<string>();
  for await (const lot of lots.expiringOn({ db: deps.db, table: deps.table }, expiryDay)) {
    const memberId = String(lot.memberId);
    if (seen.has(memberId) || Number(lot.remaining) <= 0) continue;
    seen.add(memberId);
    const m = await readMember({ db: deps.db, table: deps.table }, memberId);
    if (!m?.wechat) continue;
    if (await outbox.exists(deps, messageIdOf({ memberId: m.memberId, ruleId: 'points_expiry', step: expiryDay }))) continue;
    const tx = new Tx(deps.table);
    const ids = planOutboxRows(
      tx,
      [
        {
          memberId: m.memberId,
          ruleId: 'points_expiry',
          step: expiryDay,
          class: 'marketing',
          destination: 'member',
          appId: m.wechat.appId,
          openid: m.wechat.openid,
          triggeredAt: now,
          payload: { templateId: rules.pointsExpiry.templateId, expiryDay, balance: m.points },
        },
      ],
      now,
    );
    await tx.commit(deps.db);
    await drainOutbox(ids, deps).catch(() => undefined);
    n++;
  }
  return n;
}
