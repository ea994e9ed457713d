/**
 * What the archive tools (rebuild, replay, sql) share: the archive directory and the table's
 * DynamoDB client — DynamoDB Local of `npm start` by default, AWS itself with --aws.
 */
import { resolve } from 'node:path';
import { LOCAL_AWS } from '../local/emulators.ts';
import { makeDynamo } from '../lib/store/client.ts';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export const DEFAULT_ARCHIVE_DIR = '.data/archive';
const LOCAL_DYNAMO_ENDPOINT = 'http://127.0.0.1:8000';

export const archiveDirOf = (value: string | undefined): string => resolve(value ?? process.env.HUB_ARCHIVE_DIR ?? DEFAULT_ARCHIVE_DIR);

/** The DynamoDB client of a tool: --endpoint, else $AWS_ENDPOINT_URL_DYNAMODB, else DynamoDB Local; --aws: the SDK's own resolution. */
export function toolDynamo(opts: { aws?: boolean; endpoint?: string | undefined }): DynamoDBDocumentClient {
  if (opts.aws) return makeDynamo(opts.endpoint ? { endpoint: opts.endpoint } : {});
  const endpoint = opts.endpoint ?? process.env.AWS_ENDPOINT_URL_DYNAMODB ?? LOCAL_DYNAMO_ENDPOINT;
  return makeDynamo({ endpoint, region: process.env.AWS_REGION ?? LOCAL_AWS.region, ...(process.env.AWS_ACCESS_KEY_ID ? {} : { credentials: LOCAL_AWS.credentials }) });
}

export function fail(usage: string, message?: string): never {
  if (message) console.error(message);
  console.error(usage);
  process.exit(2);
}
