/**
 * Shared storage for the WeChat access token, so every Lambda instance uses the same
 * stable_token instead of each fetching its own.
 *
 * A cache only stores and returns what it was given; deciding whether a token is still fresh
 * (and refreshing it ahead of expiry) is the API client's job (lib/wechat/client.ts), which
 * compares `expiresAt` with its own clock.
 */
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { ddb, tableName } from '../store/client.ts';
import { keys, TTL_ATTRIBUTE } from '../store/keys.ts';

export interface CachedToken {
  token: string;
  /** When WeChat stops accepting the token, epoch ms. */
  expiresAt: number;
}

export interface TokenCache {
  get(appId: string): Promise<CachedToken | null>;
  /** `expiresAt` in epoch ms. */
  put(appId: string, token: string, expiresAt: number): Promise<void>;
}

const StoredToken = z.object({
  token: z.string().min(1),
  tokenExpiresAtMs: z.number().int(),
});

/**
 * The token row at `keys.wechatToken(appId)`: `token`, `tokenExpiresAtMs` (the real expiry,
 * epoch ms) and the table's TTL attribute `expiresAt` (epoch seconds) so DynamoDB removes the
 * row eventually. TTL deletion is lazy, so an expired row may still be returned; the reader
 * compares `expiresAt` of the result with its clock.
 */
export function dynamoTokenCache(doc: DynamoDBDocumentClient = ddb(), table: string = tableName()): TokenCache {
  return {
    async get(appId) {
      const res = await doc.send(new GetCommand({ TableName: table, Key: keys.wechatToken(appId), ConsistentRead: true }));
      const parsed = StoredToken.safeParse(res.Item);
      if (!parsed.success) return null;
      return { token: parsed.data.token, expiresAt: parsed.data.tokenExpiresAtMs };
    },
    async put(appId, token, expiresAt) {
      await doc.send(
        new PutCommand({
          TableName: table,
          Item: {
            ...keys.wechatToken(appId),
            token,
            tokenExpiresAtMs: expiresAt,
            [TTL_ATTRIBUTE]: Math.ceil(expiresAt / 1000),
          },
        }),
      );
    },
  };
}

/** In-process cache for unit tests; share one instance between clients to model a shared store. */
export function memoryTokenCache(): TokenCache & { entries(): Map<string, CachedToken> } {
  const store = new Map<string, CachedToken>();
  return {
    async get(appId) {
      const hit = store.get(appId);
      return hit ? { ...hit } : null;
    },
    async put(appId, token, expiresAt) {
      store.set(appId, { token, expiresAt });
    },
    entries: () => store,
  };
}
