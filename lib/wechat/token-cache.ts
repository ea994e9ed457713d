/**
 * Shared storage for the WeChat access token, so every Lambda instance uses the same
 * stable_token instead of each fetching its own.
 *
 * A cache only stores and returns what it was given; deciding whether a token is still fresh
 * (and refreshing it ahead of expiry) is the API client's job (lib/wechat/client.ts), which
 * compares `expiresAt` with its own clock. The table-backed cache is lib/store/entities/token.ts.
 */
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
