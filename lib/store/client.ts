/**
 * AWS SDK clients. `makeDynamo`/`makeSqs` build one from explicit options (the local runtime,
 * tests and benchmarks give the emulators' endpoints and the local credentials); the process
 * clients `ddb()`/`sqs()` of a Lambda runtime are built once without options, so the SDK resolves
 * endpoint, region and credentials itself.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';

/** The table and the client every data-layer operation takes. */
export interface Store {
  db: DynamoDBDocumentClient;
  table: string;
}

/** What a caller may choose about a client; everything else (timeouts, retries) is fixed here. */
export interface ClientOptions {
  /** Service endpoint (DynamoDB Local, the local SQS server); default: the SDK's resolution. */
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Attempts per call including the first (default 3). */
  maxAttempts?: number;
}

/** The fixed client settings (timeouts, retries) with the caller's choices; every SDK client of lib/store is built from it. */
export const makeClientConfig = (o: ClientOptions) => ({
  maxAttempts: o.maxAttempts ?? 3,
  requestHandler: requestHandler(),
  ...(o.endpoint !== undefined ? { endpoint: o.endpoint } : {}),
  ...(o.region !== undefined ? { region: o.region } : {}),
  ...(o.credentials !== undefined ? { credentials: o.credentials } : {}),
});

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

export function makeDynamo(options: ClientOptions = {}): DynamoDBDocumentClient {
  const client = new DynamoDBClient(makeClientConfig(options));
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
  });
}

export function makeSqs(options: ClientOptions = {}): SQSClient {
  return new SQSClient(makeClientConfig(options));
}

export function ddb(): DynamoDBDocumentClient {
  doc ??= makeDynamo();
  return doc;
}

export function sqs(): SQSClient {
  sqsClient ??= makeSqs();
  return sqsClient;
}
