/**
 * End to end: signed WeChat follows (safe mode, each a new fan arriving through one of 20 channel
 * QR codes) through `startHub` — the real gateway on a free port → functions/wechat → apply →
 * DynamoDB Local → outbox → local SQS — at a fixed concurrency for a fixed time. Every answer
 * must be 200 `success`; events/s and latency percentiles are reported.
 *
 * Beside it, in alternating segments (hub, ceiling, hub, ceiling ...) so background load on the
 * machine hits both alike, the emulator's own ceiling: the TransactWriteItems request of a real follow
 * (the last one of the warm-up, captured on the wire) replayed raw, at the same concurrency for the same time, directly
 * against DynamoDB Local through the SDK, every key made unique per request (so no request
 * conflicts with another). The ratio hub events/s ÷ raw transactions/s shows what the hub costs
 * on top of its one transaction: the reads before it, the outbox drain after it (GetItem,
 * SendMessage, UpdateItem), HTTP, signature, decryption, parsing and validation.
 *
 * The load generator, the hub and local SQS share this one Node process; DynamoDB Local is a
 * separate JVM on the same machine.
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBClient, TransactWriteItemsCommand, type TransactWriteItemsCommandInput } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startHub } from '../local/hub.ts';
import { LOCAL_AWS } from '../local/emulators.ts';
import { configuredAccount, postPush, signedPush } from '../test/support/wechat-client.ts';
import { countRequests, describeError, fmt, machine, median, percentile, round, runFor, useEmulators, type BenchResult } from './lib/common.ts';

export interface E2eOptions {
  dynamoEndpoint: string;
  sqsEndpoint: string;
  concurrency?: number;
  durationMs?: number;
  ceilingMs?: number;
  /** Alternating hub / ceiling segments the measuring time is split into. */
  segments?: number;
}

interface Phase {
  ok: number;
  errors: Record<string, number>;
  /** The first answer (or exception) of each error kind, to say why requests failed. */
  firstError: Record<string, string>;
  latenciesMs: number[];
  elapsedMs: number;
}

const newPhase = (): Phase => ({ ok: 0, errors: {}, firstError: {}, latenciesMs: [], elapsedMs: 0 });

function countError(phase: Phase, kind: string, detail: string): void {
  phase.errors[kind] = (phase.errors[kind] ?? 0) + 1;
  phase.firstError[kind] ??= detail.slice(0, 500);
}

/** The errors of a phase with the first answer of each kind, for a failure message. */
const errorReport = (p: Phase): string =>
  Object.entries(p.errors)
    .map(([kind, n]) => `${n} × ${kind} (first: ${p.firstError[kind] ?? '?'})`)
    .join('; ') || 'none';

const summarise = (p: Phase) => ({
  ok: p.ok,
  errors: p.errors,
  firstError: p.firstError,
  perSecond: round(p.ok / (p.elapsedMs / 1000), 1),
  p50Ms: round(percentile(p.latenciesMs, 50), 1),
  p99Ms: round(percentile(p.latenciesMs, 99), 1),
  meanMs: round(p.latenciesMs.reduce((s, x) => s + x, 0) / Math.max(1, p.latenciesMs.length), 1),
  elapsedMs: p.elapsedMs,
});

/** Makes every key of a captured transaction unique (suffix on pk), drops the idempotency token. */
function uniquify(template: TransactWriteItemsCommandInput, suffix: string): TransactWriteItemsCommandInput {
  const copy = structuredClone(template);
  delete copy.ClientRequestToken;
  delete copy.ReturnConsumedCapacity;
  for (const item of copy.TransactItems ?? []) {
    const key = item.Put?.Item ?? item.Update?.Key ?? item.Delete?.Key ?? item.ConditionCheck?.Key;
    const pk = key?.pk;
    if (pk && 'S' in pk && pk.S) pk.S = `${pk.S}#${suffix}`;
  }
  return copy;
}

export async function run(opts: E2eOptions): Promise<BenchResult> {
  const m = machine();
  const started = Date.now();
  const concurrency = opts.concurrency ?? 16;
  const durationMs = opts.durationMs ?? 15_000;
  const ceilingMs = opts.ceilingMs ?? durationMs;
  const id = randomBytes(4).toString('hex');
  const table = `bench-e2e-${id}`;
  const hubPhase = newPhase();
  const rawPhase = newPhase();
  let capturedTx: TransactWriteItemsCommandInput | undefined;
  const emu = useEmulators({ dynamoEndpoint: opts.dynamoEndpoint, sqsEndpoint: opts.sqsEndpoint, table });
  const ddb = () => emu.db;
  const sqs = () => emu.sqs;
  const hub = await startHub({ port: 0, standinPort: 0, table, clients: { ddb: emu.db, sqs: emu.sqs }, queuePrefix: `bench${id}`, pollers: false, schedules: false, functions: ['wechat'] });
  // The ceiling's client: raw transactions of the same size, same concurrency.
  const raw = new DynamoDBClient({
    ...LOCAL_AWS,
    endpoint: opts.dynamoEndpoint,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ connectionTimeout: 1_000, requestTimeout: 10_000 }),
  });
  // Capture the TransactWriteItems of real follows during the warm-up (the last one is kept).
  let captured: TransactWriteItemsCommandInput | undefined;
  const captureName = `benchCapture${id}`;
  ddb().middlewareStack.add(
    ((next: (a: { input: unknown; request?: { body?: unknown } }) => Promise<unknown>, context: { commandName?: string }) =>
      async (args: { input: unknown; request?: { body?: unknown } }) => {
        const body = args.request?.body;
        if (context.commandName === 'TransactWriteItemsCommand' && body) {
          const text = typeof body === 'string' ? body : body instanceof Uint8Array ? new TextDecoder().decode(body) : undefined;
          if (text) captured = JSON.parse(text) as TransactWriteItemsCommandInput;
        }
        return next(args);
      }) as never,
    { step: 'build', priority: 'low', name: captureName },
  );
  const counter = countRequests(ddb());
  const sqsCounter = countRequests(sqs());
  try {
    // The account as the hub is configured (safe mode: sealed, with msg_signature).
    const account = configuredAccount();
    let seq = 0;
    const follow = async (phase: Phase) => {
      const n = seq++;
      // Stamped when sent, as WeChat does: the hub refuses a push outside its freshness window.
      const createTime = Math.floor(Date.now() / 1000);
      const req = signedPush(
        { from: `oE2eBench${id}_${n}`, createTime, msgType: 'event', event: 'subscribe', eventKey: `qrscene_bench_ch_${n % 20}`, ticket: `T${n}` },
        account,
        undefined,
        String(1_000_000 + n),
      );
      const t0 = performance.now();
      try {
        const res = await postPush(hub.url, req, { 'content-type': 'text/xml' });
        if (res.status === 200 && res.body === 'success') {
          phase.ok++;
          phase.latenciesMs.push(performance.now() - t0);
        } else {
          countError(phase, String(res.status), res.body);
        }
      } catch (err) {
        countError(phase, (err as Error).name, describeError(err, { stack: false }));
      }
    };

    let rawSeq = 0;
    const tx = async (phase: Phase) => {
      const input = uniquify(captured!, `c${id}${rawSeq++}`);
      const t0 = performance.now();
      try {
        await raw.send(new TransactWriteItemsCommand(input));
        phase.ok++;
        phase.latenciesMs.push(performance.now() - t0);
      } catch (err) {
        countError(phase, (err as Error).name, describeError(err, { stack: false }));
      }
    };

    // Warm-up (JIT, connections, channel items), then alternating segments (hub, raw, hub, raw ...)
    // so that load from elsewhere on the machine hits both alike.
    const warm = newPhase();
    await runFor(concurrency, Date.now() + 3_000, () => follow(warm));
    // The last follow of the warm-up: its channel item exists already (the steady state).
    ddb().middlewareStack.remove(captureName);
    if (!captured || warm.ok === 0) {
      throw new Error(`the warm-up's follows were not applied (${warm.ok} answered 200 success${captured ? '' : ', no TransactWriteItems captured'}); errors: ${errorReport(warm)}`);
    }
    const warmRaw = newPhase();
    await runFor(concurrency, Date.now() + 1_000, () => tx(warmRaw));
    if (warmRaw.ok === 0) throw new Error(`the captured transaction never committed when replayed; errors: ${errorReport(warmRaw)}`);

    counter.reset();
    sqsCounter.reset();
    const segments = opts.segments ?? 3;
    for (let i = 0; i < segments; i++) {
      const h0 = Date.now();
      await runFor(concurrency, h0 + durationMs / segments, () => follow(hubPhase));
      hubPhase.elapsedMs += Date.now() - h0;
      const r0 = Date.now();
      await runFor(concurrency, r0 + ceilingMs / segments, () => tx(rawPhase));
      rawPhase.elapsedMs += Date.now() - r0;
    }
    if (hubPhase.ok === 0) throw new Error(`no follow was answered 200 success; errors: ${errorReport(hubPhase)}`);
    if (rawPhase.ok === 0) throw new Error(`no replayed transaction committed; errors: ${errorReport(rawPhase)}`);
    capturedTx = captured;
  } finally {
    ddb().middlewareStack.remove(captureName);
    counter.remove();
    sqsCounter.remove();
    raw.destroy();
    await hub.stop();
  }
  const perFollow = (n: number) => round(n / Math.max(1, hubPhase.ok + Object.values(hubPhase.errors).reduce((a, b) => a + b, 0)), 2);
  const requestsPerFollow = {
    dynamodb: perFollow(counter.total()),
    transactWriteItems: perFollow(counter.of('TransactWriteItems')),
    byCommand: Object.fromEntries(Object.entries(counter.counts).map(([k, v]) => [k, perFollow(v)])),
    sqsSendMessage: perFollow(sqsCounter.of('SendMessage')),
  };

  const hubS = summarise(hubPhase);
  const rawS = summarise(rawPhase);
  const ratio = round(hubS.perSecond / rawS.perSecond, 3);
  const txItems = capturedTx?.TransactItems?.length ?? 0;
  const txBytes = JSON.stringify(capturedTx ?? {}).length;
  return {
    name: 'e2e',
    title: `End to end: signed WeChat follows through the local gateway (concurrency ${concurrency})`,
    machine: m,
    durationMs: Date.now() - started,
    loadAvgAtEnd: machine().loadAvgAtStart,
    iterations: { concurrency, hubMeasuredMs: hubPhase.elapsedMs, hubEvents: hubPhase.ok, ceilingMeasuredMs: rawPhase.elapsedMs, ceilingTransactions: rawPhase.ok },
    numbers: {
      hub: hubS,
      ceiling: rawS,
      ratio,
      requestsPerFollow,
      transactionItems: txItems,
      transactionRequestBytes: txBytes,
      medianHubMs: round(median(hubPhase.latenciesMs), 1),
    },
    summary: [
      ['hub follows/s (200 success)', `${fmt(hubS.perSecond, 1)} (p50 ${hubS.p50Ms} ms, p99 ${hubS.p99Ms} ms)`],
      ['hub errors', errorReport(hubPhase)],
      [`DynamoDB Local ceiling: raw TransactWriteItems/s (${txItems} items)`, `${fmt(rawS.perSecond, 1)} (p50 ${rawS.p50Ms} ms, p99 ${rawS.p99Ms} ms)`],
      ['hub ÷ ceiling', `${ratio}`],
      ['DynamoDB requests per follow (TransactWriteItems attempts)', `${requestsPerFollow.dynamodb} (${requestsPerFollow.transactWriteItems})`],
    ],
    notes: ['load generator, gateway, handler and local SQS share one Node process; DynamoDB Local runs in its own JVM on the same 2 cores'],
  };
}
