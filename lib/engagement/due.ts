/**
 * Scheduled engagement: due work rows written in an event's transaction (lib/engagement/rules/)
 * and found later by the nudge sweep through the `DUE#<local day>#<shard>` index (never a table scan).
 *
 *   repurchase ladder  rules/repurchase.ts    lapse alert  rules/lapse.ts
 *   (a ladder coupon step and a configured birthday coupon issue real coupons: lib/loyalty/coupons.ts)
 *   birthday           rules/birthday.ts      points expiry  rules/expiry.ts, found through the
 *                                             lots' expiry index (LOTEXP#<local day>#<shard>, lib/store/entities/lot.ts)
 */
import type { ApplyDeps } from '../port.ts';
import { readMember } from '../members/record.ts';
import { dues } from '../store/entities/due.ts';
import { lots } from '../store/entities/lot.ts';
import { outbox } from '../store/entities/outbox.ts';
import { Tx } from '../store/tx.ts';
import { TxConditionFailed } from '../store/errors.ts';
import { addDays, localDay } from '../time.ts';
import { drainOutbox, messageIdOf, planOutboxRows } from './outbox.ts';
import { runRules } from './rules/registry.ts';
import { hubIssuer } from '../loyalty/coupons.ts';
import type { DueRow, RuleEnv } from './rules/types.ts';

export type { DueKind, DueRow } from './rules/types.ts';

/**
 * The nudge sweep: every due row of the last `lookbackDays` local days whose time has come is
 * turned into its message (outbox + the row marked done, in one transaction), then drained.
 * Points-expiry reminders: lots expiring `daysBefore` days from today.
 */
export async function sweepDue(deps: ApplyDeps, opts: { lookbackDays?: number } = {}): Promise<{ planned: number; cancelled: number; expiryReminders: number }> {
  const now = deps.now();
  const tz = deps.cfg.HUB_TIMEZONE;
  const rules = deps.cfg.rules;
  const env: RuleEnv = { tz, memberCentreUrl: deps.cfg.HUB_MEMBER_CENTRE_URL };
  const store = { db: deps.db, table: deps.table };
  const today = localDay(now, tz);
  let planned = 0;
  let cancelled = 0;
  for (let d = opts.lookbackDays ?? 7; d >= 0; d--) {
    const day = addDays(today, -d);
    for await (const row of dues.listDue<DueRow>(store, day, now)) {
      const m = await readMember(store, row.memberId);
      if (!m) continue;
      const out = runRules({ kind: 'due', row }, m, rules, env);
      const tx = new Tx(deps.table);
      // Coupons the step grants exist before the message naming them is sent (same transaction).
      const issued = (out.coupons ?? []).map((g) => hubIssuer.issue(tx, m.memberId, g, now));
      const messages = issued.length
        ? out.messages.map((msg) => ({ ...msg, payload: { ...msg.payload, couponCodes: issued.map((c) => c.code), couponValidUntil: Math.min(...issued.map((c) => c.validUntil)) } }))
        : out.messages;
      const ids = planOutboxRows(tx, messages, now);
      dues.markDone(tx, row, out.cancelled ?? 'planned', now);
      for (const next of out.due) dues.write(tx, 'due:next', next, tz);
      try {
        await tx.commit(deps.db);
      } catch (err) {
        if (err instanceof TxConditionFailed) continue; // another sweep took it, or the row moved
        throw err;
      }
      if (out.messages.length) planned++;
      else cancelled++;
      await drainOutbox(ids, deps).catch(() => undefined); // the outbox sweep retries
    }
  }
  const expiryReminders = rules.pointsExpiry.enabled ? await planExpiryReminders(deps, addDays(today, rules.pointsExpiry.daysBefore), now, env) : 0;
  return { planned, cancelled, expiryReminders };
}

async function planExpiryReminders(deps: ApplyDeps, expiryDay: string, now: number, env: RuleEnv): Promise<number> {
  const store = { db: deps.db, table: deps.table };
  let n = 0;
  const seen = new Set<string>();
  for await (const lot of lots.expiringOn(store, expiryDay)) {
    const memberId = String(lot.memberId);
    if (seen.has(memberId) || Number(lot.remaining) <= 0) continue;
    seen.add(memberId);
    const m = await readMember(store, memberId);
    if (!m) continue;
    const { messages } = runRules({ kind: 'lots_expiring', expiryDay, now }, m, deps.cfg.rules, env);
    if (!messages.length) continue;
    if (await outbox.exists(deps, messageIdOf({ memberId: m.memberId, ruleId: 'points_expiry', step: expiryDay }))) continue;
    const tx = new Tx(deps.table);
    const ids = planOutboxRows(tx, messages, now);
    await tx.commit(deps.db);
    await drainOutbox(ids, deps).catch(() => undefined);
    n++;
  }
  return n;
}
