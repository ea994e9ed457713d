/**
 * The counter fold: moves credit deltas (lib/store/entities/credit-delta.ts), written by each
 * event's own transaction, into the shared attribution items — the channel-day counter shard
 * (entities/counter.ts) and the day and month rollups (entities/rollup.ts).
 *
 * Exactly once: a fold transaction adds a batch of deltas to those items AND deletes the same
 * deltas, each delete conditional on the delta still existing. Either all of it commits or none
 * of it; a delta another fold already took fails the condition, the transaction is dropped and
 * the shard read again. A crash, a retry, two overlapping runs or a redelivered schedule
 * therefore never count a delta twice or lose one.
 *
 * Conflict-free by construction inside one run: delta shard `s` is folded into counter shard
 * `s mod HUB_COUNTER_SHARDS`, and one worker per counter shard folds its delta shards one after
 * the other, so no two transactions of a run touch the same item. Two overlapping runs (which the
 * deployment prevents: reserved concurrency 1) would only conflict and retry.
 *
 * A transaction holds at most MAX_TX_ITEMS items: the deltas' deletes plus the distinct counter
 * and rollup items they add to (three per channel, model and day; two for a cohort row), so a batch of one hot
 * channel's follows is about 90 deltas per transaction. A delta with more rows than that (a
 * merge or a re-credited long history) is folded a part at a time: each part adds some rows and
 * rewrites the delta with the rest under its checkpoint (entities/credit-delta.ts `part`).
 */
import type { HubConfig } from '../config/index.ts';
import type { Store } from '../store/client.ts';
import { Tx, MAX_TX_ITEMS } from '../store/tx.ts';
import { TxConditionFailed } from '../store/errors.ts';
import { TransientError } from '../errors.ts';
import { counters } from '../store/entities/counter.ts';
import { creditDeltas, DELTA_SHARDS, type CreditDelta, type CreditDiff } from '../store/entities/credit-delta.ts';
import { monthOf, rollups } from '../store/entities/rollup.ts';
import { parseCreditKey } from './credits.ts';
import { COHORT_MODEL } from './cohorts.ts';

/** Deltas read per Query (one page of a shard, oldest first). */
const PAGE = 100;
/** Attempts of one batch on throttling or a conflict before the run gives up on the shard. */
const MAX_TRANSIENT = 5;

export interface FoldSource {
  readonly store: Store;
  readonly cfg: Pick<HubConfig, 'HUB_COUNTER_SHARDS'>;
  readonly now: () => number;
}

export interface FoldResult {
  /** Deltas folded into the counters. */
  folded: number;
  /** Fold transactions committed. */
  transactions: number;
  /** Transactions dropped because another fold had taken a delta, or retried after a conflict or throttling. */
  retries: number;
  /** Age in seconds of the oldest delta folded (the fold lag), 0 when none. */
  lagSeconds: number;
}

const empty = (): FoldResult => ({ folded: 0, transactions: 0, retries: 0, lagSeconds: 0 });

/** The counter shard delta shard `shard` folds into. */
export const counterShardOf = (shard: number, counterShards: number): number => shard % counterShards;

/**
 * The items one credit row adds to: its counter day item, day rollup and month rollup. A cohort
 * row (lib/attribution/cohorts.ts) has no counter day item: cohorts are read from the rollups only.
 */
function targetsOf(creditKey: string): string[] {
  const { channel, model, day } = parseCreditKey(creditKey);
  const rollupTargets = [`d\u0000${model}\u0000${day}\u0000${channel}`, `m\u0000${model}\u0000${monthOf(day)}\u0000${channel}`];
  return model === COHORT_MODEL ? rollupTargets : [`c\u0000${channel}\u0000${model}\u0000${day}`, ...rollupTargets];
}

/** What one fold transaction does: whole deltas consumed, or one delta's first rows folded and the rest kept. */
export type FoldBatch = { whole: CreditDelta[] } | { part: CreditDelta; rows: string[]; rest: CreditDiff };

/**
 * Most metric attributes one fold transaction adds to one item. Each is `#aN :aN, ` in the item's
 * update expression (lib/store/tx.ts), which DynamoDB limits to 4 KB; histograms (time to
 * convert, the cohorts' GMV buckets) are where a batch of many members meets many names.
 */
export const MAX_ATTRS_PER_ITEM = 200;

/** The target items of a batch and the metric names each receives. */
class Targets {
  readonly names = new Map<string, Set<string>>();
  get size(): number {
    return this.names.size;
  }
  /** The items `rows` would add, and whether every item's names stay within MAX_ATTRS_PER_ITEM. */
  probe(credits: CreditDiff, rows: readonly string[]): { added: number; fits: boolean } {
    const next = new Map<string, Set<string>>();
    for (const k of rows) {
      for (const t of targetsOf(k)) {
        const names = next.get(t) ?? new Set(this.names.get(t));
        for (const m of Object.keys(credits[k]!)) names.add(m);
        next.set(t, names);
      }
    }
    return { added: [...next.keys()].filter((t) => !this.names.has(t)).length, fits: [...next.values()].every((n) => n.size <= MAX_ATTRS_PER_ITEM) };
  }
  take(credits: CreditDiff, rows: readonly string[]): void {
    for (const k of rows) {
      for (const t of targetsOf(k)) {
        const names = this.names.get(t) ?? new Set<string>();
        for (const m of Object.keys(credits[k]!)) names.add(m);
        this.names.set(t, names);
      }
    }
  }
}

/**
 * The longest prefix of `page` whose deletes and target items fit one transaction (and no item
 * gets more than MAX_ATTRS_PER_ITEM names); when even the first delta does not fit, as many of its
 * credit rows (in key order) as fit beside its rewrite.
 */
export function batchOf(page: readonly CreditDelta[]): FoldBatch {
  const targets = new Targets();
  const whole: CreditDelta[] = [];
  for (const d of page) {
    const rows = Object.keys(d.credits);
    const { added, fits } = targets.probe(d.credits, rows);
    if (whole.length + 1 + targets.size + added > MAX_TX_ITEMS || !fits) break;
    whole.push(d);
    targets.take(d.credits, rows);
  }
  if (whole.length) return { whole };
  const first = page[0]!;
  const rows: string[] = [];
  for (const k of Object.keys(first.credits).sort()) {
    const { added, fits } = targets.probe(first.credits, [k]);
    if (1 + targets.size + added > MAX_TX_ITEMS || (!fits && rows.length)) break;
    rows.push(k);
    targets.take(first.credits, [k]);
  }
  const rest: CreditDiff = {};
  for (const [k, metrics] of Object.entries(first.credits)) if (!rows.includes(k)) rest[k] = metrics;
  return { part: first, rows, rest };
}

/** Adds credit rows to a counter shard's items (counter day item unless a cohort row, day and month rollups), in `tx`. */
function addRows(tx: Tx, credits: CreditDiff, rows: readonly string[], counterShard: number): void {
  for (const k of rows) {
    const metrics = credits[k]!;
    const { channel, model, day } = parseCreditKey(k);
    if (model !== COHORT_MODEL) counters.add(tx, { channelId: channel, shard: counterShard, model, day }, metrics);
    rollups.add(tx, model, day, channel, counterShard, metrics);
    rollups.add(tx, model, monthOf(day), channel, counterShard, metrics);
  }
}

/** The fold transaction of a batch: the credits added to `counterShard`'s items, the deltas consumed (or shrunk). */
export function planFold(tx: Tx, batch: FoldBatch, counterShard: number): { folded: CreditDelta[] } {
  if ('whole' in batch) {
    for (const d of batch.whole) {
      creditDeltas.consume(tx, d);
      addRows(tx, d.credits, Object.keys(d.credits), counterShard);
    }
    return { folded: batch.whole };
  }
  creditDeltas.shrink(tx, batch.part, batch.rest);
  addRows(tx, batch.part.credits, batch.rows, counterShard);
  return { folded: [] };
}

/** Folds one delta shard until it is empty (or `stop()` says so). */
export async function foldShard(src: FoldSource, shard: number, stop: () => boolean = () => false): Promise<FoldResult> {
  const out = empty();
  const counterShard = counterShardOf(shard, src.cfg.HUB_COUNTER_SHARDS);
  let transient = 0;
  while (!stop()) {
    const page = await creditDeltas.page(src.store, shard, PAGE);
    if (!page.length) break;
    const tx = new Tx(src.store.table);
    const { folded } = planFold(tx, batchOf(page), counterShard);
    try {
      await tx.commit(src.store.db);
    } catch (err) {
      if (err instanceof TxConditionFailed) {
        // Another fold consumed a delta of this batch first: read the shard again.
        out.retries++;
        continue;
      }
      if (err instanceof TransientError && ++transient < MAX_TRANSIENT) {
        out.retries++;
        await new Promise((r) => setTimeout(r, 20 * 2 ** transient * (0.5 + Math.random())));
        continue;
      }
      throw err;
    }
    transient = 0;
    out.folded += folded.length;
    out.transactions++;
    if (folded.length) out.lagSeconds = Math.max(out.lagSeconds, (src.now() - Math.min(...folded.map((d) => d.at))) / 1000);
  }
  return out;
}

/**
 * One pass over every delta shard: one worker per counter shard, each finding which of its delta
 * shards hold deltas (one small Query each, in parallel) and folding those in turn until they are
 * empty (or `stop()` says so).
 */
export async function foldAll(src: FoldSource, stop: () => boolean = () => false): Promise<FoldResult> {
  const workers = Math.min(src.cfg.HUB_COUNTER_SHARDS, DELTA_SHARDS);
  const results = await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      const out = empty();
      const mine = Array.from({ length: Math.ceil((DELTA_SHARDS - w) / workers) }, (_, i) => w + i * workers);
      // Which of this worker's shards hold deltas: one Query each, in parallel (an idle pass costs one round trip).
      const busy = (await Promise.all(mine.map(async (shard) => ((await creditDeltas.page(src.store, shard, 1)).length ? shard : -1)))).filter((s) => s >= 0);
      for (const shard of busy) {
        if (stop()) break;
        const r = await foldShard(src, shard, stop);
        out.folded += r.folded;
        out.transactions += r.transactions;
        out.retries += r.retries;
        out.lagSeconds = Math.max(out.lagSeconds, r.lagSeconds);
      }
      return out;
    }),
  );
  return results.reduce((a, r) => ({ folded: a.folded + r.folded, transactions: a.transactions + r.transactions, retries: a.retries + r.retries, lagSeconds: Math.max(a.lagSeconds, r.lagSeconds) }), empty());
}

/** A run stops starting fold transactions when less than this is left before its deadline. */
const STOP_MS = 1_000;
/** Pause between passes that found nothing to fold. */
export const IDLE_MS = 500;

/**
 * The scheduled fold: without a deadline (a manual run) one pass; with one, passes until the
 * deadline is STOP_MS away, pausing IDLE_MS after a pass that found nothing. Deployed on a
 * one-minute schedule with a 60 s timeout and reserved concurrency 1, a run keeps folding for its
 * whole minute: a delta waits at most one idle pause plus the moment between two runs
 * (docs/design.md, "Counters: deltas and the fold").
 */
export async function runFold(src: FoldSource, remainingMs?: () => number): Promise<FoldResult> {
  if (!remainingMs) return foldAll(src);
  const stop = () => remainingMs() < STOP_MS;
  const total = empty();
  while (!stop()) {
    const r = await foldAll(src, stop);
    total.folded += r.folded;
    total.transactions += r.transactions;
    total.retries += r.retries;
    total.lagSeconds = Math.max(total.lagSeconds, r.lagSeconds);
    if (r.transactions === 0) {
      if (remainingMs() < STOP_MS + IDLE_MS) break;
      await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    }
  }
  return total;
}
