/**
 * Scheduled: pulls Tmall TMC messages through TOP (`taobao.tmc.messages.consume`), applies each,
 * and confirms only what committed (or was already committed, or is a topic the hub does not
 * use). A message whose apply failed transiently stays unconfirmed, so TOP redelivers it.
 * Runs until the queue is empty or the invocation's time is nearly spent; returns the counts.
 */
import type { Context } from 'aws-lambda';
import { config } from '../lib/config/index.ts';
import { coldStart, loadSecrets } from '../lib/config/secrets.ts';
import { apply, defaultDeps } from '../lib/apply/apply.ts';
import { TopClient } from '../lib/sources/tmall/top-client.ts';
import { pullTmc, type TmcPullResult } from '../lib/sources/tmall/pull.ts';
import { logger } from '../lib/log.ts';

// The configuration (and in AWS the secret) is read and validated once, at cold start.
await coldStart();

/** Without a Lambda context (a manual run), the budget of the manifest's 60 s timeout. */
const FALLBACK_BUDGET_MS = 60_000;

export const handler = async (_event?: unknown, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<TmcPullResult> => {
  await loadSecrets();
  const cfg = config();
  const deps = defaultDeps();
  const source = new TopClient({ appKey: cfg.TMALL_APP_KEY, secret: cfg.TMALL_APP_SECRET, baseUrl: cfg.TOP_API_BASE });
  const deadline = Date.now() + FALLBACK_BUDGET_MS;
  const remainingMs = context?.getRemainingTimeInMillis ? () => context.getRemainingTimeInMillis() : () => deadline - Date.now();
  const out = await pullTmc({ source, apply: (e) => apply(e, deps), remainingMs });
  if (out.consumed || out.failed || out.confirmFailed) logger.info('tmc pull', { ...out });
  return out;
};
