/**
 * Attribution read: `channelMetrics` (lib/attribution/query.ts) over 90 local days.
 *
 * Seeded directly with the entity keys (lib/store/entities/): 50 channel items (`channelKey` +
 * `channelListIndex`) and, for each channel, one first-touch counter item per local day per
 * shard (`counterKey(channel, shard, 'first', day)`, HUB_COUNTER_SHARDS shards) carrying every
 * summed metric and a time-to-convert histogram bucket, written with BatchWriteItem.
 * Then the call is timed (warm-up, then the median of several calls) and its DynamoDB request
 * count reported (the function returns it; an SDK middleware on the client counts it too), and
 * the totals are checked against what was seeded.
 */
import { randomBytes } from 'node:crypto';
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createTable } from '../local/emulators.ts';
import { channelKey, channelListIndex } from '../lib/store/entities/channel.ts';
import { counterKey } from '../lib/store/entities/counter.ts';
import { monthOf, rollupKey } from '../lib/store/entities/rollup.ts';
import { daysBetween } from '../lib/time.ts';
import { channelMetrics, mapLimit, periodPlan, READ_CONCURRENCY } from '../lib/attribution/query.ts';
import { counters } from '../lib/store/entities/counter.ts';
import { channels as channelItems } from '../lib/store/entities/channel.ts';
import { BUILTIN_CHANNELS } from '../lib/sources/platforms.ts';
import { countRequests, fmt, machine, median, round, sleep, type BenchResult } from './lib/common.ts';
import { useEmulators } from './lib/common.ts';

export interface AttributionOptions {
  dynamoEndpoint: string;
  channels?: number;
  days?: number;
  calls?: number;
}

async function batchWrite(db: DynamoDBDocumentClient, table: string, items: Record<string, unknown>[], concurrency = 8): Promise<number> {
  const chunks: Record<string, unknown>[][] = [];
  for (let i = 0; i < items.length; i += 25) chunks.push(items.slice(i, i + 25));
  let requests = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < chunks.length) {
        let pending = chunks[next++]!.map((Item) => ({ PutRequest: { Item } }));
        for (let attempt = 0; pending.length; attempt++) {
          requests++;
          const out = await db.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
          pending = (out.UnprocessedItems?.[table] ?? []) as typeof pending;
          if (pending.length) await sleep(Math.min(500, 20 * 2 ** attempt));
        }
      }
    }),
  );
  return requests;
}

export async function run(opts: AttributionOptions): Promise<BenchResult> {
  const m = machine();
  const started = Date.now();
  const nChannels = opts.channels ?? 50;
  const nDays = opts.days ?? 90;
  const calls = opts.calls ?? 7;
  const table = `bench-attr-${randomBytes(4).toString('hex')}`;
  const { runtime, db } = useEmulators({ dynamoEndpoint: opts.dynamoEndpoint, table });
  const shards = runtime.cfg.HUB_COUNTER_SHARDS;
  await createTable(db, table);

  const from = '2026-01-01';
  const days = daysBetween(from, '2026-12-31').slice(0, nDays);
  const to = days[days.length - 1]!;
  const channels = Array.from({ length: nChannels }, (_, i) => `qr_store_${String(i).padStart(3, '0')}`);
  const items: Record<string, unknown>[] = [];
  const expected = { newFans: 0, convertedFans: 0, gmvFen: 0 };
  /** Per day, for the second (offset) range. */
  const byDay = new Map<string, { newFans: number; convertedFans: number; gmvFen: number }>();
  /** Month rollups, as the fold keeps them: the sum of a channel shard's day items. */
  const months = new Map<string, Record<string, unknown>>();
  for (const ch of channels) {
    items.push({ ...channelKey(ch), ...channelListIndex(ch), channelId: ch, name: `门店 ${ch}`, kind: 'wechat_qr', createdAt: Date.UTC(2025, 11, 1) });
  }
  let x = 12345;
  const rnd = (n: number) => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x % n;
  };
  for (const ch of channels) {
    for (const day of days) {
      for (let shard = 0; shard < shards; shard++) {
        const newFans = rnd(12);
        const convertedFans = rnd(Math.max(1, newFans));
        const gmvFen = rnd(5) * 9_900;
        expected.newFans += newFans;
        expected.convertedFans += convertedFans;
        expected.gmvFen += gmvFen;
        const d = byDay.get(day) ?? { newFans: 0, convertedFans: 0, gmvFen: 0 };
        d.newFans += newFans;
        d.convertedFans += convertedFans;
        d.gmvFen += gmvFen;
        byDay.set(day, d);
        const metrics: Record<string, number> = {
          newFans,
          unfollows: rnd(3),
          convertedFans,
          sameDayConversions: rnd(2),
          newMembers: rnd(4),
          scans: rnd(20),
          qrScans: rnd(10),
          orders: gmvFen ? 1 : 0,
          gmvFen,
          [`ttc_h${48 + rnd(200)}`]: convertedFans,
        };
        // The counter item, and the day and month rollups the fold writes beside it.
        items.push({ ...counterKey(ch, shard, 'first', day), ...metrics });
        items.push({ ...rollupKey('first', day, ch, shard), channel: ch, shard, ...metrics });
        const mk = rollupKey('first', monthOf(day), ch, shard);
        const id = `${mk.pk}\u0000${mk.sk}`;
        const month = months.get(id) ?? { ...mk, channel: ch, shard };
        for (const [k, v] of Object.entries(metrics)) month[k] = Number(month[k] ?? 0) + v;
        months.set(id, month);
      }
    }
  }
  items.push(...months.values());
  const s0 = Date.now();
  const seedRequests = await batchWrite(db, table, items);
  const seedMs = Date.now() - s0;

  const counter = countRequests(db);
  const warm = await channelMetrics(runtime, { from, to });
  const got = warm.channels.reduce(
    (a, c) => ({ newFans: a.newFans + c.newFans, convertedFans: a.convertedFans + c.convertedFans, gmvFen: a.gmvFen + c.gmvFen }),
    { newFans: 0, convertedFans: 0, gmvFen: 0 },
  );
  if (warm.channels.length !== nChannels || got.newFans !== expected.newFans || got.convertedFans !== expected.convertedFans || got.gmvFen !== expected.gmvFen) {
    throw new Error(`channelMetrics totals differ from the seed: ${JSON.stringify({ rows: warm.channels.length, got, expected })}`);
  }
  /**
   * The read before the rollups, for the ratio in this run: the channel list, then one Query per
   * channel (listed and built-in) and counter shard over the range, 16 in flight, summing newFans.
   */
  const perChannelRead = async (): Promise<number> => {
    const listed = await channelItems.list(runtime.store, { max: 2000, pageSize: 500, projection: 'summary' });
    const ids = [...new Set([...listed.items.map((c) => c.channelId), ...BUILTIN_CHANNELS.map((c) => c.channel)])];
    const jobs = ids.flatMap((id) => Array.from({ length: shards }, (_, shard) => ({ id, shard })));
    const sums = await mapLimit(jobs, READ_CONCURRENCY, async (j) => {
      const { items: rows } = await counters.readRange(runtime.store, j.id, j.shard, 'first', from, to, { maxPages: 20 });
      return rows.reduce((a, r) => a + (r.values.newFans ?? 0), 0);
    });
    return sums.reduce((a, b) => a + b, 0);
  };
  const times: number[] = [];
  const requests: number[] = [];
  const counted: number[] = [];
  const beforeTimes: number[] = [];
  let beforeRequests = 0;
  // Interleaved: the read as built, then the per-channel read it replaces.
  for (let i = 0; i < calls; i++) {
    counter.reset();
    const t0 = performance.now();
    const res = await channelMetrics(runtime, { from, to });
    times.push(performance.now() - t0);
    requests.push(res.requests);
    counted.push(counter.total());
    counter.reset();
    const t1 = performance.now();
    const sum = await perChannelRead();
    beforeTimes.push(performance.now() - t1);
    beforeRequests = counter.total();
    if (sum !== expected.newFans) throw new Error(`per-channel read: newFans ${sum}, seeded ${expected.newFans}`);
  }
  // The same 90 days starting mid-month (Jan 16 .. Apr 15): partial months at both ends.
  const offFrom = daysBetween(from, '2026-12-31')[15]!;
  const offTo = daysBetween(from, '2026-12-31')[15 + nDays - 1]!;
  const offTimes: number[] = [];
  let offRequests = 0;
  for (let i = 0; i < calls; i++) {
    counter.reset();
    const t0 = performance.now();
    const res = await channelMetrics(runtime, { from: offFrom, to: offTo });
    offTimes.push(performance.now() - t0);
    offRequests = counter.total();
    const sum = res.channels.reduce((a, c) => a + c.newFans, 0);
    const want = daysBetween(offFrom, offTo).reduce((a, d) => a + (byDay.get(d)?.newFans ?? 0), 0);
    if (sum !== want) throw new Error(`channelMetrics ${offFrom}..${offTo}: newFans ${sum}, seeded ${want}`);
  }
  counter.remove();
  const ms = round(median(times), 1);
  /** Items one call reads: the channel list and every channel shard's rollup in each period. */
  const itemsRead = (a: string, b: string) => nChannels + periodPlan(a, b).length * nChannels * shards;
  return {
    name: 'attribution',
    title: `Attribution: channelMetrics over ${nDays} days × ${nChannels} channels × ${shards} shards`,
    machine: m,
    durationMs: Date.now() - started,
    loadAvgAtEnd: machine().loadAvgAtStart,
    iterations: { calls, channels: nChannels, days: nDays, shards, counterItems: nChannels * nDays * shards, seededItems: items.length },
    numbers: {
      medianMs: ms,
      minMs: round(Math.min(...times), 1),
      maxMs: round(Math.max(...times), 1),
      allMs: times.map((t) => round(t, 1)),
      requestsReported: requests[0],
      requestsCounted: counted[0],
      channelsReturned: warm.channels.length,
      itemsRead: itemsRead(from, to),
      perChannelReadBefore: { medianMs: round(median(beforeTimes), 1), requestsCounted: beforeRequests, itemsRead: nChannels + nChannels * nDays * shards },
      ratioBeforeOverBuilt: round(median(beforeTimes) / median(times), 1),
      offsetRange: { from: offFrom, to: offTo, medianMs: round(median(offTimes), 1), requestsCounted: offRequests, itemsRead: itemsRead(offFrom, offTo), periods: periodPlan(offFrom, offTo).length },
      seed: { requests: seedRequests, ms: seedMs },
      totalsChecked: expected,
    },
    summary: [
      ['channelMetrics median latency', `${fmt(ms, 1)} ms (min ${round(Math.min(...times), 1)}, max ${round(Math.max(...times), 1)})`],
      ['DynamoDB requests per call (reported / counted)', `${requests[0]} / ${counted[0]}`],
      ['items read per call (channel list + rollups)', fmt(itemsRead(from, to))],
      ['before (a Query per channel and shard), same run: median · requests · items', `${fmt(round(median(beforeTimes), 1), 1)} ms · ${beforeRequests} · ${fmt(nChannels + nChannels * nDays * shards)} (${fmt(round(median(beforeTimes) / median(times), 1), 1)}× the rollup read)`],
      [`same 90 days from ${offFrom} (partial months): median · requests · items`, `${fmt(round(median(offTimes), 1), 1)} ms · ${offRequests} · ${fmt(itemsRead(offFrom, offTo))}`],
    ],
    notes: [
      'totals of newFans, convertedFans and gmvFen checked against the seed (newFans for the offset range)',
      'the seed writes each counter item with the day and month rollups the counter fold keeps beside it; channelMetrics reads 1 channel-list Query + 1 Query per rollup period (lib/attribution/query.ts periodPlan)',
    ],
  };
}
