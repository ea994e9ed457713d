/**
 * Shared benchmark plumbing: the machine description every result carries, result files,
 * an SDK middleware that counts requests (and capacity) per command, and the local AWS wiring.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOCAL_AWS } from '../../local/emulators.ts';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { makeDynamo, makeSqs } from '../../lib/store/client.ts';
import { createRuntime, type Runtime } from '../../lib/runtime/runtime.ts';

export const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const RESULTS_DIR = join(BENCH_DIR, 'results');

export interface Machine {
  cpus: { model: string; speedMHz: number }[];
  cpuCount: number;
  totalMemMb: number;
  node: string;
  platform: string;
  date: string;
  /** 1, 5 and 15 minute load averages when the benchmark started. */
  loadAvgAtStart: number[];
}

export function machine(): Machine {
  const cs = cpus();
  return {
    cpus: cs.map((c) => ({ model: c.model, speedMHz: c.speed })),
    cpuCount: cs.length,
    totalMemMb: Math.round(totalmem() / 1048576),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    date: new Date().toISOString(),
    loadAvgAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

export interface BenchResult {
  name: string;
  title: string;
  machine: Machine;
  durationMs: number;
  /** Load averages when the benchmark ended. */
  loadAvgAtEnd: number[];
  iterations: Record<string, number>;
  numbers: Record<string, unknown>;
  /** Rows of the summary table: metric → value (already formatted). */
  summary: [string, string][];
  notes?: string[];
}

export function writeResult(result: BenchResult): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${result.name}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  return file;
}

export const round = (x: number, digits = 2): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

export function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length)));
  return s[rank - 1]!;
}

export const fmt = (x: number, digits = 0): string =>
  Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : String(x);

// ---------------------------------------------------------------------------------------------
// Request counting

interface CapacityEntry {
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
}

export interface RequestCounter {
  /** Requests per SDK command name (one per send(), whatever the retries). */
  readonly counts: Record<string, number>;
  /** Consumed capacity per command name, when the request asked for it. */
  readonly capacity: Record<string, number>;
  total(): number;
  /** Requests of the named commands. */
  of(...commands: string[]): number;
  reset(): void;
  remove(): void;
}

interface CountableClient {
  middlewareStack: {
    add(mw: unknown, options: object): void;
    remove(name: string): boolean;
  };
}

let counterSeq = 0;

/**
 * Counts every command sent through the client (DynamoDB, document or SQS client). With
 * `askCapacity`, DynamoDB requests also ask for `ReturnConsumedCapacity: TOTAL`, and the
 * consumed units are summed per command.
 */
export function countRequests(client: CountableClient, opts: { askCapacity?: boolean } = {}): RequestCounter {
  const name = `benchCounter${++counterSeq}`;
  const counts: Record<string, number> = {};
  const capacity: Record<string, number> = {};
  const mw =
    (next: (a: { input: Record<string, unknown> }) => Promise<{ output?: Record<string, unknown> }>, context: { commandName?: string }) =>
    async (args: { input: Record<string, unknown> }) => {
      const command = (context.commandName ?? 'unknown').replace(/Command$/, '');
      counts[command] = (counts[command] ?? 0) + 1;
      if (opts.askCapacity && !args.input.ReturnConsumedCapacity && CAPACITY_COMMANDS.has(command)) {
        args = { ...args, input: { ...args.input, ReturnConsumedCapacity: 'TOTAL' } };
      }
      const out = await next(args);
      const cc = out.output?.ConsumedCapacity as CapacityEntry | CapacityEntry[] | undefined;
      if (cc) {
        const list = Array.isArray(cc) ? cc : [cc];
        const units = list.reduce((s, c) => s + (c.CapacityUnits ?? 0), 0);
        capacity[command] = (capacity[command] ?? 0) + units;
      }
      return out;
    };
  client.middlewareStack.add(mw, { name, step: 'initialize', priority: 'high', override: true });
  return {
    counts,
    capacity,
    total: () => Object.values(counts).reduce((s, n) => s + n, 0),
    of: (...commands: string[]) => commands.reduce((s, c) => s + (counts[c] ?? 0), 0),
    reset() {
      for (const k of Object.keys(counts)) delete counts[k];
      for (const k of Object.keys(capacity)) delete capacity[k];
    },
    remove() {
      client.middlewareStack.remove(name);
    },
  };
}

const CAPACITY_COMMANDS = new Set([
  'GetItem',
  'BatchGetItem',
  'Query',
  'Scan',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchWriteItem',
  'TransactWriteItems',
  'TransactGetItems',
]);

export const READ_COMMANDS = ['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems'];
export const WRITE_COMMANDS = ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems'];

// ---------------------------------------------------------------------------------------------
// Local AWS wiring

export interface Emulated {
  /** Clients on the emulators (explicit endpoints, the local credentials). */
  db: DynamoDBDocumentClient;
  sqs: SQSClient;
  /** A runtime on them with the given table (the local defaults over this environment, never a secret). */
  runtime: Runtime;
}

/** Clients and a runtime on the emulators, with the given table; `settings` go over this environment. */
export function useEmulators(env: { dynamoEndpoint: string; sqsEndpoint?: string; table: string; extra?: Record<string, string> }): Emulated {
  const db = makeDynamo({ ...LOCAL_AWS, endpoint: env.dynamoEndpoint });
  const sqs = makeSqs({ ...LOCAL_AWS, ...(env.sqsEndpoint ? { endpoint: env.sqsEndpoint } : {}) });
  const settings = { ...process.env, HUB_SECRET_ARN: undefined, HUB_SECRET_ARNS: undefined, HUB_TABLE: env.table, ...env.extra };
  return { db, sqs, runtime: createRuntime({ env: settings, local: true, clients: { ddb: db, sqs } }) };
}

/**
 * An error as a report should show it: the stack (or, with `stack: false`, `name: message`),
 * then every `cause` and, for an AggregateError, every error it holds, so a failure names its
 * real cause (e.g. fetch's "fetch failed" caused by ECONNREFUSED).
 */
export function describeError(err: unknown, opts: { stack?: boolean } = {}, depth = 0): string {
  if (!(err instanceof Error)) return String(err);
  const head = opts.stack === false ? `${err.name}: ${err.message}` : (err.stack ?? `${err.name}: ${err.message}`);
  const lines = [head];
  if (depth < 4) {
    if (err instanceof AggregateError) for (const e of err.errors as unknown[]) lines.push(`with: ${describeError(e, opts, depth + 1)}`);
    if (err.cause !== undefined) lines.push(`caused by: ${describeError(err.cause, opts, depth + 1)}`);
  }
  return lines.join('\n');
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs `worker` on `concurrency` lanes until `deadline` (epoch ms). */
export async function runFor(concurrency: number, deadline: number, worker: (lane: number) => Promise<void>): Promise<void> {
  await Promise.all(
    Array.from({ length: concurrency }, async (_, lane) => {
      while (Date.now() < deadline) await worker(lane);
    }),
  );
}
