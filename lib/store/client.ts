/**
 * AWS SDK clients, one per process. Endpoints come from the SDK's own environment variables
 * (AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_SQS), which the local runtime and the tests set
 * to DynamoDB Local and the local SQS server; in AWS they are unset.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { config } from '../config/index.ts';

let doc: DynamoDBDocumentClient | undefined;
let sqsClient: SQSClient | undefined;

/** Short timeouts: a webhook must answer inside the platform's budget (WeChat: 5 s). */
const requestHandler = () =>
  new NodeHttpHandler({
    connectionTimeout: 1_000,
    requestTimeout: 2_500,
    // Waiting for a free socket must not count as a connection timeout when many requests
    // share one process (the local runtime); a Lambda instance serves one request at a time.
    httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 256 }),
    httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 256 }),
  });

export function makeDynamo(overrides: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  const client = new DynamoDBClient({ maxAttempts: 3, requestHandler: requestHandler(), ...overrides });
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
  });
}

export function makeSqs(overrides: SQSClientConfig = {}): SQSClient {
  return new SQSClient({ maxAttempts: 3, requestHandler: requestHandler(), ...overrides });
}

export function ddb(): DynamoDBDocumentClient {
  doc ??= makeDynamo();
  return doc;
}

export function sqs(): SQSClient {
  sqsClient ??= makeSqs();
  return sqsClient;
}

/** Replace the process clients (the local runtime and tests inject fault-wrapped clients). */
export function setClients(next: { ddb?: DynamoDBDocumentClient; sqs?: SQSClient }): void {
  if (next.ddb) doc = next.ddb;
  if (next.sqs) sqsClient = next.sqs;
}

/** Forget the process clients so the next ddb()/sqs() call builds them from the current environment. */
export function resetClients(): void {
  doc = undefined;
  sqsClient = undefined;
}

export function tableName(): string {
  return config().HUB_TABLE;
}
