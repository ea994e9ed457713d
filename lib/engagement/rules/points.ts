/** Points notices: points earned by a code scan or a paid order; needs a WeChat address to go anywhere. */
import { RulesSchema } from '../../config/rules.ts';
import { defineRule, NOTHING, type Rule } from './types.ts';

function pointsNotice(cause: 'scan' | 'order'): Rule<'pointsNotice'> {
  const id = `points_${cause}`;
  return defineRule({
    id,
    class: 'transactional',
    destination: 'member',
    trigger: 'points_earned',
    configKey: 'pointsNotice',
    configSchema: RulesSchema.shape.pointsNotice,
    run(t, m, cfg) {
      if (t.kind !== 'points_earned' || t.cause !== cause || !cfg.enabled || !m.wechat || t.points === 0) return NOTHING;
      return {
        messages: [
          {
            memberId: m.memberId,
            ruleId: id,
            step: t.ref,
            class: 'transactional',
            destination: 'member',
            appId: m.wechat.appId,
            openid: m.wechat.openid,
            triggeredAt: t.at,
            payload: {
              templateId: cfg.templateId,
              ...(cfg.subscribeTemplateId !== undefined && { subscribeTemplateId: cfg.subscribeTemplateId }),
              points: t.points,
              balance: m.points,
            },
          },
        ],
        due: [],
      };
    },
  });
}

export const pointsScan = pointsNotice('scan');
export const pointsOrder = pointsNotice('order');
