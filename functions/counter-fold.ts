/**
 * Scheduled: folds the credit deltas of committed events into the attribution counters and
 * rollups (lib/attribution/fold.ts). A run started by EventBridge folds for its whole minute
 * (runFold with the Lambda deadline); a run started by hand or by the local runtime's timer
 * (`POST /_local/run/counter-fold`, every 2 s) makes one pass over every shard and returns.
 */
import { runFold } from '../lib/attribution/fold.ts';
import { logger } from '../lib/log.ts';
import { trigger } from '../lib/runtime/lambda.ts';

export const handler = trigger({ name: 'counter-fold' }, async (event: { source?: string } | undefined, rt, context) => {
  const continuous = event?.source === 'aws.events' && typeof context.getRemainingTimeInMillis === 'function';
  const out = await runFold(rt, continuous ? () => context.getRemainingTimeInMillis() : undefined);
  if (out.folded) rt.metrics.add('CounterFoldLagSeconds', {}, out.lagSeconds);
  if (out.folded || out.retries) logger.info('counter fold', { ...out });
  return out;
});
