/**
 * applyWith(planners, event): the one write path (lib/apply/apply.ts `apply` is this with every
 * planner; a webhook function passes only its source's planners, so its bundle carries no other
 * source's planning code). Every HubEvent is committed in ONE DynamoDB transaction:
 *
 *   dedupe marker (fails the transaction on a redelivery)
 *   + identity rows (unique by construction) + the member profile (optimistic version)
 *   + order / points / code rows + attribution counter differences + outbox rows
 *
 * then the outbox rows planned in that commit are drained to SQS. A redelivered event is
 * answered as a duplicate and drains whatever its first delivery left pending, so a message
 * planned in a commit is enqueued even when SQS failed right after that commit.
 *
 * Business metrics (deps.metrics, lib/metrics.ts): EventsApplied and FoldLagSeconds per commit,
 * Duplicates per redelivery, by the event's source. Every event answered (applied or duplicate)
 * is handed to deps.archive with its outcome (lib/archive: buffered, never fails the call).
 */
import { HubEvent } from '../events/hub-event.ts';
import { dedupe, DEDUPE_TAG, markerFromItem } from '../store/entities/dedupe.ts';
import { PUSH_NONCE_TAG, pushNonces } from '../store/entities/push-nonce.ts';
import { refusals } from '../store/entities/refusal.ts';
import { Tx, type TxCommitInfo } from '../store/tx.ts';
import { classifyStoreError, TxConditionFailed } from '../store/errors.ts';
import { BadRequestError, HubError, RefusedForReviewError, ReplyBudgetError, SignatureError, TransientError } from '../errors.ts';
import { stableId } from '../ids.ts';
import { localDay } from '../time.ts';
import { drainOutbox } from '../engagement/outbox.ts';
import type { ApplyDeps, ApplyGuards, ApplyOptions, ApplyResult, PlanOutput, Planner, Planners } from '../port.ts';
import { logger } from '../log.ts';
import { PlanContext } from './plan-context.ts';

const MAX_ATTEMPTS = 12;

/**
 * Validates `input` against the HubEvent schema and commits it with the planner of its type from
 * `planners` (an event type without one there is a programming error, not a caller's).
 */
export async function applyWith<E extends HubEvent>(
  planners: Planners<E>,
  input: E,
  deps: ApplyDeps,
  guards: ApplyGuards = {},
  opts: ApplyOptions = {},
): Promise<ApplyResult> {
  const parsed = HubEvent.safeParse(input);
  if (!parsed.success) throw new BadRequestError('event failed validation', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  const event = parsed.data;
  const planner = (planners as Partial<Record<HubEvent['type'], Planner>>)[event.type];
  if (!planner) throw new Error(`no planner for event type ${event.type} in this function`);
  let transientFailures = 0;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const now = deps.now();
    if (attempt > 1 && opts.deadline !== undefined && now >= opts.deadline) {
      throw new ReplyBudgetError('no time left to answer within the platform\'s reply budget, retry');
    }
    const tx = new Tx(deps.table);
    const ctx = new PlanContext(event, deps, tx, now);
    let out: PlanOutput;
    try {
      out = await planner(event, ctx);
    } catch (err) {
      // Reads failing past the SDK's retries (throttling, timeouts) are transient: 503, retried.
      if (err instanceof RefusedForReviewError) await keepForReview(event, err, deps);
      const classified = err instanceof HubError ? err : classifyStoreError(err);
      if (classified instanceof TransientError && ++transientFailures < 3) {
        await backoff(attempt);
        continue;
      }
      throw classified;
    }
    const outboxIds = ctx.writeOutbox();
    if (guards.replay) pushNonces.guard(tx, { digest: guards.replay.key, bodyHash: guards.replay.bodyHash, at: now, expiresAt: guards.replay.expiresAt });
    dedupe.create(tx, {
      eventId: event.eventId,
      type: event.type,
      at: now,
      ...(out.memberId ? { memberId: out.memberId } : {}),
      outbox: outboxIds,
      ...(out.result ? { result: out.result } : {}),
      expiresAt: Math.floor(now / 1000) + deps.cfg.HUB_DEDUPE_TTL_DAYS * 86_400,
    });
    let info: TxCommitInfo;
    try {
      info = await tx.commit(deps.db, { returnConsumedCapacity: deps.measure });
    } catch (err) {
      if (err instanceof TxConditionFailed) {
        if (err.tags.includes(PUSH_NONCE_TAG)) throw new SignatureError('this signature, timestamp and nonce were already used with another body');
        const i = err.tags.indexOf(DEDUPE_TAG);
        if (i >= 0) {
          const dup = await duplicate(event.eventId, err.oldItems[i] ?? {}, attempt, deps);
          deps.metrics?.add('Duplicates', { source: event.source });
          deps.archive?.applied(event, dup, deps.now());
          return dup;
        }
        // Another writer changed what we read (member version, identity, order): re-read and re-plan.
        await backoff(attempt);
        continue;
      }
      if (err instanceof TransientError && ++transientFailures < 3) {
        await backoff(attempt);
        continue;
      }
      throw err;
    }
    // Committed; the event is never planned again. A queue failure from here on is answered 503
    // (the platform retries, the redelivery drains the rows), or, for a door that must answer
    // within its budget (WeChat), success: the outbox sweep enqueues the rows.
    let enqueued = 0;
    let leftInOutbox = 0;
    try {
      enqueued = await drainOutbox(outboxIds, deps);
    } catch (err) {
      if (opts.afterCommitQueueFailure !== 'sweep' || !(err instanceof TransientError)) throw err;
      leftInOutbox = outboxIds.length;
      logger.warn('queue failed after the commit; the outbox sweep delivers', { eventId: event.eventId, messages: leftInOutbox });
    }
    deps.metrics?.add('EventsApplied', { source: event.source });
    // Fold lag: from the event's occurrence on its platform to its commit here.
    deps.metrics?.add('FoldLagSeconds', {}, Math.max(0, (now - event.occurredAt) / 1000));
    const applied: ApplyResult = {
      status: 'applied',
      eventId: event.eventId,
      ...(out.memberId ? { memberId: out.memberId } : {}),
      ...(out.result ? { result: out.result } : {}),
      enqueued,
      ...(leftInOutbox > 0 && { leftInOutbox }),
      attempts: attempt,
      writeItems: info.items,
      consumedWcu: info.consumedWcu,
    };
    // Archived with its outcome (lib/archive): buffered, never throws, never waits.
    deps.archive?.applied(event, applied, now);
    return applied;
  }
  throw new TransientError('too much contention on this record, retry');
}

/** The refusal row of a RefusedForReviewError; a redelivery of the event rewrites the same row. */
async function keepForReview(event: HubEvent, err: RefusedForReviewError, deps: ApplyDeps): Promise<void> {
  const at = event.occurredAt;
  const now = deps.now();
  await refusals.put(deps, localDay(at, deps.cfg.HUB_TIMEZONE), stableId('refusal', event.eventId), { ...err.review, eventId: event.eventId, at, recordedAt: now }, now, deps.cfg.HUB_REFUSAL_RETENTION_DAYS);
}

/** A redelivery: answered with the first delivery's outcome, after draining what it left pending. */
async function duplicate(eventId: string, marker: Record<string, unknown>, attempt: number, deps: ApplyDeps): Promise<ApplyResult> {
  const { outbox, memberId, result } = markerFromItem(marker);
  const enqueued = await drainOutbox(outbox, deps);
  return {
    status: 'duplicate',
    eventId,
    ...(memberId ? { memberId } : {}),
    ...(result ? { result } : {}),
    enqueued,
    attempts: attempt,
    writeItems: 0,
    consumedWcu: 0,
  };
}

function backoff(attempt: number): Promise<void> {
  const ms = Math.min(200, 5 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random());
  return new Promise((r) => setTimeout(r, ms));
}
