/**
 * Scheduled nightly: the member review (lib/members/nightly.ts) — tier downgrades, lifecycle
 * stages and RFM scores for the members due today, found through the review index.
 */
import type { Context } from 'aws-lambda';
import { defaultDeps } from '../lib/apply/apply.ts';
import { runNightly } from '../lib/members/nightly.ts';
import { logger } from '../lib/log.ts';
import { coldStart } from '../lib/config/secrets.ts';

// The configuration (and in AWS the secret) is read and validated once, at cold start.
await coldStart();

export const handler = async (_event: unknown, context?: Context) => {
  const { db, table, cfg, now } = defaultDeps();
  const out = await runNightly({ db, table, cfg, now }, context ? { remainingMs: () => context.getRemainingTimeInMillis() } : {});
  logger.info('nightly member review', { ...out });
  return out;
};
