/**
 * The TMC pull loop: `taobao.tmc.messages.consume` → normalise (with the trade's CRM detail
 * when `detail` is given) → apply → `confirm`.
 *
 * TMC keeps a message until it is confirmed and redelivers every unconfirmed one, so the only
 * rule that matters is WHICH ids are confirmed:
 *
 *   confirmed      the apply committed, or it was a duplicate (committed by an earlier delivery);
 *                  a topic the hub does not use (acknowledged, logged); a message that can never
 *                  form a valid event (4xx: malformed content, identity conflict), logged with
 *                  its id and reason so it can be reconciled
 *   not confirmed  the apply failed in a way a retry may fix (storage throttled or unreachable,
 *                  contention, anything unexpected): TOP redelivers it and the next pull
 *                  applies it. A message that failed in this run is not retried in the same run.
 *
 * A confirm that fails after the commit loses nothing: the redelivered message is answered as a
 * duplicate by its dedupe marker and confirmed then.
 *
 * Messages of one order are applied in arrival order; different orders run concurrently. The
 * loop ends when a consume returns nothing, when the time left is below the reserve (a confirm
 * must still fit), when a confirm fails, or when a round makes no progress.
 */
import type { CommerceEvent } from '../../events/hub-event.ts';
import { HubError } from '../../errors.ts';
import { logger } from '../../log.ts';
import type { ApplyResult } from '../../port.ts';
import { normaliseTmcMessage, type TmcMessage } from './normalise.ts';

/** The two TOP calls the loop needs (TopClient implements them). */
export interface TmcSource {
  consumeMessages(options: { groupName?: string; quantity?: number }): Promise<TmcMessage[]>;
  confirmMessages(ids: readonly string[], options: { groupName?: string }): Promise<boolean>;
}

export interface TmcPullOptions {
  source: TmcSource;
  /**
   * The CRM detail of a trade (`taobao.trade.simple.get` as the seller: `ouid`, lines, the real
   * pay time), fetched once per trade and run for its trade messages; a failed call applies the
   * thin message as it is (logged): the detail is fetched again for the trade's next message.
   */
  detail?: (tid: string) => Promise<Record<string, unknown>>;
  /** The write path (lib/apply `applyWith` with the commerce planners and its deps). */
  apply: (event: CommerceEvent) => Promise<ApplyResult>;
  /** Milliseconds left in this invocation (Lambda `getRemainingTimeInMillis`). */
  remainingMs: () => number;
  /** Stop starting work when less than this is left (default 15 000: a confirm must still fit). */
  reserveMs?: number;
  groupName?: string;
  /** Messages per consume, 10–200 (default 100). */
  quantity?: number;
  /** Orders applied at once (default 4). */
  concurrency?: number;
  /** Upper bound on consume rounds per invocation (default 100). */
  maxRounds?: number;
}

export type TmcPullStop = 'empty' | 'time' | 'confirm_failed' | 'no_progress' | 'max_rounds' | 'consume_failed';

export interface TmcPullResult {
  rounds: number;
  /** Messages received over all rounds (redeliveries included). */
  consumed: number;
  applied: number;
  duplicates: number;
  /** Topics the hub does not use: confirmed. */
  ignored: number;
  /** Messages that can never form a valid event: confirmed and logged. */
  rejected: number;
  /** Transient failures: not confirmed, redelivered by TOP. */
  failed: number;
  /** Left untouched in this run (time budget, or already failed in this run). */
  deferred: number;
  confirmed: number;
  /** Ids whose confirm call failed (their redelivery is answered as a duplicate). */
  confirmFailed: number;
  stoppedBy: TmcPullStop;
}

type Outcome = 'applied' | 'duplicate' | 'ignored' | 'rejected' | 'failed' | 'deferred';

const CONFIRMED_OUTCOMES: ReadonlySet<Outcome> = new Set(['applied', 'duplicate', 'ignored', 'rejected']);

/** A failure no retry can fix: the platform sent something that cannot become a valid event. */
function isPermanent(err: unknown): err is HubError {
  return err instanceof HubError && err.status >= 400 && err.status < 500;
}

function orderGroup(msg: TmcMessage, event: CommerceEvent | null): string {
  if (event && 'orderId' in event) return `${event.platform}:${event.shopId}:${event.orderId}`;
  return `msg:${msg.id}`;
}

export async function pullTmc(opts: TmcPullOptions): Promise<TmcPullResult> {
  const reserveMs = opts.reserveMs ?? 15_000;
  const quantity = opts.quantity ?? 100;
  const concurrency = Math.max(1, opts.concurrency ?? 4);
  const maxRounds = opts.maxRounds ?? 100;
  const groupName = opts.groupName ?? 'default';
  const out: TmcPullResult = {
    rounds: 0,
    consumed: 0,
    applied: 0,
    duplicates: 0,
    ignored: 0,
    rejected: 0,
    failed: 0,
    deferred: 0,
    confirmed: 0,
    confirmFailed: 0,
    stoppedBy: 'empty',
  };
  const failedThisRun = new Set<string>();
  const details = new Map<string, Promise<Record<string, unknown> | null>>();
  const timeLeft = () => opts.remainingMs() > reserveMs;

  for (;;) {
    if (out.rounds >= maxRounds) {
      out.stoppedBy = 'max_rounds';
      break;
    }
    if (!timeLeft()) {
      out.stoppedBy = 'time';
      break;
    }
    let messages: TmcMessage[];
    try {
      messages = await opts.source.consumeMessages({ groupName, quantity });
    } catch (err) {
      // Nothing done yet: the invocation fails (alarm); otherwise keep what was done.
      if (out.rounds === 0) throw err;
      logger.warn('TMC consume failed; the rest waits for the next pull', { error: (err as Error).message });
      out.stoppedBy = 'consume_failed';
      break;
    }
    out.rounds += 1;
    if (messages.length === 0) {
      out.stoppedBy = 'empty';
      break;
    }
    out.consumed += messages.length;

    const outcomes = await processBatch(messages, opts, { concurrency, failedThisRun, timeLeft, details });
    let progressed = false;
    const toConfirm: string[] = [];
    for (const [id, outcome] of outcomes) {
      switch (outcome) {
        case 'applied':
          out.applied += 1;
          break;
        case 'duplicate':
          out.duplicates += 1;
          break;
        case 'ignored':
          out.ignored += 1;
          break;
        case 'rejected':
          out.rejected += 1;
          break;
        case 'failed':
          out.failed += 1;
          failedThisRun.add(id);
          break;
        case 'deferred':
          out.deferred += 1;
          break;
      }
      if (CONFIRMED_OUTCOMES.has(outcome)) {
        toConfirm.push(id);
        progressed = true;
      }
    }
    if (toConfirm.length) {
      let ok = false;
      try {
        ok = await opts.source.confirmMessages(toConfirm, { groupName });
      } catch (err) {
        logger.warn('TMC confirm failed; the messages come back as duplicates', { ids: toConfirm.length, error: (err as Error).message });
      }
      if (!ok) {
        out.confirmFailed += toConfirm.length;
        out.stoppedBy = 'confirm_failed';
        break;
      }
      out.confirmed += toConfirm.length;
    }
    if (!progressed) {
      out.stoppedBy = timeLeft() ? 'no_progress' : 'time';
      break;
    }
  }
  return out;
}

interface BatchContext {
  /** The detail per tid fetched in this run (null: the call failed). */
  details: Map<string, Promise<Record<string, unknown> | null>>;
  concurrency: number;
  failedThisRun: ReadonlySet<string>;
  timeLeft: () => boolean;
}

/**
 * Applies one consumed batch; returns the outcome per distinct message id, in first-seen order.
 * A message id that appears twice in a batch is applied once.
 */
async function processBatch(messages: TmcMessage[], opts: TmcPullOptions, ctx: BatchContext): Promise<Map<string, Outcome>> {
  const outcomes = new Map<string, Outcome>();
  const groups = new Map<string, { msg: TmcMessage; event: CommerceEvent | null }[]>();
  for (const msg of messages) {
    if (outcomes.has(msg.id)) continue;
    if (ctx.failedThisRun.has(msg.id)) {
      outcomes.set(msg.id, 'deferred');
      continue;
    }
    let event: CommerceEvent | null;
    try {
      event = normaliseTmcMessage(msg);
    } catch (err) {
      outcomes.set(msg.id, reject(msg, err));
      continue;
    }
    if (!event) {
      logger.info('TMC topic not used by the hub; acknowledged', { topic: msg.topic, messageId: msg.id });
      outcomes.set(msg.id, 'ignored');
      continue;
    }
    outcomes.set(msg.id, 'deferred');
    const key = orderGroup(msg, event);
    const list = groups.get(key) ?? [];
    list.push({ msg, event });
    groups.set(key, list);
  }

  const queue = [...groups.values()];
  const worker = async () => {
    for (let group = queue.shift(); group; group = queue.shift()) {
      for (const { msg, event } of group) {
        if (!ctx.timeLeft()) return;
        outcomes.set(msg.id, await applyOne(msg, await withDetail(msg, event!, opts, ctx.details), opts));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(ctx.concurrency, queue.length) }, worker));
  return outcomes;
}

/** A whole-trade order event re-normalised with the trade's detail, when one is fetched; else the event as it is. */
async function withDetail(msg: TmcMessage, event: CommerceEvent, opts: TmcPullOptions, details: BatchContext['details']): Promise<CommerceEvent> {
  if (!opts.detail || event.type !== 'order' || event.subOrder) return event;
  const fetch = opts.detail;
  let pending = details.get(event.orderId);
  if (!pending) {
    pending = fetch(event.orderId).catch((err: unknown) => {
      logger.warn('TMC trade detail not fetched; the thin message is applied', { tid: event.orderId, error: err instanceof Error ? err.message : String(err) });
      return null;
    });
    details.set(event.orderId, pending);
  }
  const detail = await pending;
  if (!detail) return event;
  try {
    return normaliseTmcMessage(msg, { detail }) ?? event;
  } catch (err) {
    logger.warn('TMC trade detail unusable; the thin message is applied', { tid: event.orderId, error: (err as Error).message });
    return event;
  }
}

async function applyOne(msg: TmcMessage, event: CommerceEvent, opts: TmcPullOptions): Promise<Outcome> {
  try {
    const r = await opts.apply(event);
    return r.status === 'duplicate' ? 'duplicate' : 'applied';
  } catch (err) {
    if (isPermanent(err)) return reject(msg, err);
    logger.warn('TMC message not applied; left unconfirmed for redelivery', {
      messageId: msg.id,
      topic: msg.topic,
      error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    });
    return 'failed';
  }
}

function reject(msg: TmcMessage, err: unknown): Outcome {
  if (!isPermanent(err)) {
    logger.warn('TMC message could not be read; left unconfirmed', { messageId: msg.id, error: (err as Error)?.message });
    return 'failed';
  }
  logger.error('TMC message rejected and confirmed: it cannot form a valid event', {
    messageId: msg.id,
    topic: msg.topic,
    reason: err.message,
    code: err.code,
  });
  return 'rejected';
}
