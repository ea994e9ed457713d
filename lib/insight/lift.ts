/**
 * GET /insight/lift: treated vs holdout conversion of the members a marketing rule (or
 * campaign) was eligible for, over a range of local days of eligibility (docs/design.md#lift).
 *
 * A query-time join over bounded partitions, never a scan:
 *   1. the rules: the rule asked for, else the rule-day markers of each day (`LIFTDAY#<day>`);
 *   2. the eligibility records: one gsi1 partition per rule and day (`LIFT#<day>#<ruleId>`);
 *   3. the conversions: each distinct member's record (one GetItem, plus its history months for
 *      a long history, following merges), whose paid orders carry `paidAt`; an erased record's
 *      conversion was frozen at the erasure (`nextPaidAt`).
 * The join is computed from the final state every time, so an order that arrived late, twice or
 * before the eligibility was recorded counts exactly as one that arrived in order: a member's
 * paid orders are keyed by order (deduplicated by the one write path), and a record converts when
 * any of them was paid in [eligibleAt, eligibleAt + conversionDays).
 *
 * Cost: days × rules Queries (+ one per day without `rule`) and one member read per distinct
 * member, READ_CONCURRENCY at a time. Limit: MAX_LIFT_RECORDS records per request; a range with
 * more answers 400 `too_many_eligible` (ask for one rule or a shorter range).
 */
import { BadRequestError } from '../errors.ts';
import { conversionDaysOf, type RulesConfig } from '../config/rules.ts';
import type { Store } from '../store/client.ts';
import { eligibility, type EligibilityRow } from '../store/entities/eligibility.ts';
import { readMember } from '../members/record.ts';
import { mapLimit, validateRange } from '../attribution/query.ts';
import { DAY_MS } from '../time.ts';
import { liftStats, type LiftStats } from './stats.ts';

/** Eligibility records one request may join (each distinct member is one read). */
export const MAX_LIFT_RECORDS = 20_000;
const READ_CONCURRENCY = 16;

export interface LiftReport extends LiftStats {
  rule: string;
  from: string;
  to: string;
  conversionDays: number;
  /** Records whose conversion window is still open (they may still convert). */
  openWindows: number;
}

export interface LiftDeps {
  store: Store;
  rules: Pick<RulesConfig, 'lift'>;
  now: number;
}

/** A rule id on the query: a registry rule or `campaign:<id>`. */
export function parseRuleId(value: string | undefined | null): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (value.length > 128 || !/^[A-Za-z0-9_.:-]+$/.test(value)) {
    throw new BadRequestError('rule must be 1-128 letters, digits and _ . : - (a rule id or campaign:<campaignId>)', undefined, 'bad_rule');
  }
  return value;
}

/** Whether a record converted within `days`, given the member's paid-order times (sorted). */
export function converted(row: EligibilityRow, days: number, paidAts: readonly number[] | undefined): boolean {
  const end = row.eligibleAt + days * DAY_MS;
  if (row.erased) return row.nextPaidAt !== undefined && row.nextPaidAt < end;
  return (paidAts ?? []).some((t) => t >= row.eligibleAt && t < end);
}

/** The first paid order at or after `at` (epoch ms), or undefined: the frozen conversion of an erased record. */
export function nextPaidAt(paidAts: readonly number[], at: number): number | undefined {
  let best: number | undefined;
  for (const t of paidAts) if (t >= at && (best === undefined || t < best)) best = t;
  return best;
}

/** Paid-order times of a member record (its merge survivor), oldest first; none for an unknown record. */
export async function paidOrderTimes(store: Store, memberId: string): Promise<number[]> {
  const m = await readMember(store, memberId);
  return (m?.history.orders ?? []).map((o) => o.paidAt).sort((a, b) => a - b);
}

/** The lift of one rule, or of every rule with eligibility in the range (`{rules}`). */
export async function liftReport(deps: LiftDeps, q: { from?: string | null; to?: string | null; rule?: string | null }): Promise<LiftReport | { rules: LiftReport[] }> {
  const days = validateRange(q.from, q.to);
  const from = q.from!;
  const to = q.to!;
  const rule = parseRuleId(q.rule);
  const ruleIds = rule !== undefined ? [rule] : [...new Set((await mapLimit(days, READ_CONCURRENCY, (d) => eligibility.rulesOn(deps.store, d))).flat())].sort();
  const plan = ruleIds.flatMap((r) => days.map((d) => ({ r, d })));
  const rowsByRule = new Map<string, EligibilityRow[]>(ruleIds.map((r) => [r, []]));
  let total = 0;
  await mapLimit(plan, READ_CONCURRENCY, async ({ r, d }) => {
    // Records past their retention that DynamoDB has not deleted yet are left out.
    const rows = (await eligibility.listDay(deps.store, d, r)).filter((x) => x.expiresAt === undefined || x.expiresAt * 1000 > deps.now);
    total += rows.length;
    if (total > MAX_LIFT_RECORDS) {
      throw new BadRequestError(`more than ${MAX_LIFT_RECORDS} eligibility records in ${from}..${to}${rule ? '' : ' over all rules'}: ask for one rule or a shorter range`, undefined, 'too_many_eligible');
    }
    rowsByRule.get(r)!.push(...rows);
  });
  const memberIds = [...new Set([...rowsByRule.values()].flat().flatMap((x) => (x.memberId !== undefined ? [x.memberId] : [])))];
  const paid = new Map<string, number[]>();
  await mapLimit(memberIds, READ_CONCURRENCY, async (id) => void paid.set(id, await paidOrderTimes(deps.store, id)));

  const reports = ruleIds.map((r): LiftReport => {
    const n = conversionDaysOf(deps.rules, r);
    const arms = { treated: { eligible: 0, converted: 0 }, holdout: { eligible: 0, converted: 0 } };
    let openWindows = 0;
    for (const row of rowsByRule.get(r)!) {
      const arm = arms[row.arm];
      arm.eligible++;
      if (converted(row, n, row.memberId !== undefined ? paid.get(row.memberId) : undefined)) arm.converted++;
      if (row.eligibleAt + n * DAY_MS > deps.now) openWindows++;
    }
    return { rule: r, from, to, conversionDays: n, ...liftStats(arms.treated, arms.holdout), openWindows };
  });
  return rule !== undefined ? reports[0]! : { rules: reports };
}

/**
 * Erasure (lib/privacy/erase.ts, before anything of the person is deleted): each eligibility
 * record of the person's record ids (`ids[0]` the survivor) gets an erased copy without the
 * member id, its conversion frozen as the first paid order at or after eligibility, so the
 * report counts the same after the erasure (no later order can be the erased person's). The
 * member-partition records then go with the partition. Answers how many copies were made.
 */
export async function freezeEligibility(store: Store, ids: readonly string[], now: number): Promise<number> {
  const paidAts = await paidOrderTimes(store, ids[0]!);
  let made = 0;
  for (const id of ids) {
    for (const item of await eligibility.inPartition(store, id)) {
      if (await eligibility.eraseCopy(store, item, nextPaidAt(paidAts, Number(item.eligibleAt)), now)) made++;
    }
  }
  return made;
}
