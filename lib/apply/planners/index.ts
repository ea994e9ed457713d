/**
 * The planner of every event type: what an event writes, as items of its one transaction. A new
 * HubEvent type without a planner here does not compile.
 */
import type { HubEvent } from '../../events/hub-event.ts';
import type { PlanOutput, Planner, Port } from '../../port.ts';
import { planWechat } from './wechat.ts';
import { planRegister } from './register.ts';
import { planConsent } from './consent.ts';
import { planOrder, planPlatformJoin, planRefund } from './orders.ts';
import { planCodeScan } from './code-scan.ts';
import { planWecom } from './wecom.ts';

type EventOf<T extends HubEvent['type']> = Extract<HubEvent, { type: T }>;

export const PLANNERS: { readonly [T in HubEvent['type']]: Planner<EventOf<T>> } = {
  'wechat.follow': planWechat,
  'wechat.scan': planWechat,
  'wechat.unfollow': planWechat,
  'wechat.interaction': planWechat,
  'wechat.template_receipt': planWechat,
  'wechat.mass_receipt': planWechat,
  'wechat.subscription': planWechat,
  'wechat.unknown': planWechat,
  'wechat.unionid': planWechat,
  'wecom.contact': planWecom,
  'wecom.unknown': planWecom,
  'wecom.unionid': planWecom,
  'member.register': planRegister,
  'member.consent': planConsent,
  order: planOrder,
  refund: planRefund,
  'platform.member_join': planPlatformJoin,
  'code.scan': planCodeScan,
};

/** Plans `event` with the planner of its type. */
export function planEvent(event: HubEvent, port: Port): Promise<PlanOutput> {
  return (PLANNERS[event.type] as Planner)(event, port);
}
