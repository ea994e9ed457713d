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
 * rollup are left alone. Run by hand: `npm run backfill-rollups` (scripts/backfill-rollups.ts),
 * which then runs the cohort backfill below.
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
import { creditDeltas } from '../store/entities/credit-delta.ts';
import { isProfileItem, members } from '../store/entities/member.ts';
import { scanItems } from '../store/snapshot.ts';
import { creditsGiven, memberCredits, type StoredMember } from '../members/record.ts';

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

export interface CohortBackfillResult {
  /** Member profiles read (merged-away records are skipped). */
  profiles: number;
  /** Records whose cohort credits were given now. */
  backfilled: number;
  /** Records that already carried them (written since cohort credits exist, or by another run). */
  alreadyDone: number;
}

/** Attempts per record when a write of the member commits between the read and the mark. */
const COHORT_ATTEMPTS = 5;

/**
 * Cohort backfill: gives every member record written before cohort credits existed
 * (lib/attribution/cohorts.ts; such a record lacks `cohortCredits`) its cohort credits, as one
 * credit delta in the same transaction that marks the record under the version it was read at
 * (lib/members/record.ts). A member write in between makes the mark fail; the record is read
 * again, and is then found marked by that write, which gave the credits itself. A second run, or
 * two runs at once, therefore add nothing more. The fold moves the deltas into the rollups.
 * One Scan of the table (a tool run by hand, like the rollup backfill).
 */
export async function backfillCohorts(src: { store: Store; cfg: Pick<HubConfig, 'HUB_TIMEZONE'>; now: () => number }): Promise<CohortBackfillResult> {
  const out: CohortBackfillResult = { profiles: 0, backfilled: 0, alreadyDone: 0 };
  const tz = src.cfg.HUB_TIMEZONE;
  for await (const item of scanItems(src.store)) {
    if (!isProfileItem(item) || item.mergedInto !== undefined) continue;
    out.profiles++;
    if (item.cohortCredits === true) {
      out.alreadyDone++;
      continue;
    }
    const memberId = String(item.memberId);
    for (let attempt = 1; ; attempt++) {
      const m = await members.get<StoredMember>(src.store, memberId);
      if (!m || m.mergedInto || m.cohortCredits === true) {
        out.alreadyDone++;
        break;
      }
      const diff = diffCredits(creditsGiven(m, tz), memberCredits(m.history, tz));
      const tx = new Tx(src.store.table);
      members.markCohortCredits(tx, memberId, m.version, src.now());
      if (Object.keys(diff).length) creditDeltas.create(tx, memberId, m.version + 1, diff, src.now());
      try {
        await tx.commit(src.store.db);
        out.backfilled++;
        break;
      } catch (err) {
        if (!(err instanceof TxConditionFailed) || attempt >= COHORT_ATTEMPTS) throw err;
      }
    }
  }
  return out;
}
