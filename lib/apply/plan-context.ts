/**
 * The Port of one attempt of apply(): the event's transaction, the attempt's clock, the
 * configuration, the consistent reads planners make (on the lib/store entities), and the
 * messages planned so far (written as outbox rows once the planner returns).
 */
import type { HubEvent } from '../events/hub-event.ts';
import type { PlannedMessage } from '../events/messages.ts';
import type { ApplyDeps, Port, Reads } from '../port.ts';
import type { Store } from '../store/client.ts';
import type { Tx } from '../store/tx.ts';
import { getItem } from '../store/item-ops.ts';
import { batchFromItem, batchKey } from '../store/entities/batch.ts';
import { channels } from '../store/entities/channel.ts';
import { codeKey, redemptionFromItem } from '../store/entities/code.ts';
import { identities } from '../store/entities/identity.ts';
import { lots } from '../store/entities/lot.ts';
import { coupons } from '../store/entities/coupon.ts';
import { members } from '../store/entities/member.ts';
import { orders } from '../store/entities/order.ts';
import { otps } from '../store/entities/otp.ts';
import { refunds } from '../store/entities/refund.ts';
import { scanLimitFromItem, scanLimitKey } from '../store/entities/scan-limit.ts';
import { sendByMsgIdKey } from '../store/entities/send.ts';
import { keywordRules } from '../store/entities/insight.ts';
import { planOutboxRows } from '../engagement/outbox.ts';

/** The reads of one attempt over `store`, every one consistent. */
export function storeReads(store: Store): Reads {
  const get = (key: { pk: string; sk: string }) => getItem(store, key, { consistent: true });
  return {
    identities: (ids) => identities.readMany(store, ids),
    member: (memberId) => members.resolve(store, memberId),
    // Cached per container for a short while (entities/channel.ts CHANNEL_CACHE_TTL_MS): the one item every follow of a channel reads.
    channel: (channelId) => channels.getCached(store, channelId),
    batch: async (batchId) => {
      const item = await get(batchKey(batchId));
      return item ? batchFromItem(item) : undefined;
    },
    redemption: async (code) => {
      const item = await get(codeKey(code));
      return item ? redemptionFromItem(item) : undefined;
    },
    scanLimit: async (appId, openid, day) => {
      const item = await get(scanLimitKey(appId, openid, day));
      return item ? scanLimitFromItem(item) : undefined;
    },
    order: (platform, shopId, orderId) => orders.get(store, platform, shopId, orderId),
    refund: (platform, refundId) => refunds.get(store, platform, refundId),
    otp: (owner) => otps.get(store, owner),
    sendByMsgId: (appId, msgId) => getItem<{ idempotencyKey?: string }>(store, sendByMsgIdKey(appId, msgId), { consistent: true }),
    lots: (memberId) => lots.inPartition(store, memberId),
    coupon: (code) => coupons.get(store, code),
    keywordRules: (appId) => keywordRules.get(store, appId),
  };
}

export class PlanContext implements Port {
  private readonly messages: PlannedMessage[] = [];
  readonly reads: Reads;

  constructor(
    readonly event: HubEvent,
    readonly deps: ApplyDeps,
    readonly tx: Tx,
    readonly now: number,
  ) {
    this.reads = storeReads({ db: deps.db, table: deps.table });
  }

  get tz(): string {
    return this.deps.cfg.HUB_TIMEZONE;
  }
  get cfg() {
    return this.deps.cfg;
  }
  get creditWrites() {
    return this.deps.creditWrites;
  }

  emit(message: PlannedMessage): void {
    this.messages.push(message);
  }

  /** Writes the outbox rows for the planned messages; returns their ids. */
  writeOutbox(): string[] {
    return planOutboxRows(this.tx, this.messages, this.now);
  }
}
