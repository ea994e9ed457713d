/**
 * The repurchase ladder: one due row per step after a member's first paid order; when a step
 * falls due it is sent only if the member still has exactly one order (any repeat purchase
 * cancels the rest of the ladder). A `coupon` step issues a real coupon of its percentOff with
 * the message (the nudge sweep issues it: lib/engagement/due.ts).
 */
import { RulesSchema } from '../../config/rules.ts';
import { DAY_MS } from '../../time.ts';
import { defineRule, dueBase, NOTHING, type DueRow } from './types.ts';

/** Days a ladder coupon is valid when its step does not say. */
export const DEFAULT_LADDER_COUPON_DAYS = 14;

export const repurchase = defineRule({
  id: 'repurchase',
  class: 'marketing',
  destination: 'member',
  trigger: 'paid_order',
  dueKind: 'repurchase',
  configKey: 'repurchase',
  configSchema: RulesSchema.shape.repurchase,
  run(t, m, cfg) {
    if (t.kind === 'paid_order') {
      if (!cfg.enabled || m.history.orders.length !== 1) return NOTHING;
      const due: DueRow[] = cfg.ladder.map((step, i) => ({
        memberId: m.memberId,
        kind: 'repurchase',
        key: `${i}`,
        dueAt: t.paidAt + step.day * DAY_MS,
        data: { step: i, orderRef: t.orderRef, ...step },
      }));
      return { messages: [], due };
    }
    if (t.kind !== 'due' || t.row.kind !== 'repurchase') return NOTHING;
    const row = t.row;
    if (m.history.orders.length > 1) return { messages: [], due: [], cancelled: 'repeat_purchase' };
    const step = cfg.ladder[Number(row.data.step)];
    if (!step) return { messages: [], due: [], cancelled: 'ladder_changed' };
    return {
      messages: [
        {
          ...dueBase(row, m),
          ruleId: 'repurchase',
          step: `${row.data.orderRef}#${row.key}`,
          class: 'marketing',
          destination: 'member',
          payload: { templateId: cfg.templateId, kind: step.kind, percentOff: step.percentOff, day: step.day },
        },
      ],
      due: [],
      ...(step.kind === 'coupon' && step.percentOff > 0
        ? {
            coupons: [
              {
                source: 'repurchase' as const,
                ref: `${String(row.data.orderRef)}#${row.key}`,
                percentOff: step.percentOff,
                ...(step.thresholdFen !== undefined ? { thresholdFen: step.thresholdFen } : {}),
                validDays: step.validDays ?? DEFAULT_LADDER_COUPON_DAYS,
              },
            ],
          }
        : {}),
    };
  },
});
