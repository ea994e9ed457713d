/**
 * The rule registry: every engagement rule, in the order its output is planned (which fixes the
 * order of outbox rows and due rows in a transaction). Adding a rule = a module in this folder,
 * its slice in lib/config/rules.ts, and a line here.
 */
import type { RulesConfig } from '../../config/rules.ts';
import { birthday } from './birthday.ts';
import { pointsExpiry } from './expiry.ts';
import { lapseAlert } from './lapse.ts';
import { pointsOrder, pointsScan } from './points.ts';
import { repurchase } from './repurchase.ts';
import type { AnyRule, DueRow, Rule, RuleEnv, RuleMember, RuleOutput, Trigger } from './types.ts';
import { welcomeFollow, welcomeRegister } from './welcome.ts';

export const RULES: readonly AnyRule[] = [welcomeFollow, welcomeRegister, pointsScan, pointsOrder, repurchase, lapseAlert, birthday, pointsExpiry];

const handles = (r: AnyRule, t: Trigger) => (t.kind === 'due' ? r.dueKind === t.row.kind : r.trigger === t.kind);

/** The rules a trigger starts (a due row: the rule that scheduled its kind), run in registry order. */
export function runRules(t: Trigger, m: RuleMember, rules: RulesConfig, env: RuleEnv): RuleOutput {
  const out: RuleOutput = { messages: [], due: [] };
  for (const rule of RULES) {
    if (!handles(rule, t)) continue;
    const r = (rule as Rule).run(t, m, rules[rule.configKey] as never, env);
    out.messages.push(...r.messages);
    out.due.push(...r.due);
    if (r.cancelled) out.cancelled = r.cancelled;
    if (r.reply !== undefined) out.reply = r.reply;
    if (r.coupons?.length) (out.coupons ??= []).push(...r.coupons);
  }
  return out;
}

export type { DueRow };
