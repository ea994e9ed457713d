/**
 * The write loop of the member-centre and admin loyalty use cases: read, decide, write one
 * transaction; when a condition fails (another writer changed what was read: the member's
 * version, the reward's stock, the coupon's status) or DynamoDB reports a conflict, read again
 * and decide again. A refusal (a HubError thrown by `plan`) ends the loop with nothing written.
 */
import { Tx } from '../store/tx.ts';
import { TxConditionFailed } from '../store/errors.ts';
import { TransientError } from '../errors.ts';
import type { Store } from '../store/client.ts';

export interface LoyaltyDeps {
  store: Store;
  now: () => number;
}

/** Attempts before a 503 (contention on one item: the last of a reward's stock). */
const MAX_ATTEMPTS = 16;

export async function transact<T>(deps: LoyaltyDeps, plan: (tx: Tx, now: number) => Promise<T>): Promise<T> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const tx = new Tx(deps.store.table);
    const out = await plan(tx, deps.now());
    try {
      await tx.commit(deps.store.db);
      return out;
    } catch (err) {
      if (!(err instanceof TxConditionFailed) && !(err instanceof TransientError)) throw err;
      await pause(attempt);
    }
  }
  throw new TransientError('too much contention on this item, retry');
}

function pause(attempt: number): Promise<void> {
  const ms = Math.min(250, 5 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random());
  return new Promise((r) => setTimeout(r, ms));
}
