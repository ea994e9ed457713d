/**
 * What a failed DynamoDB call means to the hub, decided in one place.
 *
 * - A condition that did not hold: `ConditionalCheckFailedException` from a single write, or a
 *   `TransactionCanceledException` with a `ConditionalCheckFailed` reason. `isConditionFailed`
 *   answers for both; `classifyStoreError` turns the transaction form into `TxConditionFailed`
 *   naming the planners' tags and carrying the items as they were.
 * - Throttling, a conflict with another transaction, timeouts, connection errors and 5xx:
 *   `TransientError` (503; the caller or the platform retries).
 * - Anything else is returned as it is.
 *
 * The exception shapes are those of `@aws-sdk/client-dynamodb` (`name`, `CancellationReasons`
 * with `Code` and the old `Item` in attribute-value form; `$retryable`, `$metadata`).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { TransientError } from '../errors.ts';

/** A transaction would need more items than DynamoDB allows in one TransactWriteItems. */
export class TxTooLargeError extends Error {
  constructor(
    readonly items: number,
    readonly limit: number,
  ) {
    super(`transaction needs ${items} items, more than ${limit}`);
    this.name = 'TxTooLargeError';
  }
}

/**
 * A condition of a transaction failed. `tags[i]` is what the planner named the i-th failed item,
 * `oldItems[i]` that item as it was (when DynamoDB returned it), in plain JavaScript values.
 */
export class TxConditionFailed extends Error {
  constructor(
    readonly tags: string[],
    readonly oldItems: (Record<string, unknown> | undefined)[],
  ) {
    super(`transaction condition failed: ${tags.join(', ')}`);
    this.name = 'TxConditionFailed';
  }
}

interface CancellationReason {
  Code?: string;
  Item?: Record<string, AttributeValue>;
}

const nameOf = (err: unknown): string => {
  const name = (err as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name : '';
};

const reasonsOf = (err: unknown): CancellationReason[] | undefined =>
  nameOf(err) === 'TransactionCanceledException' ? ((err as { CancellationReasons?: CancellationReason[] }).CancellationReasons ?? []) : undefined;

/**
 * True when a write failed because its condition did not hold: a single write's
 * `ConditionalCheckFailedException`, a transaction cancelled with a `ConditionalCheckFailed`
 * reason, or a `TxConditionFailed` already classified.
 */
export function isConditionFailed(err: unknown): boolean {
  if (err instanceof TxConditionFailed) return true;
  if (nameOf(err) === 'ConditionalCheckFailedException') return true;
  return reasonsOf(err)?.some((r) => r.Code === 'ConditionalCheckFailed') ?? false;
}

const TRANSIENT_NAMES =
  /Throttl|ProvisionedThroughputExceeded|RequestLimitExceeded|InternalServerError|ServiceUnavailable|TransactionInProgress|TimeoutError|AbortError|ECONNRESET|ECONNREFUSED|NetworkingError/;

/**
 * What a failed store call means: `TxConditionFailed` (tagged with `tags`, the transaction's
 * item tags in order) when a transaction's condition failed, `TransientError` for throttling,
 * conflicts, timeouts and 5xx, otherwise the error itself (as an Error).
 */
export function classifyStoreError(err: unknown, tags: readonly string[] = []): Error {
  const reasons = reasonsOf(err);
  if (reasons) {
    const failed: string[] = [];
    const olds: (Record<string, unknown> | undefined)[] = [];
    let transient = false;
    reasons.forEach((r, i) => {
      if (r.Code === 'ConditionalCheckFailed') {
        failed.push(tags[i] ?? `item${i}`);
        olds.push(r.Item ? unmarshall(r.Item) : undefined);
      } else if (r.Code && r.Code !== 'None') transient = true;
    });
    if (failed.length) return new TxConditionFailed(failed, olds);
    if (transient) return new TransientError('transaction conflict or throttling, retry', { reasons: reasons.map((r) => r.Code) });
  }
  const name = nameOf(err);
  if (
    TRANSIENT_NAMES.test(name) ||
    (err as { $retryable?: unknown } | null)?.$retryable ||
    ((err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode ?? 0) >= 500
  ) {
    return new TransientError(`storage unavailable (${name || 'error'}), retry`);
  }
  if (err instanceof Error && /ECONN|socket|timeout/i.test(err.message)) return new TransientError('storage unreachable, retry');
  return err instanceof Error ? err : new Error(String(err));
}
