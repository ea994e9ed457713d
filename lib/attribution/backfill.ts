/**
 * Rollup backfill: gives the days counted before rollups existed (lib/store/entities/rollup.ts)
 * their day and month rollups, so the attribution API, which reads closed days from the rollups,
 * shows them.
 *
 * For every counter item of every listed channel and built-in channel, on every counter shard
 * (HUB_COUNTER_SHARDS) and model: counter − day rollup is what was counted before the rollups
 * (the fold adds the same amount to both in one transaction, so this difference does not change
 * while folds run). Read in one snapshot, it is added once to the day and the month rollup, the
 * day rollup marked in the same transaction; a second run, or two runs at once, add nothing more
 * (a marked rollup fails the condition and is counted as `alreadyDone`). Counters equal to their
 * rollup are left alone. Run by hand: `npm run backfill-rollups` (scripts/backfill-rollups.ts).
 */
import type { HubConfig } from '../config/index.ts';
import type { Store } from '../store/client.ts';
import { Tx } from '../store/tx.ts';
import { TxConditionFailed } from '../store/errors.ts';
import { counters, type CounterId } from '../store/entities/counter.ts';
import { rollups } from '../store/entities/rollup.ts';
import { channels } from '../store/entities/channel.ts';
import { BUILTIN_CHANNELS } from '../sources/platforms.ts';
import { diffCredits, MODELS } from './credits.ts';

export interface BackfillResult {
  /** Counter items read. */
  counters: number;
  /** Counter items whose pre-rollup counts were added to their rollups now. */
  backfilled: number;
  /** Counter items another run had backfilled (their day rollup marked). */
  alreadyDone: number;
}

/** Channels listed at most this many (the channel index's own bound, lib/attribution/channels.ts). */
const MAX_CHANNELS = 5000;
/** Pages of one counter partition (a page holds ≈ 1 MB: years of days). */
const MAX_PAGES = 100;

/** The difference counter − rollup, zero metrics dropped (one row of diffCredits). */
export const missingCounts = (counter: Record<string, number>, rollup: Record<string, number>): Record<string, number> => diffCredits({ row: rollup }, { row: counter }).row ?? {};

export async function backfillRollups(src: { store: Store; cfg: Pick<HubConfig, 'HUB_COUNTER_SHARDS'>; now: () => number }): Promise<BackfillResult> {
  const out: BackfillResult = { counters: 0, backfilled: 0, alreadyDone: 0 };
  const listed = await channels.list(src.store, { max: MAX_CHANNELS, pageSize: 200, projection: 'summary' });
  const ids = new Set([...listed.items.map((c) => c.channelId), ...BUILTIN_CHANNELS.map((c) => c.channel)]);
  const at = new Date(src.now()).toISOString();
  for (const channelId of [...ids].sort()) {
    for (let shard = 0; shard < src.cfg.HUB_COUNTER_SHARDS; shard++) {
      for (const model of MODELS) {
        const { items, complete } = await counters.readRange(src.store, channelId, shard, model, '0000-00-00', '9999-12-31', { maxPages: MAX_PAGES });
        if (!complete) throw new Error(`counter partition ${channelId}#${shard} (${model}) has more than ${MAX_PAGES} pages`);
        for (const row of items) {
          out.counters++;
          const id: CounterId = { channelId, shard, model, day: row.day };
          const now = await rollups.withCounter(src.store, id);
          const missing = missingCounts(now.counter, now.day);
          if (!Object.keys(missing).length) continue;
          if (now.backfilled) {
            out.alreadyDone++;
            continue;
          }
          const tx = new Tx(src.store.table);
          rollups.backfill(tx, id, missing, at);
          try {
            await tx.commit(src.store.db);
            out.backfilled++;
          } catch (err) {
            if (!(err instanceof TxConditionFailed)) throw err;
            out.alreadyDone++;
          }
        }
      }
    }
  }
  return out;
}
