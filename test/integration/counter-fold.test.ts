/**
 * The counter fold on DynamoDB Local (lib/attribution/fold.ts): events write credit deltas and
 * no counter item; the fold moves them into the counter items and the day and month rollups
 * exactly once — also when two folds run at the same time, when a fold transaction is throttled
 * (a fault on the real client) and when one delta is larger than a transaction. Expected figures
 * come from the events sent (one new fan per follow) or from the hand-written deltas.
 */
import { describe, expect, it } from 'vitest';
import { useLocalAws, ddb } from '../support/env.ts';
import { counterTotals, foldCounters, getItem, pendingDeltas as pendingTable, queryAll } from '../support/table.ts';
import { injectDynamoFaults } from '../support/faults.ts';
import { apply } from '../../lib/apply/apply.ts';
import { foldAll } from '../../lib/attribution/fold.ts';
import { creditKey } from '../../lib/attribution/credits.ts';
import { counterKey } from '../../lib/store/entities/counter.ts';
import { creditDeltas, deltaPartition } from '../../lib/store/entities/credit-delta.ts';
import { rollupKey } from '../../lib/store/entities/rollup.ts';
import { Tx } from '../../lib/store/tx.ts';
import { makeDynamo } from '../../lib/store/client.ts';
import { LOCAL_AWS } from '../../local/emulators.ts';
import type { HubEvent } from '../../lib/events/hub-event.ts';

const aws = await useLocalAws();
const rt = aws.runtime;
const APP = rt.cfg.WECHAT_APP_ID;
// 2026-03-10 12:00 Shanghai.
const T = Date.UTC(2026, 2, 10, 4, 0, 0);
const DAY = '2026-03-10';

const follow = (openid: string, scene: string, at = T): HubEvent => ({
  source: 'wechat',
  type: 'wechat.follow',
  eventId: `wechat:fold:${openid}:${at}`,
  occurredAt: at,
  appId: APP,
  openid,
  scene,
});

/** Every credit delta left in the table. */
const pendingDeltas = () => pendingTable(aws.table);

/** A metric of one channel, model and period summed over the counter shards, from the rollups. */
async function rollupSum(model: string, period: string, channel: string, metric: string): Promise<number> {
  let sum = 0;
  for (let s = 0; s < rt.cfg.HUB_COUNTER_SHARDS; s++) sum += Number((await getItem(aws.table, rollupKey(model, period, channel, s)))?.[metric] ?? 0);
  return sum;
}

describe('counter fold', () => {
  it('an event writes a delta and no counter item; the fold counts it once, in the counters and both rollups', async () => {
    const ch = 'fold_a';
    for (let i = 0; i < 12; i++) await apply(follow(`fa${i}`, ch), rt);
    expect(await pendingDeltas()).toBe(12);
    for (let s = 0; s < rt.cfg.HUB_COUNTER_SHARDS; s++) expect(await getItem(aws.table, counterKey(ch, s, 'first', DAY))).toBeUndefined();

    const first = await foldAll(rt);
    expect(first.folded).toBe(12);
    expect(await pendingDeltas()).toBe(0);
    const again = await foldAll(rt);
    expect(again).toMatchObject({ folded: 0, transactions: 0 });

    expect(await counterTotals(aws.table, ch)).toEqual({ [`first#${DAY}:newFans`]: 12, [`last#${DAY}:newFans`]: 12 });
    for (const model of ['first', 'last']) {
      expect(await rollupSum(model, DAY, ch, 'newFans')).toBe(12);
      expect(await rollupSum(model, '2026-03', ch, 'newFans')).toBe(12);
    }
  });

  it('two folds running at once count every delta exactly once', async () => {
    const ch = 'fold_b';
    for (let i = 0; i < 40; i++) await apply(follow(`fb${i}`, ch), rt);
    const other = { ...rt, store: { db: makeDynamo({ ...LOCAL_AWS, endpoint: aws.dynamoEndpoint }), table: aws.table } };
    const [a, b] = await Promise.all([foldAll(rt), foldAll(other)]);
    expect(a.folded + b.folded).toBe(40);
    expect(await pendingDeltas()).toBe(0);
    expect(await counterTotals(aws.table, ch)).toEqual({ [`first#${DAY}:newFans`]: 40, [`last#${DAY}:newFans`]: 40 });
    expect(await rollupSum('first', '2026-03', ch, 'newFans')).toBe(40);
  });

  it('a fold transaction cancelled by a conflict is retried and still counts once', async () => {
    const ch = 'fold_c';
    for (let i = 0; i < 10; i++) await apply(follow(`fc${i}`, ch), rt);
    const client = makeDynamo({ ...LOCAL_AWS, endpoint: aws.dynamoEndpoint });
    let n = 0;
    const faults = injectDynamoFaults(client, {
      seed: 1,
      rate: 1,
      commands: ['TransactWriteItemsCommand'],
      kinds: { conflict: 1 },
      layer: 'app',
      onFault: () => {
        if (++n >= 2) faults.enabled = false;
      },
    });
    const out = await foldAll({ ...rt, store: { db: client, table: aws.table } });
    faults.remove();
    expect(faults.stats.faults).toBe(2);
    expect(out.folded).toBe(10);
    expect(out.retries).toBeGreaterThanOrEqual(2);
    expect(await counterTotals(aws.table, ch)).toEqual({ [`first#${DAY}:newFans`]: 10, [`last#${DAY}:newFans`]: 10 });
  });

  it('a delta larger than one transaction is folded a part at a time, each row once', async () => {
    const ch = 'fold_d';
    // 60 days × 1 row each: 180 counter and rollup items, far above one transaction's 100.
    const credits: Record<string, Record<string, number>> = {};
    const days = Array.from({ length: 60 }, (_, i) => new Date(Date.UTC(2025, 0, 1 + i)).toISOString().slice(0, 10));
    days.forEach((d, i) => (credits[creditKey(ch, 'first', d)] = { orders: 1, gmvFen: 100 + i }));
    const tx = new Tx(aws.table);
    creditDeltas.create(tx, 'big-member', 7, credits, T);
    await tx.commit(ddb());
    const out = await foldAll(rt);
    expect(out.folded).toBe(1);
    expect(out.transactions).toBe(2);
    expect(await pendingDeltas()).toBe(0);
    const totals = await counterTotals(aws.table, ch);
    expect(Object.keys(totals)).toHaveLength(120);
    days.forEach((d, i) => {
      expect(totals[`first#${d}:orders`]).toBe(1);
      expect(totals[`first#${d}:gmvFen`]).toBe(100 + i);
    });
    expect(await rollupSum('first', '2025-01', ch, 'orders')).toBe(31);
    expect(await rollupSum('first', '2025-02', ch, 'orders')).toBe(28);
    expect(await rollupSum('first', '2025-03', ch, 'orders')).toBe(1);
    expect(await rollupSum('first', '2025-02', ch, 'gmvFen')).toBe(Array.from({ length: 28 }, (_, i) => 100 + 31 + i).reduce((a, b) => a + b, 0));
  });

  it('the test helpers fold before they read: nothing pending after counterTotals', async () => {
    await apply(follow('fe0', 'fold_e'), rt);
    expect(await pendingDeltas()).toBe(1);
    expect(await counterTotals(aws.table, 'fold_e')).toEqual({ [`first#${DAY}:newFans`]: 1, [`last#${DAY}:newFans`]: 1 });
    expect(await pendingDeltas()).toBe(0);
    expect((await foldCounters(aws.table)).folded).toBe(0);
    expect(await queryAll(aws.table, deltaPartition(0))).toEqual([]);
  });
});
