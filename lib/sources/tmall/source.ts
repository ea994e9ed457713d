/**
 * POST /tmall/{appKey}: TMC messages (one or an array) relayed with the TOP signature over the
 * query and the raw body, checked before anything is parsed, with a signed timestamp within
 * HUB_WEBHOOK_MAX_SKEW_SECONDS of the server clock. A topic the hub does not use yields no
 * event: it is acknowledged and logged.
 */
import { SignatureError } from '../../errors.ts';
import type { CommerceEvent } from '../../events/hub-event.ts';
import { logger } from '../../log.ts';
import { jsonReply, type Source } from '../types.ts';
import { tmall } from './descriptor.ts';
import { normaliseTmcBody } from './normalise.ts';
import { verifyTmallRequest } from './sign.ts';

export const source: Source<Buffer, CommerceEvent> = {
  descriptor: tmall,
  verify(req, cfg) {
    if (req.account !== cfg.TMALL_APP_KEY) throw new SignatureError('unknown app key');
    verifyTmallRequest(req, cfg);
    return { message: req.body };
  },
  normalise({ message }) {
    const out: CommerceEvent[] = [];
    for (const m of normaliseTmcBody(message.toString('utf8'))) {
      if (m.event) out.push(m.event);
      else logger.info('TMC topic not used by the hub; acknowledged', { topic: m.topic, messageId: m.messageId });
    }
    return out;
  },
  reply: () => jsonReply({ flag: 'success' }),
};
