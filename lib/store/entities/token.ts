/**
 * The shared WeChat access-token row, `TOKEN#wechat#<appId> | #`, so every Lambda instance uses
 * the same stable_token instead of each fetching its own. Stored fields: `token`,
 * `tokenExpiresAtMs` (the real expiry, epoch ms) and the table's TTL attribute (epoch seconds)
 * so DynamoDB removes the row eventually. TTL deletion is lazy, so an expired row may still be
 * returned; the API client (lib/wechat/client.ts) compares `expiresAt` with its clock.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { Store } from '../client.ts';
import { parseRootKey, ROOT, TTL_ATTRIBUTE, type Key } from '../keys.ts';

const PREFIX = 'TOKEN#wechat';

export const wechatTokenKey = (appId: string): Key => ({ pk: `${PREFIX}#${appId}`, sk: ROOT });

/** The appId of a token key; throws on any other key. */
export function parseWechatTokenKey(k: Key): { appId: string } {
  return { appId: parseRootKey(k, PREFIX, 'token') };
}

const StoredToken = z.object({
  token: z.string().min(1),
  tokenExpiresAtMs: z.number().int(),
});

/** Structurally lib/wechat/token-cache.ts TokenCache. */
export interface StoredTokenCache {
  get(appId: string): Promise<{ token: string; expiresAt: number } | null>;
  put(appId: string, token: string, expiresAt: number): Promise<void>;
}

/** A token cache on the table (consistent reads: a refresh by one instance is seen by the next). */
export function dynamoTokenCache(s: Store): StoredTokenCache {
  return {
    async get(appId) {
      const res = await s.db.send(new GetCommand({ TableName: s.table, Key: wechatTokenKey(appId), ConsistentRead: true }));
      const parsed = StoredToken.safeParse(res.Item);
      if (!parsed.success) return null;
      return { token: parsed.data.token, expiresAt: parsed.data.tokenExpiresAtMs };
    },
    async put(appId, token, expiresAt) {
      await s.db.send(
        new PutCommand({
          TableName: s.table,
          Item: { ...wechatTokenKey(appId), token, tokenExpiresAtMs: expiresAt, [TTL_ATTRIBUTE]: Math.ceil(expiresAt / 1000) },
        }),
      );
    },
  };
}
