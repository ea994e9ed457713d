/**
 * Nonce cache of plain-mode WeChat pushes: `NONCE#wechat#<digest>` | `#`, digest = sha256 of
 * appId, timestamp and nonce (lib/sources/wechat/inbound.ts), holding the body's digest; TTL = the end of
 * the timestamp's window. Written in the event's transaction: created, or already carrying the
 * same body digest (WeChat's identical retry); a captured URL replayed with another body fails.
 */
import { parseRootKey, ROOT, type Key } from '../keys.ts';
import type { Tx } from '../tx.ts';

const PREFIX = 'NONCE#wechat';
/** The transaction tag of the guard (a failed condition on it means another body). */
export const PUSH_NONCE_TAG = 'replay';

export const pushNonceKey = (digest: string): Key => ({ pk: `${PREFIX}#${digest}`, sk: ROOT });
export function parsePushNonceKey(k: Key): { digest: string } {
  return { digest: parseRootKey(k, PREFIX, 'push nonce') };
}

export const pushNonces = {
  guard(tx: Tx, g: { digest: string; bodyHash: string; at: number; expiresAt: number }): void {
    tx.put(
      PUSH_NONCE_TAG,
      pushNonceKey(g.digest),
      { bodyHash: g.bodyHash, at: g.at, expiresAt: g.expiresAt },
      { expr: 'attribute_not_exists(pk) OR bodyHash = :h', values: { ':h': g.bodyHash } },
    );
  },
};
