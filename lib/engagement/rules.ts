/**
 * Engagement rules: which events plan which messages. The rule set is configuration
 * (lib/config/rules.ts: defaults, overridable by a JSON file named by
 * HUB_RULES_FILE; read once with the configuration, `cfg.rules`); this module only turns an event plus a member into planned messages.
 */
import type { HubEventOf } from '../events/hub-event.ts';
import type { StoredMember } from '../members/record.ts';
import type { PlanContext } from '../apply/context.ts';

/** Welcome on first follow: the channel's own text when it has one, else the rule's. */
export function planWelcomeOnFollow(ctx: PlanContext, m: StoredMember, e: HubEventOf<'wechat.follow'>, channelText?: string): void {
  const rules = ctx.deps.cfg.rules;
  if (!rules.welcomeOnFollow.enabled) return;
  const text = channelText ?? rules.welcomeOnFollow.text;
  ctx.emit({
    memberId: m.memberId,
    ruleId: 'welcome_follow',
    step: 'once',
    class: 'transactional',
    destination: 'member',
    appId: e.appId,
    openid: e.openid,
    triggeredAt: e.occurredAt,
    payload: { text, link: ctx.deps.cfg.HUB_MEMBER_CENTRE_URL, channel: e.scene ?? 'organic' },
  });
}

export function planWelcomeOnRegister(ctx: PlanContext, m: StoredMember, appId: string, openid: string, at: number): void {
  const rules = ctx.deps.cfg.rules;
  if (!rules.welcomeOnRegister.enabled) return;
  ctx.emit({
    memberId: m.memberId,
    ruleId: 'welcome_register',
    step: 'once',
    class: 'transactional',
    destination: 'member',
    appId,
    openid,
    triggeredAt: at,
    payload: { templateId: rules.welcomeOnRegister.templateId, text: rules.welcomeOnRegister.text, points: m.points },
  });
}

/** Points notice (scan or paid order); needs a WeChat address to go anywhere. */
export function planPointsNotice(ctx: PlanContext, m: StoredMember, cause: { kind: 'scan' | 'order'; ref: string; points: number; at: number }): void {
  const rules = ctx.deps.cfg.rules;
  if (!rules.pointsNotice.enabled || !m.wechat || cause.points === 0) return;
  ctx.emit({
    memberId: m.memberId,
    ruleId: `points_${cause.kind}`,
    step: cause.ref,
    class: 'transactional',
    destination: 'member',
    appId: m.wechat.appId,
    openid: m.wechat.openid,
    triggeredAt: cause.at,
    payload: { templateId: rules.pointsNotice.templateId, points: cause.points, balance: m.points },
  });
}
