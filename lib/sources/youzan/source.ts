/**
 * POST /youzan/{clientId}: a Youzan push verified by its Event-Sign header over the raw body
 * (nothing is parsed before that). A Youzan push carries no delivery timestamp (docs/security.md:
 * replays are answered by the msg_id dedupe, forward-only order states, the refund ledger and the
 * refund cap). A message of a type the hub does not use yields no event: it is acknowledged and
 * logged. A buyer phone is hashed with PHONE_HASH_SECRET before it becomes an identity.
 */
import type { CommerceEvent } from '../../events/hub-event.ts';
import { SignatureError } from '../../errors.ts';
import { logger } from '../../log.ts';
import { hashPhone, normalisePhone } from '../../members/phone.ts';
import { jsonReply, type Source } from '../types.ts';
import { youzan } from './descriptor.ts';
import { normaliseYouzanPush } from './normalise.ts';
import { verifyYouzanPush } from './sign.ts';
import type { OrderEvent, RefundEvent } from '../commerce/event-util.ts';

export interface YouzanPush {
  body: Buffer;
  /** The `Event-Type` header, when the push has one. */
  eventType?: string;
}

/** The event with the buyer's phone (hashed with `secret`) among its buyer identities. */
export function withBuyerPhone<E extends OrderEvent | RefundEvent>(event: E, phone: string | undefined, secret: string): E {
  if (!phone) return event;
  try {
    return { ...event, buyer: [...event.buyer, { kind: 'phone', value: hashPhone(normalisePhone(phone), secret) }] };
  } catch {
    // A phone that is not a mainland mobile cannot link anything; the order still counts.
    return event;
  }
}

export const source: Source<YouzanPush, CommerceEvent> = {
  descriptor: youzan,
  verify(req, cfg) {
    if (req.account !== cfg.YOUZAN_CLIENT_ID) throw new SignatureError('unknown client id');
    verifyYouzanPush({ headers: req.headers, rawBody: req.body, clientId: cfg.YOUZAN_CLIENT_ID, clientSecret: cfg.YOUZAN_CLIENT_SECRET });
    const eventType = req.headers['event-type'];
    return { message: { body: req.body, ...(eventType ? { eventType } : {}) } };
  },
  normalise({ message }, cfg) {
    const r = normaliseYouzanPush(message.body.toString('utf8'), {
      ...(cfg.YOUZAN_WECHAT_APP_ID ? { wechatAppId: cfg.YOUZAN_WECHAT_APP_ID } : {}),
      clientId: cfg.YOUZAN_CLIENT_ID,
      ...(message.eventType ? { eventType: message.eventType } : {}),
    });
    if (!r.event) {
      logger.info('Youzan message type not used by the hub; acknowledged', { type: r.type, msgId: r.msgId });
      return [];
    }
    if (r.test) return [];
    return [withBuyerPhone(r.event, r.phone, cfg.PHONE_HASH_SECRET)];
  },
  reply: () => jsonReply({ code: 0, msg: 'success' }),
};
