/**
 * Per-test-file AWS wiring. Call once at the top of a test file (top-level await) or in
 * beforeAll:
 *
 *   const aws = await useLocalAws();
 *
 * It builds SDK clients for the emulators started by global-setup.ts (explicit endpoints and the
 * local credentials), creates a table and a set of queues that belong to this file alone, and a
 * Runtime (lib/runtime) on them: `aws.runtime` is what the code under test takes, and
 * `handler(event, hubContext(aws.runtime))` calls a handler with it. Nothing is written to
 * `process.env`; variants come from `aws.runtime.with({settings, now, wechat, clients})`.
 *
 * `ddb()` and `sqs()` are this file's clients; `hubConfig()` (active.ts) the configuration of
 * the code under test (the running test hub's, once one is started — test/support/hub.ts).
 */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createQueues, createTable, LOCAL_AWS, type QueueRefs } from '../../local/emulators.ts';
import { lambdaContext } from '../../local/gateway.ts';
import type { QueueName } from '../../lib/queues.ts';
import { makeDynamo, makeSqs } from '../../lib/store/client.ts';
import { createRuntime, type Runtime } from '../../lib/runtime/runtime.ts';
import { setFileRuntime } from './active.ts';

export { activeRuntime, hubConfig, setActiveRuntime } from './active.ts';
import type { HubContext } from '../../lib/runtime/middleware.ts';

export interface LocalAws {
  /** This file's table name. */
  table: string;
  /** This file's queues. */
  queues: Record<QueueName, QueueRefs>;
  dynamoEndpoint: string;
  sqsEndpoint: string;
  /** This file's SDK clients (fault injection wraps these). */
  db: DynamoDBDocumentClient;
  sqs: SQSClient;
  /** A runtime on this file's table, queues and clients with the local defaults. */
  runtime: Runtime;
}

let current: Promise<LocalAws> | undefined;
let resolved: LocalAws | undefined;

/** Idempotent within a test file: later calls return the same table and queues. */
export function useLocalAws(): Promise<LocalAws> {
  current ??= setUp().catch((err: unknown) => {
    current = undefined;
    throw err;
  });
  return current;
}

/** The settings every runtime of this file starts from: this process's environment (read only) and the file's resources. */
export function baseSettings(aws: Pick<LocalAws, 'table' | 'queues'>): Record<string, string | undefined> {
  return { ...process.env, HUB_TABLE: aws.table, ENGAGEMENT_QUEUE_URL: aws.queues.engagement.url, STAFF_QUEUE_URL: aws.queues['staff-alerts'].url };
}

async function setUp(): Promise<LocalAws> {
  const dynamoEndpoint = inject('dynamoEndpoint');
  const sqsEndpoint = inject('sqsEndpoint');
  if (!dynamoEndpoint || !sqsEndpoint) {
    throw new Error('emulator endpoints were not provided: run the tests through vitest with test/support/global-setup.ts');
  }

  const id = randomBytes(5).toString('hex');
  const table = `hub-${id}`;
  const prefix = `t${id}`;
  const db = makeDynamo({ ...LOCAL_AWS, endpoint: dynamoEndpoint });
  const sqs = makeSqs({ ...LOCAL_AWS, endpoint: sqsEndpoint });
  await createTable(db, table);
  const queues = await createQueues(sqs, { prefix });
  const runtime = createRuntime({ env: baseSettings({ table, queues }), local: true, clients: { ddb: db, sqs } });
  resolved = { table, queues, dynamoEndpoint, sqsEndpoint, db, sqs, runtime };
  setFileRuntime(runtime);
  return resolved;
}

function ready(): LocalAws {
  if (!resolved) throw new Error('useLocalAws() has not finished: await it first');
  return resolved;
}

/** This file's DynamoDB document client. */
export const ddb = (): DynamoDBDocumentClient => ready().db;
/** This file's SQS client. */
export const sqs = (): SQSClient => ready().sqs;

/** A Lambda context carrying `runtime`, for calling a handler directly. */
export function hubContext(runtime: Runtime, name = 'test', timeoutSeconds = 30): HubContext {
  return { ...lambdaContext(name, timeoutSeconds), hub: runtime };
}
