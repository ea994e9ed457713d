/**
 * Rollup backfill (lib/attribution/backfill.ts) on DynamoDB Local: counter items written before
 * rollups existed (put here as the previous write path left them: a counter item, no rollup),
 * one of their days also folded into since (its rollup holds only the fold's part), a listed
 * channel and a built-in one. After the backfill every day rollup equals its counter and every
 * month rollup the sum of its days, by the hand-written seed; two runs at once and a third run
 * add nothing more; a fold after it keeps them equal.
 */
import { describe, expect, it } from 'vitest';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { useLocalAws, ddb } from '../support/env.ts';
import { getItem } from '../support/table.ts';
import { createTable } from '../../local/emulators.ts';
import { backfillRollups } from '../../lib/attribution/backfill.ts';
import { foldAll } from '../../lib/attribution/fold.ts';
import { creditKey } from '../../lib/attribution/credits.ts';
import { counterKey } from '../../lib/store/entities/counter.ts';
import { channelKey, channelListIndex } from '../../lib/store/entities/channel.ts';
import { creditDeltas } from '../../lib/store/entities/credit-delta.ts';
import { rollupKey } from '../../lib/store/entities/rollup.ts';
import { Tx } from '../../lib/store/tx.ts';

const aws = await useLocalAws();
const cfg = aws.runtime.cfg;
const SHARDS = cfg.HUB_COUNTER_SHARDS;

/** The seed: counter items as the pre-rollup write path left them. [channel, shard, model, day, values] */
const SEED: [string, number, 'first' | 'last', string, Record<string, number>][] = [
  ['bf_listed', 0, 'first', '2026-01-30', { newFans: 3, ttc_m5: 1 }],
  ['bf_listed', 0, 'first', '2026-01-31', { newFans: 2, orders: 1, gmvFen: 12_800 }],
  ['bf_listed', 1, 'first', '2026-01-31', { newFans: 5 }],
  ['bf_listed', 1, 'last', '2026-02-01', { scans: 7 }],
  ['organic', SHARDS - 1, 'first', '2026-01-31', { newFans: 11, unfollows: 1 }],
];
/** By hand from SEED: the month rollups (summed over shards) per [channel, model, month]. */
const MONTHS_BY_HAND: Record<string, Record<string, number>> = {
  'bf_listed|first|2026-01': { newFans: 10, ttc_m5: 1, orders: 1, gmvFen: 12_800 },
  'bf_listed|last|2026-02': { scans: 7 },
  'organic|first|2026-01': { newFans: 11, unfollows: 1 },
};

const numbers = (item: Record<string, unknown> | undefined) => Object.fromEntries(Object.entries(item ?? {}).filter(([k, v]) => typeof v === 'number' && k !== 'shard'));

async function monthSum(channel: string, model: string, month: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (let s = 0; s < SHARDS; s++) for (const [k, v] of Object.entries(numbers(await getItem(table, rollupKey(model, month, channel, s))))) out[k] = (out[k] ?? 0) + (v as number);
  for (const [k, v] of Object.entries(out)) if (v === 0) delete out[k];
  return out;
}

let table = '';

describe('rollup backfill', () => {
  it('gives pre-rollup days their day and month rollups once, also with a fold in between and two runs at once', async () => {
    table = `${aws.table}-backfill`;
    await createTable(ddb(), table);
    const store = { db: ddb(), table };
    await ddb().send(new PutCommand({ TableName: table, Item: { ...channelKey('bf_listed'), ...channelListIndex('bf_listed'), channelId: 'bf_listed', name: 'bf', kind: 'wechat_qr', createdAt: 0 } }));
    for (const [channel, shard, model, day, values] of SEED) {
      await ddb().send(new PutCommand({ TableName: table, Item: { ...counterKey(channel, shard, model, day), channel, model, day, ...values } }));
    }
    // Since rollups exist, a fold counted one more new fan on 01-31 (counter and rollups together).
    const tx = new Tx(table);
    creditDeltas.create(tx, 'bf-member', 1, { [creditKey('bf_listed', 'first', '2026-01-31')]: { newFans: 1 } }, Date.UTC(2026, 0, 31, 4));
    await tx.commit(ddb());
    const folded = await foldAll({ store, cfg, now: Date.now });
    expect(folded.folded).toBe(1);

    const [a, b] = await Promise.all([backfillRollups({ store, cfg, now: Date.now }), backfillRollups({ store, cfg, now: Date.now })]);
    // Each pre-rollup counter backfilled by exactly one of the two runs (the other found it done,
    // or read it after it was done and found nothing missing).
    expect(a.backfilled + b.backfilled, JSON.stringify([a, b])).toBe(SEED.length);

    const expectMonths = async (extra: Record<string, number>) => {
      for (const [k, v] of Object.entries(MONTHS_BY_HAND)) {
        const [channel, model, month] = k.split('|') as [string, string, string];
        const want = { ...v };
        if (k === 'bf_listed|first|2026-01') for (const [m, n] of Object.entries(extra)) want[m] = (want[m] ?? 0) + n;
        expect(await monthSum(channel, model, month), k).toEqual(want);
      }
    };
    await expectMonths({ newFans: 1 });
    // Every day rollup equals its counter item (the seeded counts and the fold's).
    const days = new Set(SEED.map(([c, , m, d]) => `${c}|${m}|${d}`));
    for (const key of days) {
      const [channel, model, day] = key.split('|') as [string, string, string];
      for (let s = 0; s < SHARDS; s++) expect(numbers(await getItem(table, rollupKey(model, day, channel, s))), `${key}#${s}`).toEqual(numbers(await getItem(table, counterKey(channel, s, model, day))));
    }

    const again = await backfillRollups({ store, cfg, now: Date.now });
    expect(again).toEqual({ counters: a.counters, backfilled: 0, alreadyDone: 0 });

    // A later fold keeps counters and rollups together.
    const later = new Tx(table);
    creditDeltas.create(later, 'bf-member', 2, { [creditKey('bf_listed', 'first', '2026-01-30')]: { newFans: 4 } }, Date.UTC(2026, 0, 30, 4));
    await later.commit(ddb());
    await foldAll({ store, cfg, now: Date.now });
    await expectMonths({ newFans: 5 });
    expect(await backfillRollups({ store, cfg, now: Date.now })).toMatchObject({ backfilled: 0, alreadyDone: 0 });
  }, 120_000);
});
