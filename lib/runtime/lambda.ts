/**
 * The handler factories every function is built with (@middy/core 6 and the middlewares of
 * middleware.ts). A handler receives its runtime (runtime.ts) instead of reading configuration
 * or building clients itself:
 *
 *   http({name, maxBodyBytes?, admin?}, (event, rt, ctx) => result)      one API Gateway v2 route set
 *   routes({name, maxBodyBytes?, admin?}, {'GET /x': fn, ...}, fallback?) dispatch on the route key
 *   consumer({name, body, groupBy?, onMalformed}, (msg, rt, record) => outcome)   an SQS consumer
 *   schedule({name}, (rt, {remainingMs}) => result)                       a scheduled function
 *   trigger({name}, (event, rt, ctx) => result)                           any other trigger (SNS)
 *
 * Cold start is fail-closed: inside Lambda (AWS_LAMBDA_FUNCTION_NAME set) the runtime is built
 * when this module loads, so a missing or invalid configuration or secret fails the INIT with
 * one log line naming the problem, never a 500 per request. Outside Lambda (the local runtime,
 * tests, the cold-start benchmark) nothing is loaded at import. Inside Lambda the process's
 * DynamoDB and SQS clients are also instrumented for X-Ray when tracing is on (tracer.ts).
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type * as z from 'zod';
import { logger } from '../log.ts';
import { NotFoundError } from '../errors.ts';
import { DEFAULT_MAX_BODY, type HttpEvent, type HttpResult } from './http.ts';
import { adminAuth, bodyLimit, httpErrors, hubRuntime, runtimeOf, type HubContext } from './middleware.ts';
import { processRuntime, type Runtime } from './runtime.ts';
import { changeVisibility, queueUrlOfArn } from '../store/sqs.ts';
import { MAX_VISIBILITY_SECONDS } from '../config/engagement.ts';
import { metricsMiddleware } from './metrics.ts';
import { traceProcessClients, tracingMiddleware } from './tracer.ts';

export type { HubContext } from './middleware.ts';

/**
 * A handler as the factories return it: a middy instance, callable with a Lambda context, with a
 * partial one (a test's `{hub: runtime}`) or with none.
 */
export type HubHandler<E, R> = middy.MiddyfiedHandler<E, R, Error, HubContext> & ((event: E, context?: Partial<HubContext>) => Promise<R>);

export interface HttpSpec {
  /** The manifest name (lib/manifest.ts FUNCTIONS). */
  name: string;
  /** Largest body accepted (bytes after base64 decoding); default 64 KiB. */
  maxBodyBytes?: number;
  /** Admin routes: bearer token locally, JWT authorizer claims (with the route's scope) in AWS. */
  admin?: boolean;
}

export type Http = (event: HttpEvent, rt: Runtime, ctx: HubContext) => Promise<HttpResult>;

/**
 * Every factory: the X-Ray segment (off where tracing is off), the Lambda context on the log lines,
 * and the business metrics flushed once per invocation (runtime/metrics.ts). The Lambda timeout
 * decides, as without middy (no early-timeout race).
 */
const base = <E, R>() =>
  middy<E, R, Error, HubContext>({ timeoutEarlyInMillis: 0 })
    .use(tracingMiddleware<E, R, HubContext>())
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(metricsMiddleware<E, R, HubContext>());

export function http(spec: HttpSpec, fn: Http): HubHandler<HttpEvent, HttpResult> {
  const h = base<HttpEvent, HttpResult>().use(httpErrors()).use(hubRuntime());
  // The admin check comes first: an unauthenticated caller learns nothing, not even a size limit.
  if (spec.admin) h.use(adminAuth());
  return h.use(bodyLimit(spec.maxBodyBytes ?? DEFAULT_MAX_BODY)).handler((event, context) => fn(event, runtimeOf(context), context)) as HubHandler<HttpEvent, HttpResult>;
}

/** Dispatches on the API Gateway route key; a route not in the table goes to `fallback` (default 404). */
export function routes(spec: HttpSpec, table: Readonly<Record<string, Http>>, fallback?: Http): HubHandler<HttpEvent, HttpResult> {
  return http(spec, async (event, rt, ctx) => {
    const fn = Object.hasOwn(table, event.routeKey) ? table[event.routeKey] : fallback;
    if (!fn) throw new NotFoundError(`no route ${event.routeKey}`);
    return fn(event, rt, ctx);
  });
}

/** What became of one SQS record. */
export type RecordOutcome<O = unknown> = { kind: 'done'; outcome?: O } | { kind: 'retry'; delaySeconds: number; reason: string };

/** Visibility is set a little under SQS's 12-hour ceiling, which counts from the receive. */
export const VISIBILITY_CEILING_SECONDS = MAX_VISIBILITY_SECONDS - 60;

export interface ConsumerSpec<T> {
  name: string;
  /** The message body schema (the body is JSON). */
  body: z.ZodType<T>;
  /** Records of one group run one after the other; groups run concurrently. Default: each record its own group. */
  groupBy?: (msg: T) => string;
  /** A body that is not JSON or fails the schema. */
  onMalformed(rt: Runtime, record: SQSRecord, issues: string): Promise<RecordOutcome>;
}

/** A consumer with the outcome of each record of a batch (tests read it). */
export type ConsumerHandler = HubHandler<SQSEvent, SQSBatchResponse> & {
  processBatch(event: SQSEvent, rt: Runtime): Promise<(RecordOutcome & { messageId: string })[]>;
};

/** One record of a batch with its parsed body, or why it has none. */
type ParsedRecord<T> = { record: SQSRecord } & ({ ok: true; msg: T } | { ok: false; issues: string });

/** A consumer over a batch processor: malformed bodies, visibility of retries, the batch response. */
function buildConsumer<T>(spec: Pick<ConsumerSpec<T>, 'body' | 'onMalformed'>, run: (parsed: ParsedRecord<T>[], rt: Runtime) => Promise<Map<string, RecordOutcome>>): ConsumerHandler {
  const queueUrls = new Map<string, string>();

  async function setVisibility(rt: Runtime, record: SQSRecord, seconds: number): Promise<void> {
    try {
      let url = queueUrls.get(record.eventSourceARN);
      if (!url) {
        url = await queueUrlOfArn(rt.queues, record.eventSourceARN, rt.cfg.ENGAGEMENT_QUEUE_URL);
        if (!url) return;
        queueUrls.set(record.eventSourceARN, url);
      }
      const visibility = Math.max(0, Math.min(Math.round(seconds), VISIBILITY_CEILING_SECONDS));
      await changeVisibility(rt.queues, url, record.receiptHandle, visibility);
    } catch (err) {
      // The message still comes back, after the queue's own visibility timeout.
      logger.warn('ChangeMessageVisibility failed', { messageId: record.messageId, error: (err as Error).message });
    }
  }

  async function processBatch(event: SQSEvent, rt: Runtime): Promise<(RecordOutcome & { messageId: string })[]> {
    const parsed: ParsedRecord<T>[] = event.Records.map((record) => ({ record, ...parseBody(spec.body, record.body) }));
    const results = new Map<string, RecordOutcome>();
    await Promise.all(parsed.filter((p) => !p.ok).map(async (p) => results.set(p.record.messageId, await spec.onMalformed(rt, p.record, (p as { issues: string }).issues))));
    for (const [id, r] of await run(parsed.filter((p) => p.ok), rt)) results.set(id, r);
    await Promise.all(parsed.map(async (p) => {
      const r = results.get(p.record.messageId);
      if (r?.kind === 'retry') await setVisibility(rt, p.record, r.delaySeconds);
    }));
    // A record the processor left without an outcome is retried after the queue's visibility timeout.
    return event.Records.map((r) => ({ messageId: r.messageId, ...(results.get(r.messageId) ?? { kind: 'retry' as const, delaySeconds: 30, reason: 'no_outcome' }) }));
  }

  const handler = base<SQSEvent, SQSBatchResponse>()
    .use(hubRuntime())
    .handler(async (event, context) => {
      const results = await processBatch(event, runtimeOf(context));
      const batchItemFailures: SQSBatchItemFailure[] = results.filter((r) => r.kind === 'retry').map((r) => ({ itemIdentifier: r.messageId }));
      return { batchItemFailures };
    });
  return Object.assign(handler as HubHandler<SQSEvent, SQSBatchResponse>, { processBatch });
}

/**
 * An SQS consumer (event source mapping with ReportBatchItemFailures). A `retry` outcome changes
 * the record's visibility to its delay (capped under 12 h) and lists it in `batchItemFailures`;
 * the handler never throws for a record.
 */
export function consumer<T>(spec: ConsumerSpec<T>, fn: (msg: T, rt: Runtime, record: SQSRecord) => Promise<RecordOutcome>): ConsumerHandler {
  return buildConsumer(spec, async (parsed, rt) => {
    const groups = new Map<string, ParsedRecord<T>[]>();
    for (const p of parsed) {
      const key = p.ok && spec.groupBy ? `m:${spec.groupBy(p.msg)}` : `x:${p.record.messageId}`;
      const g = groups.get(key);
      if (g) g.push(p);
      else groups.set(key, [p]);
    }
    const results = new Map<string, RecordOutcome>();
    await Promise.all(
      [...groups.values()].map(async (group) => {
        for (const p of group) if (p.ok) results.set(p.record.messageId, await fn(p.msg, rt, p.record));
      }),
    );
    return results;
  });
}

/**
 * An SQS consumer that sees the whole batch at once (to combine its records into fewer calls):
 * `fn` returns an outcome per SQS message id of the well-formed records, the same outcomes as
 * `consumer`.
 */
export function batchConsumer<T>(spec: Omit<ConsumerSpec<T>, 'groupBy'>, fn: (msgs: { msg: T; record: SQSRecord }[], rt: Runtime) => Promise<Map<string, RecordOutcome>>): ConsumerHandler {
  return buildConsumer(spec, (parsed, rt) => fn(parsed.flatMap((p) => (p.ok ? [{ msg: p.msg, record: p.record }] : [])), rt));
}

function parseBody<T>(schema: z.ZodType<T>, body: string): { ok: true; msg: T } | { ok: false; issues: string } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, issues: 'body is not JSON' };
  }
  const r = schema.safeParse(json);
  if (!r.success) return { ok: false, issues: r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') };
  return { ok: true, msg: r.data };
}

/** What a scheduled function knows of its invocation. */
export interface ScheduleContext {
  /** Milliseconds left before the Lambda timeout; undefined without a Lambda context (a manual run). */
  remainingMs?: () => number;
}

export function schedule<R>(spec: { name: string }, fn: (rt: Runtime, ctx: ScheduleContext) => Promise<R>): HubHandler<unknown, R> {
  return trigger(spec, (_event: unknown, rt, context) =>
    fn(rt, typeof context.getRemainingTimeInMillis === 'function' ? { remainingMs: () => context.getRemainingTimeInMillis() } : {}),
  );
}

/** A function on any other trigger (an SNS topic): the event as it comes, and the runtime. */
export function trigger<E, R>(_spec: { name: string }, fn: (event: E, rt: Runtime, ctx: HubContext) => Promise<R>): HubHandler<E, R> {
  return base<E, R>()
    .use(hubRuntime())
    .handler((event, context) => fn(event, runtimeOf(context), context)) as HubHandler<E, R>;
}

if (process.env.AWS_LAMBDA_FUNCTION_NAME) {
  traceProcessClients();
  await processRuntime().catch((err: unknown) => {
    logger.error('configuration is invalid: this function cannot start', { reason: err instanceof Error ? err.message : String(err) });
    throw err;
  });
}
