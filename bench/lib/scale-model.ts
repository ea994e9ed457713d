/**
 * The partition model behind `npm run bench -- scale`: pure arithmetic, no I/O.
 *
 * Input: the per-event request mix the hub issues (captured on DynamoDB Local by bench/scale.ts:
 * per request, every item it touches with its key, read or write, size in bytes, inside a
 * transaction or not) and a traffic shape (events per second per event type, how concentrated
 * the shared items are). Output: per item and per partition key value, WCU/s and RCU/s against
 * DynamoDB's per-partition limits, the transaction-conflict rate on shared items, and the
 * on-demand bill.
 *
 * Rules (AWS documentation, "DynamoDB item sizes and formats" and "Read/write capacity mode",
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html,
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html):
 *   - item size = Σ over attributes of (UTF-8 bytes of the name + size of the value); strings:
 *     UTF-8 bytes; numbers: 1 byte per 2 significant digits + 1; binary: raw bytes; null and
 *     booleans: 1; lists and maps: 3 + Σ (1 + element), map keys count as names; sets: Σ elements;
 *   - a write costs 1 WCU per started KB of the larger of the item's before and after images,
 *     2× inside TransactWriteItems (a ConditionCheck is priced like a write of the item);
 *   - a read costs 1 RCU per started 4 KB when strongly consistent, 0.5× eventually consistent,
 *     2× transactional; a Query sums the items it returns before rounding;
 *   - one partition serves at most 1,000 WCU/s and 3,000 RCU/s; one item always lives in one
 *     partition, so these are hard limits per item. Items sharing a partition key value can be
 *     split across partitions by sort key ("split for heat"), so the per-partition-key figure is
 *     the load before such a split.
 */

export const LIMITS = { wcuPerSecond: 1_000, rcuPerSecond: 3_000 } as const;

// ---------------------------------------------------------------------------------------------
// Item size and capacity units

/** Item size in bytes by DynamoDB's rule (see the module comment), from a document-client item. */
export function itemSize(item: Record<string, unknown> | undefined): number {
  if (!item) return 0;
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += Buffer.byteLength(name, 'utf8') + valueSize(value);
  return size;
}

export function valueSize(v: unknown): number {
  if (v === null || v === undefined || typeof v === 'boolean') return 1;
  if (typeof v === 'string') return Buffer.byteLength(v, 'utf8');
  if (typeof v === 'number' || typeof v === 'bigint') {
    const digits = String(v).replace(/^-/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
    return Math.ceil(Math.max(1, digits.length) / 2) + 1;
  }
  if (v instanceof Uint8Array) return v.byteLength;
  if (v instanceof Set) return [...v].reduce((s: number, x) => s + valueSize(x), 0);
  if (Array.isArray(v)) return 3 + v.reduce((s: number, x) => s + 1 + valueSize(x), 0);
  if (typeof v === 'object') {
    return 3 + Object.entries(v as Record<string, unknown>).reduce((s, [k, x]) => s + 1 + Buffer.byteLength(k, 'utf8') + valueSize(x), 0);
  }
  return 0;
}

/** WCU of one item write: started KB (at least 1), ×2 in a transaction. */
export function writeUnits(bytes: number, transactional: boolean): number {
  return Math.max(1, Math.ceil(bytes / 1024)) * (transactional ? 2 : 1);
}

export type ReadKind = 'eventual' | 'strong' | 'transactional';

/** RCU of one read of `bytes` (an item, or the sum a Query returns): started 4 KB (at least 1). */
export function readUnits(bytes: number, kind: ReadKind): number {
  const factor = kind === 'eventual' ? 0.5 : kind === 'transactional' ? 2 : 1;
  return Math.max(1, Math.ceil(bytes / 4096)) * factor;
}

/**
 * Probability that a transaction on an item meets another one in flight on the same item, when
 * transactions arrive on the item as a Poisson process of rate λ (per second) and each holds the
 * item for d seconds: 1 − e^(−λ·d).
 */
export function conflictProbability(lambdaPerSecond: number, durationSeconds: number): number {
  return 1 - Math.exp(-lambdaPerSecond * durationSeconds);
}

// ---------------------------------------------------------------------------------------------
// Captured mix

export type Scope = 'member' | 'event' | 'shared';

export interface Touch {
  /** undefined = the base table; otherwise the index name (the GSI copy of a written item). */
  index?: string;
  pk: string;
  sk: string;
  rw: 'read' | 'write';
  /** DeleteItem / PutItem / UpdateItem / ConditionCheck / GetItem / Query ... */
  op: string;
  bytes: number;
  /** Inside TransactWriteItems / TransactGetItems. */
  tx: boolean;
  /** Reads: strongly consistent. */
  consistent: boolean;
  /**
   * Sent by the counter fold (lib/attribution/fold.ts) for this event's delta, not by the event:
   * its counter, rollup and delta-query touches are shared by `foldBatch` events, and it holds no
   * item another transaction holds at the same time (one fold worker per counter shard).
   */
  fold?: boolean;
}

export interface CapturedRequest {
  op: string;
  touches: Touch[];
}

export interface EventMix {
  event: string;
  requests: CapturedRequest[];
}

interface ScopeRule {
  prefix: string;
  index?: string;
  scope: Scope;
  what: string;
}

/**
 * Who shares an item, by the first segment of its partition key (lib/store/keys.ts): member-scoped
 * = one person's, event-scoped = one event's (an order, a code, a message), shared = the same item
 * for many people's events. A key this table does not know counts as shared (the cautious side).
 */
export const SCOPE_RULES: readonly ScopeRule[] = [
  { prefix: 'MEMBER', scope: 'member', what: 'member profile, lots, ledger, due work' },
  { prefix: 'IDENT', scope: 'member', what: 'identity' },
  { prefix: 'SCANLIMIT', scope: 'member', what: 'scan limit per person per day' },
  { prefix: 'SCANBAD', scope: 'member', what: 'invalid scans per person or address' },
  { prefix: 'OTP', scope: 'member', what: 'sms code' },
  { prefix: 'OTPLIMIT', scope: 'member', what: 'sms send limit' },
  { prefix: 'DEDUPE', scope: 'event', what: 'dedupe marker' },
  { prefix: 'ORDER', scope: 'event', what: 'order' },
  { prefix: 'REFUND', scope: 'event', what: 'refund ledger row' },
  { prefix: 'OUTBOX', scope: 'event', what: 'outbox row' },
  { prefix: 'CODE', scope: 'event', what: 'code redemption' },
  { prefix: 'SEND', scope: 'event', what: 'send record' },
  { prefix: 'SENDMSG', scope: 'event', what: 'send by msgid' },
  { prefix: 'TMCMSG', scope: 'event', what: 'tmc confirm' },
  { prefix: 'NONCE', scope: 'event', what: 'push nonce' },
  { prefix: 'COUNT', scope: 'shared', what: 'channel-day counter shard' },
  { prefix: 'ROLLUP', scope: 'shared', what: 'attribution rollup (day or month, per channel shard)' },
  { prefix: 'DELTA', scope: 'shared', what: 'credit deltas (a new item per event under DELTA_SHARDS partitions)' },
  { prefix: 'CHANNEL', scope: 'shared', what: 'channel item' },
  { prefix: 'SEQ', scope: 'shared', what: 'serial sequence' },
  { prefix: 'TOKEN', scope: 'shared', what: 'access-token cache' },
  { prefix: 'BATCH', scope: 'shared', what: 'code batch' },
  { prefix: 'REFUSAL', scope: 'shared', what: 'refusals of the day' },
  { prefix: 'MIDENT', index: 'gsi1', scope: 'member', what: "member's identities (GSI)" },
  { prefix: 'MORDERS', index: 'gsi1', scope: 'member', what: "member's orders (GSI)" },
  { prefix: 'OUTBOX', index: 'gsi1', scope: 'shared', what: 'pending outbox shard (GSI)' },
  { prefix: 'REVIEW', index: 'gsi1', scope: 'shared', what: 'member review day shard (GSI)' },
  { prefix: 'DUE', index: 'gsi1', scope: 'shared', what: 'due work of the day (GSI)' },
  { prefix: 'LOTEXP', index: 'gsi1', scope: 'shared', what: 'points lots expiring that day (GSI)' },
  { prefix: 'CHANNELS', index: 'gsi1', scope: 'shared', what: 'channel list (GSI)' },
  { prefix: 'BATCHES', index: 'gsi1', scope: 'shared', what: 'batches by serial (GSI)' },
];

export interface Classified {
  scope: Scope;
  /** `<table|index>:<prefix>`: what a traffic shape's concentration and a spread apply to. */
  group: string;
  what: string;
}

export function classify(t: { index?: string; pk: string }): Classified {
  const prefix = t.pk.split('#')[0] ?? t.pk;
  const where = t.index ?? 'table';
  const rule = SCOPE_RULES.find((r) => r.prefix === prefix && r.index === t.index);
  return rule ? { scope: rule.scope, group: `${where}:${prefix}`, what: rule.what } : { scope: 'shared', group: `${where}:${prefix}`, what: 'unclassified (counted as shared)' };
}

// ---------------------------------------------------------------------------------------------
// Traffic shapes and the model

export interface ModelParams {
  /** Counter shards per channel and day (HUB_COUNTER_SHARDS): the spread of `table:COUNT`. */
  counterShards: number;
  /**
   * true (today): the counter updates ride in the event's transaction. false: an aggregator folds
   * per-event deltas into the counters outside it — counter writes become plain writes, one per
   * `foldBatch` events, by one writer per shard (no transaction, so no conflict). Applies to
   * counter touches of the event itself (a capture of the design before the fold).
   */
  countersInTransaction: boolean;
  /** Deltas per fold transaction: divides the fold's counter, rollup and page-read touches (Touch.fold). */
  foldBatch: number;
  /** How long a transaction holds its items (seconds); 0.02 = 20 ms. */
  txDurationSeconds: number;
  /** Over how many items a shared group's hot key is spread (hash-sharded keys). */
  spread: Record<string, number>;
}

export interface TrafficShape {
  name: string;
  description: string;
  /** Events per second per event type (the mix names), averaged over the window. */
  rates: Record<string, number>;
  /** Length of the window the cost is for (seconds). */
  windowSeconds: number;
  /** Peak ÷ average, applied to the per-item rates checked against the limits (default 1). */
  peakFactor?: number;
  /**
   * Share of an event type's traffic that lands on the hottest instance of a shared group (the
   * hottest channel, batch...), before the spread; groups not named: 1 (every event on the same
   * key: the day's GSI partitions, the sequence, the token cache).
   */
  hotShare?: Record<string, number>;
  /** Events per second on one member's items at most (a person does not follow 5,000 times). */
  perMemberRate?: number;
  /** Stored GB (table + index) for the storage part of the bill. */
  storageGb?: number;
}

export interface Prices {
  region: string;
  currency: string;
  /** Per million write request units; null when not confirmed. */
  perMillionWru: number | null;
  perMillionRru: number | null;
  perGbMonth: number | null;
  source: string;
  asOf: string;
}

export interface ItemLoad {
  index?: string;
  pk: string;
  sk: string;
  scope: Scope;
  group: string;
  what: string;
  wcuPerSecond: number;
  rcuPerSecond: number;
  /** Transactions per second that hold this item (writes and condition checks in a transaction). */
  txPerSecond: number;
  conflictProbability: number;
  cancelledPerSecond: number;
  /** max(WCU/1000, RCU/3000): ≥ 1 means throttled. */
  utilisation: number;
  /**
   * item: one fixed item (hard limit). collection: a different item per event under one
   * partition key (GSI entries, the day's refusals), reported with sort key `*`: its limit is the
   * partition's, before any split for heat.
   */
  level: 'item' | 'collection';
  /** How many equally loaded items this row stands for (the spread of a sharded key). */
  instances: number;
}

export interface PartitionLoad {
  index?: string;
  pk: string;
  items: number;
  wcuPerSecond: number;
  rcuPerSecond: number;
  utilisation: number;
}

export interface ShapeResult {
  shape: string;
  hottestItem: ItemLoad;
  hottestPartition: PartitionLoad;
  items: ItemLoad[];
  partitions: PartitionLoad[];
  /** The hottest fixed item or partition key value is over 1,000 WCU/s or 3,000 RCU/s. */
  limitCrossed: boolean;
  /** max(utilisation of the hottest item, of the hottest partition key value). */
  overLimitFactor: number;
  /** Transactions cancelled per second (first attempts), per event type and in all. */
  cancelledPerSecond: Record<string, number>;
  cancelledTotalPerSecond: number;
  /** Billed units per second over the window (average rates, every item, GSI copies included). */
  wruPerSecond: number;
  rruPerSecond: number;
  cost: { region: string; currency: string; writes: number | null; reads: number | null; storage: number | null; total: number | null }[];
}

const COUNTER_GROUP = 'table:COUNT';
const ROLLUP_GROUP = 'table:ROLLUP';
const DELTA_GROUP = 'table:DELTA';
/** Shared base-table keys whose sort key is new for every event (one partition, many items). */
const COLLECTION_GROUPS = new Set(['table:REFUSAL', DELTA_GROUP]);

/** A shared key spread over N items is reported as one representative: the trailing `#<n>` becomes `#*`. */
function instanceLabel(pk: string, spread: number): string {
  return spread > 1 ? pk.replace(/#\d+$/, '#*') : pk;
}

export function spreadOf(group: string, p: ModelParams): number {
  if (group === COUNTER_GROUP || group === ROLLUP_GROUP) return p.counterShards;
  return p.spread[group] ?? 1;
}

interface EffectiveTouch extends Touch {
  c: Classified;
  /** Per-second rate of this touch on its (hottest) item, with the peak factor. */
  itemRate: number;
  /** Per-second rate of this touch across all items (for the bill). */
  billRate: number;
  units: number;
  /** Holds the item in a transaction (can conflict). */
  locks: boolean;
}

function effective(t: Touch, rate: number, shape: TrafficShape, p: ModelParams): EffectiveTouch {
  const c = classify(t);
  const peak = shape.peakFactor ?? 1;
  let tx = t.tx;
  let billRate = rate;
  let itemRate: number;
  if (c.scope === 'shared') itemRate = (rate * (shape.hotShare?.[c.group] ?? 1)) / spreadOf(c.group, p);
  else if (c.scope === 'member') itemRate = Math.min(rate, shape.perMemberRate ?? 1);
  else itemRate = Math.min(rate, 1);
  if (c.group === COUNTER_GROUP && !p.countersInTransaction && !t.fold) {
    tx = false;
    billRate = rate / p.foldBatch;
    itemRate = itemRate / p.foldBatch;
  }
  // The fold's writes to counters and rollups and its page reads serve `foldBatch` deltas each;
  // each delta's delete is one per event.
  if (t.fold && !(c.group === DELTA_GROUP && t.rw === 'write')) {
    billRate = rate / p.foldBatch;
    itemRate = itemRate / p.foldBatch;
  }
  const units = t.rw === 'write' ? writeUnits(t.bytes, tx) : readUnits(t.bytes, tx ? 'transactional' : t.consistent ? 'strong' : 'eventual');
  return { ...t, tx, c, itemRate: itemRate * peak, billRate, units, locks: tx && t.rw === 'write' && !t.fold };
}

const itemId = (t: { index?: string; pk: string; sk: string }) => `${t.index ?? ''}\u0000${t.pk}\u0000${t.sk}`;

export function runShape(mixes: EventMix[], shape: TrafficShape, p: ModelParams, prices: Prices[]): ShapeResult {
  const items = new Map<string, ItemLoad>();
  const perRequest: { event: string; touches: EffectiveTouch[] }[] = [];
  let wru = 0;
  let rru = 0;
  for (const mix of mixes) {
    const rate = shape.rates[mix.event] ?? 0;
    if (rate <= 0) continue;
    for (const req of mix.requests) {
      const touches = req.touches.map((t) => effective(t, rate, shape, p));
      perRequest.push({ event: mix.event, touches });
      const lockedHere = new Set<string>();
      for (const t of touches) {
        const spread = t.c.scope === 'shared' ? spreadOf(t.c.group, p) : 1;
        const pk = instanceLabel(t.pk, spread);
        const level = t.index || COLLECTION_GROUPS.has(t.c.group) ? 'collection' : 'item';
        const sk = level === 'collection' ? '*' : t.sk;
        const id = itemId({ index: t.index, pk, sk });
        let load = items.get(id);
        if (!load) {
          load = { ...(t.index ? { index: t.index } : {}), pk, sk, scope: t.c.scope, group: t.c.group, what: t.c.what, wcuPerSecond: 0, rcuPerSecond: 0, txPerSecond: 0, conflictProbability: 0, cancelledPerSecond: 0, utilisation: 0, level, instances: spread };
          items.set(id, load);
        }
        if (t.rw === 'write') {
          load.wcuPerSecond += t.itemRate * t.units;
          wru += t.billRate * t.units;
        } else {
          load.rcuPerSecond += t.itemRate * t.units;
          rru += t.billRate * t.units;
        }
        // A collection row stands for a new item per event: two events never hold the same one.
        if (t.locks && level === 'item' && !lockedHere.has(id)) {
          lockedHere.add(id);
          load.txPerSecond += t.itemRate;
        }
        (t as EffectiveTouch & { id?: string }).id = id;
      }
    }
  }
  for (const load of items.values()) {
    load.utilisation = Math.max(load.wcuPerSecond / LIMITS.wcuPerSecond, load.rcuPerSecond / LIMITS.rcuPerSecond);
    // Only shared items see concurrent transactions from different events; a member's or an
    // event's own items are held by one event at a time.
    if (load.scope === 'shared' && load.txPerSecond > 0) {
      load.conflictProbability = conflictProbability(load.txPerSecond, p.txDurationSeconds);
      load.cancelledPerSecond = load.txPerSecond * load.conflictProbability;
    }
  }
  // Per event type: the transactions that reach the hottest shared item they hold are cancelled
  // with that item's probability (items of one shard are held by the same transactions, so the
  // hottest one stands for them; conflicts on colder instances — other channels — are left out).
  const cancelled: Record<string, number> = {};
  for (const { event, touches } of perRequest) {
    let worst = 0;
    for (const t of touches) {
      if (!t.locks || t.c.scope !== 'shared') continue;
      const load = items.get((t as EffectiveTouch & { id: string }).id)!;
      worst = Math.max(worst, t.itemRate * load.instances * load.conflictProbability);
    }
    if (worst > 0) cancelled[event] = (cancelled[event] ?? 0) + worst;
  }
  const partitions = new Map<string, PartitionLoad>();
  for (const load of items.values()) {
    const id = `${load.index ?? ''}\u0000${load.pk}`;
    const part = partitions.get(id) ?? { ...(load.index ? { index: load.index } : {}), pk: load.pk, items: 0, wcuPerSecond: 0, rcuPerSecond: 0, utilisation: 0 };
    part.items++;
    part.wcuPerSecond += load.wcuPerSecond;
    part.rcuPerSecond += load.rcuPerSecond;
    part.utilisation = Math.max(part.wcuPerSecond / LIMITS.wcuPerSecond, part.rcuPerSecond / LIMITS.rcuPerSecond);
    partitions.set(id, part);
  }
  const itemList = [...items.values()].sort((a, b) => b.utilisation - a.utilisation);
  const partList = [...partitions.values()].sort((a, b) => b.utilisation - a.utilisation);
  const hottestItem = itemList.find((i) => i.level === 'item') ?? itemList[0]!;
  const hottestPartition = partList[0]!;
  const cancelledTotal = Object.values(cancelled).reduce((s, x) => s + x, 0);
  return {
    shape: shape.name,
    hottestItem,
    hottestPartition,
    items: itemList,
    partitions: partList,
    limitCrossed: Math.max(hottestItem.utilisation, hottestPartition.utilisation) > 1,
    overLimitFactor: Math.max(hottestItem.utilisation, hottestPartition.utilisation),
    cancelledPerSecond: cancelled,
    cancelledTotalPerSecond: cancelledTotal,
    wruPerSecond: wru,
    rruPerSecond: rru,
    cost: prices.map((pr) => monthlyCost(wru, rru, shape.windowSeconds, shape.storageGb ?? 0, pr)),
  };
}

/** The bill of one window of `seconds` at these unit rates, plus a month of `storageGb`. */
export function monthlyCost(wruPerSecond: number, rruPerSecond: number, seconds: number, storageGb: number, pr: Prices): ShapeResult['cost'][number] {
  const writes = pr.perMillionWru === null ? null : ((wruPerSecond * seconds) / 1e6) * pr.perMillionWru;
  const reads = pr.perMillionRru === null ? null : ((rruPerSecond * seconds) / 1e6) * pr.perMillionRru;
  const storage = storageGb === 0 ? 0 : pr.perGbMonth === null ? null : storageGb * pr.perGbMonth;
  const total = writes === null || reads === null || storage === null ? null : writes + reads + storage;
  return { region: pr.region, currency: pr.currency, writes, reads, storage, total };
}
