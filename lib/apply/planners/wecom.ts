/**
 * WeCom events → member effects. A `wecom.unknown` callback is recorded (its dedupe row and the
 * archive) and changes nothing; so, until members learn WeCom contacts, does `wecom.contact`.
 */
import type { WecomEvent } from '../../events/hub-event.ts';
import type { PlanOutput } from '../../port.ts';

export function planWecom(_event: WecomEvent): Promise<PlanOutput> {
  return Promise.resolve({});
}
