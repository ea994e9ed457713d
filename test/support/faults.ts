/**
 * Fault injection for the AWS SDK clients the hub uses, as middleware on the REAL clients: the
 * client keeps its endpoint, credentials, retry strategy and HTTP handler; the middleware only
 * decides, with a seeded RNG, to fail some calls the way the service or the network would.
 *
 * DynamoDB (`injectDynamoFaults`):
 *   throughput      ProvisionedThroughputExceededException (HTTP 400, throttling)
 *   throttle        ThrottlingException (HTTP 400, throttling)
 *   timeout-before  the request never reaches DynamoDB: wait `timeoutMs`, throw TimeoutError
 *   timeout-after   the request reaches DynamoDB and takes effect, the answer is lost: wait
 *                   `timeoutMs`, throw TimeoutError (the ambiguous case: a write may have committed)
 *   conflict        TransactionCanceledException, one item `TransactionConflict`, the rest
 *                   `None` (TransactWriteItems only; other commands get `throttle` instead)
 *
 * Where the fault is injected (`layer`):
 *   'wire' (default)  inside the SDK's retry loop, on every HTTP attempt: the client's own
 *                     retry strategy (maxAttempts, backoff) sees the fault first, exactly as with a
 *                     real throttle or socket timeout; what it cannot absorb reaches the caller.
 *   'app'             outside the retry loop, once per `send()`: the caller sees every fault, as if
 *                     all of the SDK's attempts had failed.
 *
 * SQS (`failSqsSends`): `SendMessage` (and `SendMessageBatch`) succeed `after` times, then fail
 * `failures` times (ServiceUnavailable, HTTP 503, thrown before the request leaves, so nothing is
 * enqueued), then, with `repeat`, the cycle starts again. Injected once per `send()`.
 *
 * Every injector returns a handle: `remove()` takes its middleware off the client (idempotent),
 * `enabled` pauses it without removing it, `stats` counts calls seen and faults injected.
 * `removeAllFaults(client)` removes every injector this module added to a client.
 */
import {
  ProvisionedThroughputExceededException,
  ThrottlingException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { SQSServiceException } from '@aws-sdk/client-sqs';
import { seededRandom } from './random.ts';

export { seededRandom };

/** The part of an SDK client (or a DynamoDB document client, which shares its stack) we touch. */
export interface StackOwner {
  middlewareStack: {
    add(mw: unknown, options: object): void;
    addRelativeTo(mw: unknown, options: object): void;
    remove(toRemove: string): boolean;
    identify(): string[];
  };
}

export type DynamoFaultKind = 'throughput' | 'throttle' | 'timeout-before' | 'timeout-after' | 'conflict';

/** The commands the write path uses and a fault is injected into by default. */
export const WRITE_PATH_COMMANDS = ['TransactWriteItemsCommand', 'GetItemCommand', 'BatchGetItemCommand'] as const;

export interface DynamoFaultOptions {
  /** RNG seed: the same seed and call sequence give the same faults. */
  seed: number;
  /** Probability of a fault per call (per HTTP attempt with layer 'wire'), 0..1. */
  rate: number;
  /** SDK command names (`GetItemCommand` ...); default WRITE_PATH_COMMANDS. */
  commands?: readonly string[];
  /** Relative weights of the fault kinds; default all equal. */
  kinds?: Partial<Record<DynamoFaultKind, number>>;
  layer?: 'wire' | 'app';
  /** How long a timeout fault waits before throwing, in ms (default 50). */
  timeoutMs?: number;
  /** Called for every injected fault (logging, assertions). */
  onFault?: (fault: InjectedFault) => void;
}

export interface InjectedFault {
  command: string;
  kind: DynamoFaultKind | 'sqs-unavailable';
  /** Sequence number of the call among the calls this injector saw. */
  call: number;
}

export interface FaultStats {
  calls: number;
  faults: number;
  byKind: Record<string, number>;
  byCommand: Record<string, number>;
}

export interface FaultHandle {
  /** Middleware name on the client's stack. */
  readonly name: string;
  readonly stats: FaultStats;
  /** False pauses injection (calls pass through untouched). */
  enabled: boolean;
  /** Takes the middleware off the client. Safe to call more than once. */
  remove(): void;
}


const NAME_PREFIX = 'hubFault';
let sequence = 0;
/** Injector names per client, for removeAllFaults. */
const installed = new WeakMap<object, Set<string>>();

function register(client: StackOwner, name: string): void {
  const set = installed.get(client.middlewareStack) ?? new Set<string>();
  set.add(name);
  installed.set(client.middlewareStack, set);
}

function unregister(client: StackOwner, name: string): void {
  installed.get(client.middlewareStack)?.delete(name);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function emptyStats(): FaultStats {
  return { calls: 0, faults: 0, byKind: {}, byCommand: {} };
}

function count(stats: FaultStats, command: string, kind: string): void {
  stats.faults++;
  stats.byKind[kind] = (stats.byKind[kind] ?? 0) + 1;
  stats.byCommand[command] = (stats.byCommand[command] ?? 0) + 1;
}

const metadata = (httpStatusCode: number) => ({ httpStatusCode, requestId: `fault-${++sequence}`, attempts: 1, totalRetryDelay: 0 });

/** The error the Node HTTP handler throws when a request times out. */
export function timeoutError(ms: number): Error {
  const err = new Error(`Connection timed out after ${ms} ms (injected)`);
  err.name = 'TimeoutError';
  return Object.assign(err, { $metadata: {} });
}

function throughputError(): Error {
  return new ProvisionedThroughputExceededException({
    message: 'The level of configured provisioned throughput for the table was exceeded (injected)',
    $metadata: metadata(400),
  });
}

function throttlingError(): Error {
  return new ThrottlingException({ message: 'Rate of requests exceeds the allowed throughput (injected)', $metadata: metadata(400) });
}

function conflictError(items: number, rnd: () => number): Error {
  const n = Math.max(1, items);
  const hit = Math.floor(rnd() * n);
  const reasons = Array.from({ length: n }, (_, i) =>
    i === hit ? { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item (injected)' } : { Code: 'None' },
  );
  return new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
    CancellationReasons: reasons,
    $metadata: metadata(400),
  });
}

function pickKind(weights: Record<DynamoFaultKind, number>, rnd: () => number): DynamoFaultKind {
  const entries = (Object.entries(weights) as [DynamoFaultKind, number][]).filter(([, w]) => w > 0);
  const total = entries.reduce((s, [, w]) => s + w, 0);
  let x = rnd() * total;
  for (const [k, w] of entries) {
    x -= w;
    if (x < 0) return k;
  }
  return entries[entries.length - 1]![0];
}

type Handler = (args: { input: Record<string, unknown> }) => Promise<unknown>;
type Context = { commandName?: string };

/**
 * Injects DynamoDB faults into a real client (DynamoDBClient or DynamoDBDocumentClient: the
 * document client shares the base client's middleware stack, so either works).
 */
export function injectDynamoFaults(client: StackOwner, options: DynamoFaultOptions): FaultHandle {
  const rnd = seededRandom(options.seed);
  const commands = new Set(options.commands ?? WRITE_PATH_COMMANDS);
  const weights: Record<DynamoFaultKind, number> = {
    throughput: 1,
    throttle: 1,
    'timeout-before': 1,
    'timeout-after': 1,
    conflict: 1,
    ...options.kinds,
  };
  const timeoutMs = options.timeoutMs ?? 50;
  const layer = options.layer ?? 'wire';
  const name = `${NAME_PREFIX}Dynamo${++sequence}`;
  const stats = emptyStats();
  const handle: FaultHandle = {
    name,
    stats,
    enabled: true,
    remove() {
      client.middlewareStack.remove(name);
      unregister(client, name);
    },
  };

  const middleware = (next: Handler, context: Context) => async (args: { input: Record<string, unknown> }) => {
    const command = context.commandName ?? '';
    if (!handle.enabled || !commands.has(command)) return next(args);
    const call = ++stats.calls;
    if (rnd() >= options.rate) return next(args);
    let kind = pickKind(weights, rnd);
    if (kind === 'conflict' && command !== 'TransactWriteItemsCommand') kind = 'throttle';
    count(stats, command, kind);
    options.onFault?.({ command, kind, call });
    switch (kind) {
      case 'throughput':
        throw throughputError();
      case 'throttle':
        throw throttlingError();
      case 'timeout-before':
        await sleep(timeoutMs);
        throw timeoutError(timeoutMs);
      case 'timeout-after': {
        // The request goes through (a write takes effect); only the answer is lost.
        await next(args).catch(() => undefined);
        await sleep(timeoutMs);
        throw timeoutError(timeoutMs);
      }
      case 'conflict': {
        const items = Array.isArray(args.input.TransactItems) ? args.input.TransactItems.length : 1;
        throw conflictError(items, rnd);
      }
    }
  };

  if (layer === 'wire') {
    // After the retry middleware in the finalizeRequest step = inside its loop, once per attempt.
    client.middlewareStack.addRelativeTo(middleware, { name, relation: 'after', toMiddleware: 'retryMiddleware', override: true });
  } else {
    client.middlewareStack.add(middleware, { name, step: 'initialize', priority: 'high', override: true });
  }
  register(client, name);
  return handle;
}

export interface SqsFaultOptions {
  /** Successful sends before the failures start. */
  after: number;
  /** Consecutive failing sends. */
  failures: number;
  /** Start over (again `after` successes, then `failures` failures) when a window ends. */
  repeat?: boolean;
  /** SDK command names; default SendMessageCommand and SendMessageBatchCommand. */
  commands?: readonly string[];
  onFault?: (fault: InjectedFault) => void;
}

export interface SqsFaultHandle extends FaultHandle {
  /** Sends that went through since the injector was added. */
  readonly succeeded: number;
  /** Starts the cycle over: `after` successes, then the failures. */
  reset(): void;
}

/** Fails SQS sends after N successes (see the module comment). */
export function failSqsSends(client: StackOwner, options: SqsFaultOptions): SqsFaultHandle {
  const commands = new Set(options.commands ?? ['SendMessageCommand', 'SendMessageBatchCommand']);
  const name = `${NAME_PREFIX}Sqs${++sequence}`;
  const stats = emptyStats();
  let okInWindow = 0;
  let failedInWindow = 0;
  let succeeded = 0;
  let exhausted = false;
  const handle: SqsFaultHandle = {
    name,
    stats,
    enabled: true,
    get succeeded() {
      return succeeded;
    },
    reset() {
      okInWindow = 0;
      failedInWindow = 0;
      exhausted = false;
    },
    remove() {
      client.middlewareStack.remove(name);
      unregister(client, name);
    },
  };

  const middleware = (next: Handler, context: Context) => async (args: { input: Record<string, unknown> }) => {
    const command = context.commandName ?? '';
    if (!handle.enabled || !commands.has(command)) return next(args);
    const call = ++stats.calls;
    if (!exhausted && okInWindow >= options.after && failedInWindow < options.failures) {
      failedInWindow++;
      count(stats, command, 'sqs-unavailable');
      options.onFault?.({ command, kind: 'sqs-unavailable', call });
      if (failedInWindow >= options.failures) {
        if (options.repeat) {
          okInWindow = 0;
          failedInWindow = 0;
        } else {
          exhausted = true;
        }
      }
      throw new SQSServiceException({
        name: 'ServiceUnavailable',
        $fault: 'server',
        message: 'Service is unable to handle the request (injected)',
        $metadata: metadata(503),
      });
    }
    const out = await next(args);
    okInWindow++;
    succeeded++;
    return out;
  };
  client.middlewareStack.add(middleware, { name, step: 'initialize', priority: 'high', override: true });
  register(client, name);
  return handle;
}

/** Removes every injector this module added to the client. */
export function removeAllFaults(client: StackOwner): number {
  const names = installed.get(client.middlewareStack);
  if (!names) return 0;
  let n = 0;
  for (const name of [...names]) {
    if (client.middlewareStack.remove(name)) n++;
    names.delete(name);
  }
  return n;
}
