/**
 * The nightly member review: recomputes tier (downgrades allowed), lifecycle stage and RFM for
 * the members whose review is due, found through the sparse review index on the member profile
 * (`REVIEW#<local day>#<shard>`, lib/store/entities/member.ts) — never a table scan. Each profile write
 * files the member under the day after the next instant one of those values changes on its own
 * (lib/members/lifecycle.ts nextReviewAt), or under tomorrow when it owes a downgrade (a write
 * never lowers a tier), so a run reads exactly the members with something to recompute. It queries today's partitions and those of the previous `catchUpDays` days (runs
 * that failed or stopped early); a member whose entry has already moved to a later day (an
 * event rewrote it) is skipped.
 *
 * Each member is rewritten through writeMember: a put conditional on the `version` it read (the
 * same guard as every event's transaction), re-read and retried on conflict, so a review never
 * overwrites an event that landed in between. A run stops taking new members when the time
 * left (`remainingMs`) falls under `reserveMs`; what is left is found by the next run.
 *
 * An unregistered fan whose retention date has passed (lib/privacy/fan-retention.ts) is not
 * rewritten: its erasure is requested instead (the `privacy` function carries it out).
 */
import type { HubConfig } from '../config/index.ts';
import { TransientError } from '../errors.ts';
import type { Store } from '../store/client.ts';
import { members, parseReviewDay } from '../store/entities/member.ts';
import { Tx } from '../store/tx.ts';
import { TxConditionFailed } from '../store/errors.ts';
import { addDays, localDay } from '../time.ts';
import { REVIEW_SHARDS, tierOf, tierRank, type Rfm } from './lifecycle.ts';
import { logger } from '../log.ts';
import { writeMember, type StoredMember } from './record.ts';
import { fanRetentionAt } from '../privacy/fan-retention.ts';
import { requestErasure } from '../privacy/erase.ts';

export interface NightlyDeps {
  db: Store['db'];
  table: string;
  cfg: HubConfig;
  now: () => number;
}

export interface NightlyOptions {
  /** Earlier days whose partitions are read too (default 7). */
  catchUpDays?: number;
  /** Members reviewed at once (default 8). */
  concurrency?: number;
  /** Time left for this run in ms (Lambda context); absent = unbounded. */
  remainingMs?: () => number;
  /** Stop taking new members when less than this is left (default 30 s). */
  reserveMs?: number;
}

export interface NightlyResult {
  /** Local day of the run. */
  day: string;
  /** Index entries read. */
  found: number;
  /** Members rewritten. */
  reviewed: number;
  /** Entries skipped: merged away, gone, or already filed under a later day. */
  skipped: number;
  tierDowngrades: number;
  tierUpgrades: number;
  lifecycleChanges: number;
  rfmChanges: number;
  /** Version conflicts retried. */
  conflicts: number;
  /** Members that could not be written (left for the next run). */
  failed: number;
  /** Unregistered fans past their retention: erasure requested (lib/privacy/fan-retention.ts). */
  erasures: number;
  stoppedEarly: boolean;
}

type ReviewOutcome =
  | { kind: 'skipped' }
  | { kind: 'erasure' }
  | { kind: 'failed' }
  | { kind: 'reviewed'; conflicts: number; before: Snapshot; after: Snapshot };

interface Snapshot {
  tier: string;
  lifecycle: string;
  rfm?: Rfm;
}

const MAX_ATTEMPTS = 8;
/** Member ids read per review-index page. */
const REVIEW_PAGE = 100;

export async function runNightly(deps: NightlyDeps, opts: NightlyOptions = {}): Promise<NightlyResult> {
  const now = deps.now();
  const tz = deps.cfg.HUB_TIMEZONE;
  const today = localDay(now, tz);
  const catchUp = opts.catchUpDays ?? 7;
  const concurrency = Math.max(1, opts.concurrency ?? 8);
  const reserve = opts.reserveMs ?? 30_000;
  const out: NightlyResult = {
    day: today,
    found: 0,
    reviewed: 0,
    skipped: 0,
    tierDowngrades: 0,
    tierUpgrades: 0,
    lifecycleChanges: 0,
    rfmChanges: 0,
    conflicts: 0,
    failed: 0,
    erasures: 0,
    stoppedEarly: false,
  };
  const outOfTime = () => opts.remainingMs !== undefined && opts.remainingMs() < reserve;

  for (let back = catchUp; back >= 0; back--) {
    const day = addDays(today, -back);
    for (let shard = 0; shard < REVIEW_SHARDS; shard++) {
      let startKey: Record<string, unknown> | undefined;
      do {
        if (outOfTime()) {
          out.stoppedEarly = true;
          return out;
        }
        const page = await members.reviewPage(deps, day, shard, { limit: REVIEW_PAGE, ...(startKey ? { startKey } : {}) });
        startKey = page.lastKey;
        const ids = page.memberIds;
        out.found += ids.length;
        for (let i = 0; i < ids.length; i += concurrency) {
          const outcomes = await Promise.all(ids.slice(i, i + concurrency).map((id) => reviewMember(deps, id, now, today)));
          for (const o of outcomes) tally(out, o);
          if (i + concurrency < ids.length && outOfTime()) {
            out.stoppedEarly = true;
            return out;
          }
        }
      } while (startKey);
    }
  }
  return out;
}

function tally(out: NightlyResult, o: ReviewOutcome): void {
  if (o.kind === 'skipped') out.skipped++;
  else if (o.kind === 'erasure') out.erasures++;
  else if (o.kind === 'failed') out.failed++;
  else {
    out.reviewed++;
    out.conflicts += o.conflicts;
    if (tierRank(o.after.tier) < tierRank(o.before.tier)) out.tierDowngrades++;
    if (tierRank(o.after.tier) > tierRank(o.before.tier)) out.tierUpgrades++;
    if (o.after.lifecycle !== o.before.lifecycle) out.lifecycleChanges++;
    if (JSON.stringify(o.after.rfm ?? null) !== JSON.stringify(o.before.rfm ?? null)) out.rfmChanges++;
  }
}

/**
 * Recomputes one member as of `now` and writes it under its version; re-reads and retries when
 * an event wrote the member in between. `today` is the run's local day: a member filed under a
 * later day has nothing due.
 */
export async function reviewMember(deps: NightlyDeps, memberId: string, now: number, today: string): Promise<ReviewOutcome> {
  let conflicts = 0;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const item = await members.get<StoredMember>(deps, memberId);
    if (!item || item.mergedInto) return { kind: 'skipped' };
    const rules = deps.cfg.memberRules;
    const tier = tierOf(item.history, now, rules.tiers, rules.days.tierWindow);
    const day = parseReviewDay(item);
    // Due: filed under today or earlier, or owing a downgrade (an event rewrote it in between).
    const due = day !== undefined && (day <= today || tierRank(item.tier) > tierRank(tier));
    if (!due) return { kind: 'skipped' };
    const retention = fanRetentionAt(item, deps.cfg.HUB_FAN_RETENTION_DAYS);
    if (retention !== undefined && retention <= now) {
      await requestErasure(deps, deps.cfg, { memberId, actor: 'retention', reason: `unregistered fan unfollowed every account more than ${deps.cfg.HUB_FAN_RETENTION_DAYS} days ago` }, now);
      return { kind: 'erasure' };
    }
    const before: Snapshot = { tier: item.tier, lifecycle: item.lifecycle, ...(item.rfm ? { rfm: item.rfm } : {}) };
    // The one place a tier may fall: derive (inside writeMember) only ever raises it.
    item.tier = tier;
    const tx = new Tx(deps.table);
    writeMember(tx, item, false, { tz: deps.cfg.HUB_TIMEZONE, shards: deps.cfg.HUB_COUNTER_SHARDS, rules, fanRetentionDays: deps.cfg.HUB_FAN_RETENTION_DAYS, now });
    try {
      await tx.commit(deps.db);
      const after: Snapshot = { tier: item.tier, lifecycle: item.lifecycle, ...(item.rfm ? { rfm: item.rfm } : {}) };
      return { kind: 'reviewed', conflicts, before, after };
    } catch (err) {
      if (err instanceof TxConditionFailed) conflicts++;
      else if (!(err instanceof TransientError)) {
        // One member that cannot be written must not stop the others; it stays due.
        logger.error('nightly review failed for a member', { memberId, error: err instanceof Error ? err.message : String(err) });
        return { kind: 'failed' };
      }
      await new Promise((r) => setTimeout(r, Math.min(400, 10 * 2 ** attempt) * (0.5 + Math.random())));
    }
  }
  logger.warn('nightly review gave up on a contended member', { memberId, conflicts });
  return { kind: 'failed' };
}
