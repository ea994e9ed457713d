/**
 * Code redemptions: `CODE#<code>` | `#`. Codes are derived from their batch's serial range
 * (lib/codes/codec.ts) and stored only when redeemed: creating the row is the redemption, so of
 * concurrent scans exactly one commits.
 */
import { parseRootKey, ROOT, type Key } from '../keys.ts';
import type { Tx } from '../tx.ts';
import { stripKeys } from '../item-ops.ts';

export interface Redemption {
  code: string;
  batchId: string;
  serial: number;
  memberId: string;
  /** `<appId>:<openid>` of the person who redeemed it. */
  openid: string;
  at: number;
}

const PREFIX = 'CODE';

export const codeKey = (code: string): Key => ({ pk: `${PREFIX}#${code}`, sk: ROOT });
export function parseCodeKey(k: Key): { code: string } {
  return { code: parseRootKey(k, PREFIX, 'code') };
}
export const redemptionFromItem = (item: Record<string, unknown>): Redemption => stripKeys(item) as unknown as Redemption;

export const codes = {
  /** Redeems the code in `tx` (tag `code`): fails the transaction when it was redeemed already. */
  redeem(tx: Tx, r: Redemption): void {
    tx.create('code', codeKey(r.code), { ...r });
  },
};
