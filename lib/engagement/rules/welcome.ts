/** Welcome messages: on a person's first follow and on their first registration. */
import { RulesSchema } from '../../config/rules.ts';
import { textWithLink } from '../send/render.ts';
import { defineRule, NOTHING, type RuleMember, type RuleOutput } from './types.ts';

/** The one welcome message of a person's first follow or registration, to the WeChat address that did it. */
function welcome(ruleId: string, t: { appId: string; openid: string; at: number }, m: RuleMember, payload: Record<string, unknown>): RuleOutput {
  return {
    messages: [{ memberId: m.memberId, ruleId, step: 'once', class: 'transactional', destination: 'member', appId: t.appId, openid: t.openid, triggeredAt: t.at, payload }],
    due: [],
  };
}

/**
 * Welcome on first follow: the channel's own text when it has one, else the rule's; with
 * `passiveReply` it is the passive reply to the follow push (the same text and link), else a
 * customer-service message.
 */
export const welcomeFollow = defineRule({
  id: 'welcome_follow',
  class: 'transactional',
  destination: 'member',
  trigger: 'first_follow',
  configKey: 'welcomeOnFollow',
  configSchema: RulesSchema.shape.welcomeOnFollow,
  run(t, m, cfg, env) {
    if (t.kind !== 'first_follow' || !cfg.enabled) return NOTHING;
    const text = t.channelText ?? cfg.text;
    if (cfg.passiveReply) return { messages: [], due: [], reply: textWithLink(text, env.memberCentreUrl) };
    return welcome('welcome_follow', t, m, { text, link: env.memberCentreUrl, channel: t.scene ?? 'organic' });
  },
});

export const welcomeRegister = defineRule({
  id: 'welcome_register',
  class: 'transactional',
  destination: 'member',
  trigger: 'first_registration',
  configKey: 'welcomeOnRegister',
  configSchema: RulesSchema.shape.welcomeOnRegister,
  run(t, m, cfg) {
    if (t.kind !== 'first_registration' || !cfg.enabled) return NOTHING;
    return welcome('welcome_register', t, m, { templateId: cfg.templateId, text: cfg.text, points: m.points });
  },
});
