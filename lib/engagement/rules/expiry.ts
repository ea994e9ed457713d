/** Points-expiry reminder: a member with points in lots expiring on a coming local day. */
import { RulesSchema } from '../../config/rules.ts';
import { defineRule, NOTHING } from './types.ts';

export const pointsExpiry = defineRule({
  id: 'points_expiry',
  class: 'marketing',
  destination: 'member',
  trigger: 'lots_expiring',
  configKey: 'pointsExpiry',
  configSchema: RulesSchema.shape.pointsExpiry,
  run(t, m, cfg) {
    if (t.kind !== 'lots_expiring' || !cfg.enabled || !m.wechat) return NOTHING;
    return {
      messages: [
        {
          memberId: m.memberId,
          ruleId: 'points_expiry',
          step: t.expiryDay,
          class: 'marketing',
          destination: 'member',
          appId: m.wechat.appId,
          openid: m.wechat.openid,
          triggeredAt: t.now,
          payload: { templateId: cfg.templateId, expiryDay: t.expiryDay, balance: m.points },
        },
      ],
      due: [],
    };
  },
});
