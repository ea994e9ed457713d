/** Scheduled: plans due repurchase nudges, lapse alerts, birthdays and points-expiry reminders. */
import { sweepDue } from '../lib/engagement/due.ts';
import { defaultDeps } from '../lib/apply/apply.ts';
import { logger } from '../lib/log.ts';
import { coldStart } from '../lib/config/secrets.ts';

// The configuration (and in AWS the secret) is read and validated once, at cold start.
await coldStart();

export const handler = async () => {
  const out = await sweepDue(defaultDeps());
  logger.info('nudge sweep', out);
  return out;
};
