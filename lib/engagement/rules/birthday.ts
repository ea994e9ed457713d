/**
 * Birthday greetings: on registration with a birthday, a due row for the next birthday at 10:00
 * local; when it fires, the greeting and the row of the year after (29 February falls on the
 * 28th in other years). With `coupon` configured, a birthday coupon is issued with the greeting.
 */
import { RulesSchema } from '../../config/rules.ts';
import { DAY_MS, localDay, localToEpoch } from '../../time.ts';
import { defineRule, dueBase, NOTHING, type DueRow } from './types.ts';

const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/** The row of the first birthday on or after `now`'s local day (this year or the next). */
export function nextBirthdayRow(memberId: string, birthday: string, now: number, tz: string): DueRow | undefined {
  const mmdd = birthday.slice(-5);
  const today = localDay(now, tz);
  let year = Number(today.slice(0, 4));
  for (let i = 0; i < 2; i++, year++) {
    const day = mmdd === '02-29' && !isLeap(year) ? `${year}-02-28` : `${year}-${mmdd}`;
    const at = localToEpoch(day, 10, 0, tz);
    if (day >= today && !Number.isNaN(at)) return { memberId, kind: 'birthday', key: String(year), dueAt: at, data: { year, birthday: mmdd } };
  }
  return undefined;
}

export const birthday = defineRule({
  id: 'birthday',
  class: 'marketing',
  destination: 'member',
  trigger: 'first_registration',
  dueKind: 'birthday',
  configKey: 'birthday',
  configSchema: RulesSchema.shape.birthday,
  run(t, m, cfg, env) {
    if (t.kind === 'first_registration') {
      if (!cfg.enabled || !t.birthday) return NOTHING;
      const row = nextBirthdayRow(m.memberId, t.birthday, t.at, env.tz);
      return { messages: [], due: row ? [row] : [] };
    }
    if (t.kind !== 'due' || t.row.kind !== 'birthday') return NOTHING;
    const row = t.row;
    const next = m.birthday ? nextBirthdayRow(m.memberId, m.birthday, row.dueAt + DAY_MS, env.tz) : undefined;
    return {
      messages: [{ ...dueBase(row, m), ruleId: 'birthday', step: row.key, class: 'marketing', destination: 'member', payload: { templateId: cfg.templateId } }],
      due: next && next.key !== row.key ? [next] : [],
      ...(cfg.coupon ? { coupons: [{ source: 'birthday' as const, ref: `birthday#${row.key}`, ...cfg.coupon }] } : {}),
    };
  },
});
