/**
 * Catch-up polls: what a platform holds that no push delivered (docs/platforms.md#reconciliation).
 *
 * TMC keeps an unconfirmed message for at most about 24 h, Youzan stops re-pushing after about
 * 2.5 h and a relay outage is silent, so each platform's order search is read by modified time
 * and every change it returns goes through the same normalise → apply path as a push. The
 * dedupe marker and the forward-only order state make overlap free: a snapshot already applied
 * is a duplicate, a change a push already delivered changes nothing.
 *
 * Per source (platform + shop):
 * - the cursor (lib/store/entities/reconcile.ts) says up to when every change has been applied;
 *   the first run starts `firstLookbackMs` back;
 * - a run reads windows of at most `maxWindowMs` (the platform's limit) from `cursor − overlapMs`
 *   (a change indexed late by the platform is read again) up to `now − lagMs` (the search lags
 *   behind the pushes), one after the other;
 * - after a window whose events all committed (or were refused for good: logged), the cursor
 *   moves to its end. A platform error, or an apply a retry may fix, stops that source: its
 *   cursor stays at the last complete window and the next run reads the rest again;
 * - a gap is an event whose apply changed the order (new to the hub, or a later status or
 *   amount than any push brought): it is logged with its order and counted in ReconcileGaps.
 */
import type { CommerceEvent } from '../../events/hub-event.ts';
import { HubError } from '../../errors.ts';
import { logger } from '../../log.ts';
import type { MetricsSink } from '../../metrics.ts';
import type { ApplyResult } from '../../port.ts';
import type { Store } from '../../store/client.ts';
import { reconcileCursors } from '../../store/entities/reconcile.ts';

export interface ReconcileSource {
  platform: string;
  shopId: string;
  /** Longest window one search may cover, ms (the platform's limit or recommendation). */
  maxWindowMs: number;
  /** How far behind the clock the search lags, ms: windows end this long before now. */
  lagMs: number;
  /** Every change modified in [startMs, endMs) as events, all pages. Throws on a platform error. */
  fetch(startMs: number, endMs: number): Promise<CommerceEvent[]>;
}

export interface ReconcileOptions {
  sources: readonly ReconcileSource[];
  apply: (event: CommerceEvent) => Promise<ApplyResult>;
  store: Store;
  now: () => number;
  /** Milliseconds left in this invocation. */
  remainingMs: () => number;
  /** Stop starting windows when less than this is left (default 10 000). */
  reserveMs?: number;
  /** Each run re-reads this much before the cursor (default 10 minutes). */
  overlapMs?: number;
  /** Where the first run of a source starts (default 24 h back: TMC's retention). */
  firstLookbackMs?: number;
  metrics?: MetricsSink;
}

export interface ReconcileGap {
  platform: string;
  shopId: string;
  orderId: string;
  eventId: string;
  status?: string;
}

export type ReconcileStop = 'caught_up' | 'time' | 'platform_error' | 'apply_failed' | 'cursor_moved';

export interface SourceRun {
  platform: string;
  shopId: string;
  windows: number;
  fetched: number;
  applied: number;
  duplicates: number;
  rejected: number;
  gaps: ReconcileGap[];
  cursorFrom: number;
  cursorTo: number;
  stoppedBy: ReconcileStop;
  error?: string;
}

export interface ReconcileRun {
  sources: SourceRun[];
  gaps: number;
}

export const DEFAULT_OVERLAP_MS = 10 * 60_000;
export const DEFAULT_FIRST_LOOKBACK_MS = 24 * 3600_000;

/**
 * The windows a run reads: from `cursor − overlap` to `target`, each at most `maxWindowMs`
 * long, contiguous. Empty only when even the overlap starts at or after the target.
 */
export function reconcileWindows(cursorAt: number, target: number, maxWindowMs: number, overlapMs: number): Array<[number, number]> {
  if (!(maxWindowMs > 0)) throw new Error('maxWindowMs must be positive');
  const out: Array<[number, number]> = [];
  for (let start = Math.max(0, cursorAt - overlapMs); start < target; start += maxWindowMs) {
    out.push([start, Math.min(target, start + maxWindowMs)]);
  }
  return out;
}

const isPermanent = (err: unknown): err is HubError => err instanceof HubError && err.status >= 400 && err.status < 500;
const describe = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

/** Did this apply change the order (the planners' `advanced` result)? */
const advanced = (r: ApplyResult): boolean => r.status === 'applied' && r.result?.['advanced'] === true;

async function runSource(src: ReconcileSource, opts: ReconcileOptions): Promise<SourceRun> {
  const now = opts.now();
  const stored = await reconcileCursors.get(opts.store, src.platform, src.shopId);
  let version = stored?.version ?? 0;
  const cursorFrom = stored?.cursorAt ?? now - (opts.firstLookbackMs ?? DEFAULT_FIRST_LOOKBACK_MS);
  const run: SourceRun = {
    platform: src.platform,
    shopId: src.shopId,
    windows: 0,
    fetched: 0,
    applied: 0,
    duplicates: 0,
    rejected: 0,
    gaps: [],
    cursorFrom,
    cursorTo: cursorFrom,
    stoppedBy: 'caught_up',
  };
  const windows = reconcileWindows(cursorFrom, now - src.lagMs, src.maxWindowMs, opts.overlapMs ?? DEFAULT_OVERLAP_MS);
  for (const [start, end] of windows) {
    if (opts.remainingMs() < (opts.reserveMs ?? 10_000)) {
      run.stoppedBy = 'time';
      break;
    }
    let events: CommerceEvent[];
    try {
      events = await src.fetch(start, end);
    } catch (err) {
      run.stoppedBy = 'platform_error';
      run.error = describe(err);
      logger.warn('reconcile: platform search failed; the cursor stays', { platform: src.platform, shopId: src.shopId, start, end, error: run.error });
      break;
    }
    run.windows += 1;
    run.fetched += events.length;
    let failed = false;
    for (const event of events) {
      try {
        const r = await opts.apply(event);
        if (r.status === 'duplicate') run.duplicates += 1;
        else run.applied += 1;
        if (advanced(r)) {
          const gap: ReconcileGap = { platform: src.platform, shopId: src.shopId, orderId: 'orderId' in event ? event.orderId : '', eventId: event.eventId };
          const status = r.result?.['orderStatus'] ?? r.result?.['refundStatus'];
          if (typeof status === 'string') gap.status = status;
          run.gaps.push(gap);
          logger.info('reconcile: found a change no push delivered', { ...gap });
        }
      } catch (err) {
        if (isPermanent(err)) {
          run.rejected += 1;
          logger.error('reconcile: change refused; it cannot form a valid event', { platform: src.platform, eventId: event.eventId, code: err.code, reason: err.message });
          continue;
        }
        failed = true;
        run.error = describe(err);
        logger.warn('reconcile: apply failed; the cursor stays and the next run reads the window again', { platform: src.platform, eventId: event.eventId, error: run.error });
        break;
      }
    }
    if (failed) {
      run.stoppedBy = 'apply_failed';
      break;
    }
    const counts = { fetched: run.fetched, applied: run.applied, duplicates: run.duplicates, gaps: run.gaps.length };
    // Never backwards (a window of the overlap ends before the cursor, or the clock went back).
    const cursorTo = Math.max(run.cursorTo, end);
    if (!(await reconcileCursors.advance(opts.store, src.platform, src.shopId, cursorTo, version, opts.now(), counts))) {
      run.stoppedBy = 'cursor_moved';
      break;
    }
    version += 1;
    run.cursorTo = cursorTo;
  }
  return run;
}

/**
 * Normalises each item of a search answer; an item that cannot form a valid event (4xx) is
 * logged and skipped so it never holds the cursor back, anything else is thrown.
 */
export function normaliseEach<T>(items: readonly T[], normalise: (item: T) => CommerceEvent | null, platform: string): CommerceEvent[] {
  const out: CommerceEvent[] = [];
  for (const item of items) {
    try {
      const e = normalise(item);
      if (e) out.push(e);
    } catch (err) {
      if (!isPermanent(err)) throw err;
      logger.error('reconcile: order skipped; it cannot form a valid event', { platform, code: err.code, reason: err.message });
    }
  }
  return out;
}

/** Runs every source (one after the other; a source's failure never stops the others). */
export async function reconcile(opts: ReconcileOptions): Promise<ReconcileRun> {
  const out: ReconcileRun = { sources: [], gaps: 0 };
  for (const src of opts.sources) {
    const run = await runSource(src, opts);
    out.sources.push(run);
    out.gaps += run.gaps.length;
  }
  if (out.gaps > 0) opts.metrics?.add('ReconcileGaps', {}, out.gaps);
  return out;
}
