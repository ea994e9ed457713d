/**
 * Assembles the whole hub on one machine: table and queues on the given endpoints, the WeChat
 * API stand-in, the HTTP gateway over the real handlers, one poller per SQS consumer and a
 * timer per scheduled function. `npm start` (local/start.ts) and the end-to-end tests both
 * use it, so the tests exercise exactly what a developer runs.
 *
 * Nothing here writes `process.env`: the table, the queue URLs and the stand-ins' URLs go into
 * one Runtime (lib/runtime) with explicit SDK clients, and every invocation — gateway, pollers,
 * schedules — carries that runtime in its context (`context.hub`). `reconfigure` swaps it for
 * a variant (other settings, fault-wrapped clients); the next invocation uses the new one.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent, SQSBatchResponse } from 'aws-lambda';
import { createQueues, createTable, LOCAL_AWS, queueDepth, type QueueRefs } from './emulators.ts';
import { loadFunctions, lambdaContext, startGateway } from './gateway.ts';
import { startPoller } from './poller.ts';
import { startWechatStandin, type WechatStandin } from './wechat-standin.ts';
import { startTopRuntime, startYouzanRuntime } from './top-runtime.ts';
import type { TopStandin } from './top-standin.ts';
import type { YouzanStandin } from './youzan-standin.ts';
import { loadConfig } from '../lib/config/index.ts';
import { QUEUES, type QueueName } from '../lib/queues.ts';
import { makeDynamo, makeSqs } from '../lib/store/client.ts';
import { createRuntime, type Runtime, type RuntimeOverrides } from '../lib/runtime/runtime.ts';
import type { HubContext } from '../lib/runtime/middleware.ts';
import { BufferedArchive } from '../lib/archive/archive.ts';
import { fileSink } from '../lib/archive/file-sink.ts';
import { createLocalClock, type LocalClock } from './clock.ts';

type Settings = Readonly<Record<string, string | undefined>>;

const SETTLE_TIMEOUT_MS = 120_000;
const SETTLE_POLL_MS = 50;

/** The queues did not empty in time (a consumer failing over and over, or no pollers running). */
export class SettleTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`the hub's queues did not empty within ${timeoutMs} ms`);
    this.name = 'SettleTimeoutError';
  }
}

export interface HubOptions {
  port: number;
  standinPort: number;
  /** TOP stand-in port (0 = free port); default TOP_STANDIN_PORT. */
  topPort?: number;
  /** Youzan API stand-in port (0 = free port); default YOUZAN_STANDIN_PORT. */
  youzanPort?: number;
  /** Table and queue names (tests use unique ones). */
  table?: string;
  queuePrefix?: string;
  /** Run SQS pollers and schedules (tests may drive them by hand). */
  pollers?: boolean;
  schedules?: boolean;
  /** Load only these functions (tests of one area); default: the whole manifest. */
  functions?: string[];
  log?: (line: string) => void;
  /** Configuration names as the environment would give them; default: this process's environment (read only). */
  env?: Settings;
  /** Where DynamoDB and SQS answer (DynamoDB Local, the local SQS server); the clients use the local credentials. */
  endpoints?: { dynamodb: string; sqs: string };
  /** Ready-made SDK clients instead (tests wrap them with fault injection); they win over `endpoints`. */
  clients?: { ddb?: DynamoDBDocumentClient; sqs?: SQSClient };
  /** The local archive's directory (lib/archive/file-sink.ts); none: nothing archived. */
  archiveDir?: string;
  /** The hub's clock (local/clock.ts; default: a new one at the wall clock's time). */
  clock?: LocalClock;
}

export interface RunningHub {
  url: string;
  standin: WechatStandin;
  top: TopStandin;
  youzan: YouzanStandin;
  queues: Record<QueueName, QueueRefs>;
  /** The controllable clock of every handler and stand-in (GET/PUT /_local/clock). */
  clock: LocalClock;
  /** The runtime every invocation gets in its context (the current one after `reconfigure`). */
  readonly runtime: Runtime;
  /** Replaces the runtime by a variant of it (settings merged over the current ones, clients, clock…). */
  reconfigure(overrides: RuntimeOverrides): Runtime;
  /** Puts back a runtime taken from `runtime` earlier (the end of a reconfigured stretch). */
  restore(runtime: Runtime): void;
  /** Runs a scheduled function now. */
  runScheduled(name: string): Promise<unknown>;
  /**
   * Waits until every queue a poller consumes is empty (nothing waiting, in flight or delayed)
   * on two reads in a row: what the pollers had to do is done. Throws after `timeoutMs`.
   */
  settle(timeoutMs?: number): Promise<{ settled: true; waitedMs: number }>;
  /** Invokes an SQS consumer on a hand-made batch. */
  invokeConsumer(name: string, event: SQSEvent): Promise<SQSBatchResponse | void>;
  stop(): Promise<void>;
}

export async function startHub(opts: HubOptions): Promise<RunningHub> {
  const log = opts.log ?? (() => undefined);
  const env: Settings = { ...(opts.env ?? process.env), ...(opts.table ? { HUB_TABLE: opts.table } : {}) };
  const endpoint = (e: string | undefined) => (e ? { endpoint: e, ...LOCAL_AWS } : {});
  const db = opts.clients?.ddb ?? makeDynamo(endpoint(opts.endpoints?.dynamodb));
  const sqs = opts.clients?.sqs ?? makeSqs(endpoint(opts.endpoints?.sqs));
  const base = loadConfig({ env, local: true });
  // One clock for the runtime and the stand-ins: signed requests, tokens and windows agree on "now".
  const clock = opts.clock ?? createLocalClock();
  const now = () => clock.now();
  await createTable(db, base.HUB_TABLE);
  const queues = await createQueues(sqs, opts.queuePrefix ? { prefix: opts.queuePrefix } : {});
  const standin = await startWechatStandin({
    port: opts.standinPort,
    now,
    apps: Object.fromEntries(base.wechatApps.map((a) => [a.appId, a.appSecret])),
    ...(base.WECOM_CORP_ID && base.WECOM_CONTACT_SECRET
      ? {
          wecom: {
            corpId: base.WECOM_CORP_ID,
            secret: base.WECOM_CONTACT_SECRET,
            ...(base.WECOM_AGENT_ID && base.WECOM_AGENT_SECRET ? { agentId: base.WECOM_AGENT_ID, agentSecret: base.WECOM_AGENT_SECRET } : {}),
          },
        }
      : {}),
  });
  const top = await startTopRuntime(base, env.TOP_API_BASE, opts.topPort !== undefined ? { port: opts.topPort } : opts.standinPort === 0 ? { port: 0 } : {});
  const youzan = await startYouzanRuntime(
    base,
    env.YOUZAN_API_BASE,
    { now, ...(opts.youzanPort !== undefined ? { port: opts.youzanPort } : opts.standinPort === 0 ? { port: 0 } : {}) },
  );
  let runtime = createRuntime({
    local: true,
    now,
    ...(opts.archiveDir ? { archive: new BufferedArchive(fileSink(opts.archiveDir)) } : {}),
    clients: { ddb: db, sqs },
    env: {
      ...env,
      ENGAGEMENT_QUEUE_URL: queues.engagement.url,
      STAFF_QUEUE_URL: queues['staff-alerts'].url,
      WECHAT_STANDIN_PORT: String(standin.port),
      // An explicit WECHAT_API_BASE wins when the stand-in has a fixed port (another API); with port 0 it follows the stand-in.
      WECHAT_API_BASE: env.WECHAT_API_BASE && opts.standinPort !== 0 ? env.WECHAT_API_BASE : standin.url,
      // The stand-in answers the WeCom API too (local/wecom-standin.ts); an explicit WECOM_API_BASE wins as for WeChat.
      WECOM_API_BASE: env.WECOM_API_BASE && opts.standinPort !== 0 ? env.WECOM_API_BASE : standin.url,
      TOP_STANDIN_PORT: String(top.standin.port),
      TOP_API_BASE: top.apiBase,
      YOUZAN_STANDIN_PORT: String(youzan.standin.port),
      YOUZAN_API_BASE: youzan.apiBase,
    },
  });
  const context = (name: string, timeoutSeconds?: number): HubContext => ({ ...lambdaContext(name, timeoutSeconds), hub: runtime });

  const functions = await loadFunctions(opts.functions);
  // EventBridge's scheduled event; its `time` is the hub clock's.
  const scheduledEvent = () => ({ source: 'local.schedule', 'detail-type': 'Scheduled Event', time: new Date(clock.now()).toISOString() });
  const runScheduled = async (name: string) => {
    const fn = functions.get(name);
    if (!fn?.spec.schedule) throw new Error(`no scheduled function named ${name}`);
    return fn.handler(scheduledEvent(), context(name, fn.spec.timeoutSeconds));
  };
  const invokeConsumer = async (name: string, event: SQSEvent) => {
    const fn = functions.get(name);
    if (!fn?.spec.consumes) throw new Error(`no consumer named ${name}`);
    return (await fn.handler(event, context(name, fn.spec.timeoutSeconds))) as SQSBatchResponse | void;
  };
  const consumed = [...functions.values()].flatMap((f) => (f.spec.consumes ? [queues[f.spec.consumes].url] : []));
  const settle = async (timeoutMs = SETTLE_TIMEOUT_MS) => {
    const started = Date.now();
    let quiet = 0;
    for (;;) {
      const depths = await Promise.all(consumed.map((url) => queueDepth(sqs, url)));
      quiet = depths.every((d) => d === 0) ? quiet + 1 : 0;
      if (quiet >= 2) return { settled: true as const, waitedMs: Date.now() - started };
      if (Date.now() - started > timeoutMs) throw new SettleTimeoutError(timeoutMs);
      await new Promise((r) => setTimeout(r, SETTLE_POLL_MS));
    }
  };
  const gateway = await startGateway({ port: opts.port, functions, runScheduled, context, clock, settle });

  const stops: (() => Promise<void>)[] = [];
  if (opts.pollers !== false) {
    for (const { spec, handler } of functions.values()) {
      if (!spec.consumes) continue;
      const q = queues[spec.consumes];
      const p = startPoller({
        sqs,
        queueUrl: q.url,
        queueArn: q.arn,
        name: spec.name,
        handler: handler as never,
        timeoutSeconds: spec.timeoutSeconds,
        batchSize: 10,
        context,
      });
      stops.push(p.stop);
      log(`poller    ${spec.name} ← ${QUEUES[spec.consumes].name}`);
    }
  }
  if (opts.schedules !== false) {
    for (const { spec, handler } of functions.values()) {
      if (!spec.schedule) continue;
      const every = spec.schedule.localEverySeconds;
      // One run at a time (reserved concurrency 1 in AWS); stop waits for the run in progress.
      let running: Promise<unknown> | undefined;
      const timer = setInterval(() => {
        if (running) return;
        running = Promise.resolve(handler(scheduledEvent(), context(spec.name, spec.timeoutSeconds)))
          .catch((err: unknown) => console.error(`[schedule ${spec.name}]`, (err as Error).message))
          .finally(() => (running = undefined));
      }, every * 1000);
      timer.unref();
      stops.push(async () => {
        clearInterval(timer);
        await running;
      });
      log(`schedule  ${spec.name} every ${spec.schedule.localEverySeconds}s (POST /_local/run/${spec.name})`);
    }
  }

  return {
    url: gateway.url,
    standin,
    top: top.standin,
    youzan: youzan.standin,
    queues,
    clock,
    get runtime() {
      return runtime;
    },
    reconfigure(overrides: RuntimeOverrides) {
      runtime = runtime.with(overrides);
      return runtime;
    },
    restore(previous: Runtime) {
      runtime = previous;
    },
    runScheduled,
    settle,
    invokeConsumer,
    stop: async () => {
      await Promise.all(stops.map((s) => s()));
      await gateway.close();
      await standin.close();
      await top.standin.close();
      await youzan.standin.close();
    },
  };
}
