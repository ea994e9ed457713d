/** Scheduled: plans due repurchase nudges, lapse alerts, birthdays and points-expiry reminders. */
import { sweepDue } from '../lib/engagement/due.ts';
import { logger } from '../lib/log.ts';
import { schedule } from '../lib/runtime/lambda.ts';

export const handler = schedule({ name: 'nudge-sweep' }, async (rt) => {
  const out = await sweepDue(rt);
  logger.info('nudge sweep', out);
  return out;
});
