/**
 * The port: what a planner (lib/apply/planners/) and the domain code it calls may use while an
 * event is planned — the attempt's clock and timezone, the configuration, the event's one
 * transaction, `emit` for engagement messages, and the consistent reads of the attempt. Types
 * only, defined below the domain, so domain code (lib/members, lib/engagement) works against it
 * without importing lib/apply. Implemented by lib/apply/plan-context.ts; faked in the unit tests.
 *
 * Also the types of the apply() contract (ApplyDeps, ApplyResult, ApplyGuards, ApplyFn), so a
 * caller below the apply layer (the TMC pull, the outbox drain) can name them.
 */
import type { HubConfig } from './config/schema.ts';
import type { HubEvent, Identity } from './events/hub-event.ts';
import type { MetricsSink } from './metrics.ts';
import type { OutboxRow, PlannedMessage } from './events/messages.ts';
import type { Store } from './store/client.ts';
import type { Tx } from './store/tx.ts';
import type { Batch } from './store/entities/batch.ts';
import type { ListedChannel } from './store/entities/channel.ts';
import type { Redemption } from './store/entities/code.ts';
import type { Lot } from './store/entities/lot.ts';
import type { Coupon } from './store/entities/coupon.ts';
import type { ProfileItem } from './store/entities/member.ts';
import type { OrderRow } from './store/entities/order.ts';
import type { OtpOwner, OtpRow } from './store/entities/otp.ts';
import type { RefundRow } from './store/entities/refund.ts';
import type { ScanLimit } from './store/entities/scan-limit.ts';
import type { StoredKeywordRules } from './store/entities/insight.ts';

/** What a planner may use during one attempt of one event. */
export interface Port {
  /** The attempt's clock reading (ms); one value per attempt. */
  readonly now: number;
  /** cfg.HUB_TIMEZONE. */
  readonly tz: string;
  readonly cfg: HubConfig;
  /** The event's one TransactWriteItems; written through lib/store/entities only. */
  readonly tx: Tx;
  /** Plans a message: an outbox row in this transaction, written after the planner returns. */
  emit(message: PlannedMessage): void;
  readonly reads: Reads;
  /** How credit differences are written (default `deltas`). */
  readonly creditWrites?: CreditWrites;
}

/** The reads of one attempt; every one is consistent, except `channel` (cached per container for up to 30 s) and `keywordRules`. */
export interface Reads {
  /** `${kind}#${value}` → memberId for the identities that are bound (BatchGetItem, chunks of 100). */
  identities(ids: readonly Identity[]): Promise<Map<string, string>>;
  /** The member record, following merge pointers. */
  member<T extends ProfileItem>(memberId: string): Promise<T | undefined>;
  /** The channel item, as this container read it at most CHANNEL_CACHE_TTL_MS ago (lib/store/entities/channel.ts). */
  channel(channelId: string): Promise<ListedChannel | undefined>;
  batch(batchId: string): Promise<Batch | undefined>;
  redemption(code: string): Promise<Redemption | undefined>;
  scanLimit(appId: string, openid: string, localDay: string): Promise<ScanLimit | undefined>;
  order<T extends OrderRow>(platform: string, shopId: string, orderId: string): Promise<T | undefined>;
  refund(platform: string, refundId: string): Promise<RefundRow | undefined>;
  otp(owner: OtpOwner): Promise<OtpRow | undefined>;
  /** The send record a template receipt names (the sender's msgId pointer). */
  sendByMsgId(appId: string, msgId: string): Promise<{ idempotencyKey?: string } | undefined>;
  /** The point lots of one member partition (at most 200: the first page). */
  lots(memberId: string): Promise<Lot[]>;
  /** A coupon by its code. */
  coupon(code: string): Promise<Coupon | undefined>;
  /** An official account's keyword auto-reply rules (eventually consistent; lib/insight/keywords.ts). */
  keywordRules(appId: string): Promise<StoredKeywordRules | undefined>;
}

/** What a planner returns: the member the event resolved to, and an event-specific result. */
export interface PlanOutput {
  memberId?: string;
  result?: Record<string, unknown>;
}

export type Planner<E extends HubEvent = HubEvent> = (event: E, port: Port) => Promise<PlanOutput>;

/** The planner of every event type of `E` (lib/apply/planners/index.ts has all of them). */
export type Planners<E extends HubEvent = HubEvent> = { readonly [T in E['type']]: Planner<Extract<E, { type: T }>> };

/** Sends one outbox row to its queue (SQS in production; a no-op in benchmarks). */
export type OutboxDrainer = (row: OutboxRow, queueUrl: string) => Promise<void>;

/**
 * How an event's credit difference is written: `deltas` (the write path) as a credit-delta item
 * folded into the counters afterwards (lib/attribution/fold.ts); `inline`, the design before the
 * fold, into the shared counter items inside the event's transaction. `inline` exists only so the
 * hot-channel test and the scale benchmark can measure the two side by side.
 */
export type CreditWrites = 'deltas' | 'inline';

/** What apply() needs. */
export interface ApplyDeps {
  db: Store['db'];
  table: string;
  cfg: HubConfig;
  now: () => number;
  drainer?: OutboxDrainer;
  /** Ask DynamoDB for consumed capacity (benchmarks). */
  measure?: boolean;
  /** Where apply() records EventsApplied / Duplicates / FoldLagSeconds (lib/metrics.ts); none: not recorded. */
  metrics?: MetricsSink;
  /** Where apply() hands every event it answered for, with the outcome (lib/archive); none: not archived. */
  archive?: EventArchive;
  /** Default `deltas` (CreditWrites). */
  creditWrites?: CreditWrites;
}

/** The archive as apply() sees it: takes the event and its outcome, buffered; never throws, never waits. */
export interface EventArchive {
  applied(event: HubEvent, result: Pick<ApplyResult, 'status' | 'memberId' | 'result'>, at: number): void;
}

/**
 * What the door that received the event adds to its commit: `replay`, the nonce-cache row of a
 * plain-mode WeChat push (lib/sources/wechat/inbound.ts). The row is created with the body's digest, or
 * must already carry the same digest: a captured URL with another body fails the commit (401),
 * WeChat's identical retry does not.
 */
export interface ApplyGuards {
  replay?: { key: string; bodyHash: string; expiresAt: number };
}

export interface ApplyResult {
  status: 'applied' | 'duplicate';
  eventId: string;
  memberId?: string;
  /** Event-specific result (e.g. a code scan's outcome). */
  result?: Record<string, unknown>;
  /** Outbox messages enqueued by this call. */
  enqueued: number;
  /**
   * Messages of this commit left pending in the outbox because the queue failed after the commit
   * (only with ApplyOptions.afterCommitQueueFailure `sweep`): functions/outbox-sweep enqueues them.
   */
  leftInOutbox?: number;
  attempts: number;
  writeItems: number;
  consumedWcu: number;
}

/** How a door's reply budget shapes apply() (lib/sources/descriptor-types.ts `reply`). */
export interface ApplyOptions {
  /**
   * Epoch ms after which no further attempt starts (the platform stops waiting for the answer):
   * the caller gets a TransientError (503) while the platform still listens, and retries.
   */
  deadline?: number;
  /**
   * A queue failure after the commit: `retry` (default) answers TransientError so the platform's
   * redelivery drains the outbox; `sweep` answers success and leaves the rows to the outbox sweep.
   */
  afterCommitQueueFailure?: 'retry' | 'sweep';
}

export type ApplyFn = (event: HubEvent, guards?: ApplyGuards) => Promise<ApplyResult>;
