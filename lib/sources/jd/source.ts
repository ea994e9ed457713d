/**
 * POST /jd/{appKey}: JD order triggers relayed with JD's md5 signature over the query and the
 * raw body, checked before anything is parsed, with a signed timestamp within
 * HUB_WEBHOOK_MAX_SKEW_SECONDS of the server clock. An order state the hub does not use yields
 * no event: it is acknowledged and logged.
 */
import type { CommerceEvent } from '../../events/hub-event.ts';
import { SignatureError } from '../../errors.ts';
import { logger } from '../../log.ts';
import { jsonReply, type Source } from '../types.ts';
import { jd } from './descriptor.ts';
import { normaliseJdOrder } from './normalise.ts';
import { verifyJdRequest } from './sign.ts';

export const source: Source<Buffer, CommerceEvent> = {
  descriptor: jd,
  verify(req, cfg) {
    if (req.account !== cfg.JD_APP_KEY) throw new SignatureError('unknown app key');
    verifyJdRequest({
      query: req.query,
      rawBody: req.body,
      secret: cfg.JD_APP_SECRET,
      now: req.receivedAt,
      maxSkewMs: cfg.HUB_WEBHOOK_MAX_SKEW_SECONDS * 1000,
      appKey: cfg.JD_APP_KEY,
    });
    return { message: req.body };
  },
  normalise({ message }) {
    const event = normaliseJdOrder(message.toString('utf8'));
    if (!event) logger.info('JD order state not used by the hub; acknowledged');
    return event ? [event] : [];
  },
  reply: () => jsonReply({ code: '0' }),
};
