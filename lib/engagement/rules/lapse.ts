/**
 * The lapse alert: one due row per member, moved forward by every paid order; when it falls due
 * it alerts staff if the member's tier is high enough and no order came since.
 */
import { RulesSchema } from '../../config/rules.ts';
import { DAY_MS } from '../../time.ts';
import { defineRule, dueBase, NOTHING } from './types.ts';

const TIER_ORDER = ['normal', 'silver', 'gold', 'diamond'];

export const lapseAlert = defineRule({
  id: 'lapse_alert',
  class: 'transactional',
  destination: 'staff',
  trigger: 'paid_order',
  dueKind: 'lapse',
  configKey: 'lapseAlert',
  configSchema: RulesSchema.shape.lapseAlert,
  run(t, m, cfg) {
    if (t.kind === 'paid_order') {
      if (!cfg.enabled) return NOTHING;
      const lastOrderAt = Math.max(t.paidAt, ...m.history.orders.map((o) => o.paidAt));
      return { messages: [], due: [{ memberId: m.memberId, kind: 'lapse', key: 'current', dueAt: lastOrderAt + cfg.days * DAY_MS, data: { lastOrderAt } }] };
    }
    if (t.kind !== 'due' || t.row.kind !== 'lapse') return NOTHING;
    const last = Math.max(0, ...m.history.orders.map((o) => o.paidAt));
    if (last > Number(t.row.data.lastOrderAt)) return { messages: [], due: [], cancelled: 'ordered_since' };
    if (TIER_ORDER.indexOf(m.tier) < TIER_ORDER.indexOf(cfg.minTier)) return { messages: [], due: [], cancelled: 'tier_below_threshold' };
    return {
      messages: [
        {
          ...dueBase(t.row, m),
          ruleId: 'lapse_alert',
          step: String(last),
          class: 'transactional',
          destination: 'staff',
          payload: { tier: m.tier, lastOrderAt: last, gmvFen: m.gmvFen, days: cfg.days },
        },
      ],
      due: [],
    };
  },
});
