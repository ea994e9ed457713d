/**
 * Assembles the whole hub on one machine: table and queues on the given endpoints, the WeChat
 * API stand-in, the HTTP gateway over the real handlers, one poller per SQS consumer and a
 * timer per scheduled function. `npm start` (local/start.ts) and the end-to-end tests both
 * use it, so the tests exercise exactly what a developer runs.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSBatchResponse } from 'aws-lambda';
import { createQueues, createTable, type QueueRefs } from './emulators.ts';
import { loadFunctions, lambdaContext, startGateway } from './gateway.ts';
import { startPoller } from './poller.ts';
import { startWechatStandin, type WechatStandin } from './wechat-standin.ts';
import { startTopRuntime } from './top-runtime.ts';
import type { TopStandin } from './top-standin.ts';
import { config, resetConfig } from '../lib/config/index.ts';
import { QUEUES, type QueueName } from '../lib/queues.ts';
import { ddb, resetClients, sqs } from '../lib/store/client.ts';

export interface HubOptions {
  port: number;
  standinPort: number;
  /** TOP stand-in port (0 = free port); default TOP_STANDIN_PORT. */
  topPort?: number;
  /** Table and queue names (tests use unique ones). */
  table?: string;
  queuePrefix?: string;
  /** Run SQS pollers and schedules (tests may drive them by hand). */
  pollers?: boolean;
  schedules?: boolean;
  /** Load only these functions (tests of one area); default: the whole manifest. */
  functions?: string[];
  log?: (line: string) => void;
}

export interface RunningHub {
  url: string;
  standin: WechatStandin;
  top: TopStandin;
  queues: Record<QueueName, QueueRefs>;
  /** Runs a scheduled function now. */
  runScheduled(name: string): Promise<unknown>;
  /** Invokes an SQS consumer on a hand-made batch. */
  invokeConsumer(name: string, event: SQSEvent): Promise<SQSBatchResponse | void>;
  stop(): Promise<void>;
}

export async function startHub(opts: HubOptions): Promise<RunningHub> {
  const log = opts.log ?? (() => undefined);
  if (opts.table) process.env.HUB_TABLE = opts.table;
  resetConfig();
  resetClients();
  const cfg = config();
  await createTable(ddb(), cfg.HUB_TABLE);
  const queues = await createQueues(sqs(), opts.queuePrefix ? { prefix: opts.queuePrefix } : {});
  process.env.ENGAGEMENT_QUEUE_URL = queues.engagement.url;
  process.env.STAFF_QUEUE_URL = queues['staff-alerts'].url;
  const standin = await startWechatStandin({ port: opts.standinPort, apps: { [cfg.WECHAT_APP_ID]: cfg.WECHAT_APP_SECRET } });
  process.env.WECHAT_STANDIN_PORT = String(standin.port);
  if (!process.env.WECHAT_API_BASE || opts.standinPort === 0) process.env.WECHAT_API_BASE = standin.url;
  resetConfig();
  const top = await startTopRuntime(opts.topPort !== undefined ? { port: opts.topPort } : opts.standinPort === 0 ? { port: 0 } : {});

  const functions = await loadFunctions(opts.functions);
  const runScheduled = async (name: string) => {
    const fn = functions.get(name);
    if (!fn?.spec.schedule) throw new Error(`no scheduled function named ${name}`);
    return fn.handler({ source: 'local.schedule', 'detail-type': 'Scheduled Event', time: new Date().toISOString() }, lambdaContext(name, fn.spec.timeoutSeconds));
  };
  const invokeConsumer = async (name: string, event: SQSEvent) => {
    const fn = functions.get(name);
    if (!fn?.spec.consumes) throw new Error(`no consumer named ${name}`);
    return (await fn.handler(event, lambdaContext(name, fn.spec.timeoutSeconds))) as SQSBatchResponse | void;
  };
  const gateway = await startGateway({ port: opts.port, functions, runScheduled });

  const stops: (() => Promise<void>)[] = [];
  if (opts.pollers !== false) {
    for (const { spec, handler } of functions.values()) {
      if (!spec.consumes) continue;
      const q = queues[spec.consumes];
      const p = startPoller({
        sqs: sqs() as SQSClient,
        queueUrl: q.url,
        queueArn: q.arn,
        name: spec.name,
        handler: handler as never,
        timeoutSeconds: spec.timeoutSeconds,
        batchSize: 10,
      });
      stops.push(p.stop);
      log(`poller    ${spec.name} ← ${QUEUES[spec.consumes].name}`);
    }
  }
  if (opts.schedules !== false) {
    for (const { spec } of functions.values()) {
      if (!spec.schedule) continue;
      const timer = setInterval(() => {
        runScheduled(spec.name).catch((err: unknown) => console.error(`[schedule ${spec.name}]`, (err as Error).message));
      }, spec.schedule.localEverySeconds * 1000);
      timer.unref();
      stops.push(async () => clearInterval(timer));
      log(`schedule  ${spec.name} every ${spec.schedule.localEverySeconds}s (POST /_local/run/${spec.name})`);
    }
  }

  return {
    url: gateway.url,
    standin,
    top,
    queues,
    runScheduled,
    invokeConsumer,
    stop: async () => {
      await Promise.all(stops.map((s) => s()));
      await gateway.close();
      await standin.close();
      await top.close();
    },
  };
}
