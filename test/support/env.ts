/**
 * Per-test-file AWS wiring. Call once at the top of a test file (top-level await) or in
 * beforeAll:
 *
 *   const aws = await useLocalAws();
 *
 * It points the SDK at the emulators started by global-setup.ts, creates a table and a set of
 * queues that belong to this file alone, exports their names through the environment variables
 * the hub reads (HUB_TABLE, ENGAGEMENT_QUEUE_URL, STAFF_QUEUE_URL), and resets the cached
 * configuration and SDK clients so the code under test picks them up.
 */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createQueues, createTable, LOCAL_AWS, type QueueRefs } from '../../local/emulators.ts';
import type { QueueName } from '../../lib/queues.ts';
import { resetConfig } from '../../lib/config/index.ts';
import { resetClients } from '../../lib/store/client.ts';

export interface LocalAws {
  /** This file's table name (also in process.env.HUB_TABLE). */
  table: string;
  /** This file's queues (the main URLs also in ENGAGEMENT_QUEUE_URL / STAFF_QUEUE_URL). */
  queues: Record<QueueName, QueueRefs>;
  dynamoEndpoint: string;
  sqsEndpoint: string;
}

let current: Promise<LocalAws> | undefined;

/** Idempotent within a test file: later calls return the same table and queues. */
export function useLocalAws(): Promise<LocalAws> {
  current ??= setUp().catch((err: unknown) => {
    current = undefined;
    throw err;
  });
  return current;
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

  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
    AWS_ENDPOINT_URL_SQS: sqsEndpoint,
    AWS_REGION: LOCAL_AWS.region,
    AWS_ACCESS_KEY_ID: LOCAL_AWS.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_AWS.credentials.secretAccessKey,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    HUB_TABLE: table,
  });
  // A session token from the developer's shell would be sent along with the local keys.
  delete process.env.AWS_SESSION_TOKEN;

  const ddb = new DynamoDBClient({ ...LOCAL_AWS, endpoint: dynamoEndpoint });
  const sqs = new SQSClient({ ...LOCAL_AWS, endpoint: sqsEndpoint });
  try {
    await createTable(ddb, table);
    const queues = await createQueues(sqs, { prefix });
    process.env.ENGAGEMENT_QUEUE_URL = queues.engagement.url;
    process.env.STAFF_QUEUE_URL = queues['staff-alerts'].url;
    resetConfig();
    resetClients();
    return { table, queues, dynamoEndpoint, sqsEndpoint };
  } finally {
    ddb.destroy();
    sqs.destroy();
  }
}
