/** Runs the rules a trigger starts inside an event's transaction: messages emitted, due rows written. */
import type { Port } from '../../port.ts';
import { dues } from '../../store/entities/due.ts';
import { runRules } from './registry.ts';
import { tagSyncMessages, type TagMember } from '../tags.ts';
import type { RuleMember, RuleOutput, Trigger } from './types.ts';

export function planEngagement(p: Port, t: Trigger, m: RuleMember & TagMember): RuleOutput {
  const out = runRules(t, m, p.cfg.rules, { tz: p.tz, memberCentreUrl: p.cfg.HUB_MEMBER_CENTRE_URL });
  for (const row of out.due) dues.write(p.tx, `due:${row.kind}:${row.key}`, row, p.tz);
  for (const message of out.messages) p.emit(message);
  // Tags for the segments the member is in (planned once per member, address and tag: stable message ids).
  const official = p.cfg.wechatApps.filter((a) => a.kind === 'official').map((a) => a.appId);
  for (const message of tagSyncMessages(p.cfg.rules.tagSync, m, official, p.now)) {
    p.emit(message);
    (m.wechatTags ??= []).push(message.step);
  }
  return out;
}
