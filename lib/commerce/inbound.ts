/**
 * The three commerce webhooks, from raw HTTP parts to verified HubEvents. Each verifies the
 * signature over the raw body first (nothing is parsed before that), then normalises. Tmall and
 * JD requests carry a signed timestamp that must lie within HUB_WEBHOOK_MAX_SKEW_SECONDS of the
 * server clock; a Youzan push carries none (docs/security.md: replays are answered by the
 * msg_id dedupe, forward-only order states, the refund ledger and the refund cap).
 * A message of a type the hub does not use yields no event: it is acknowledged and logged.
 */
import type { CommerceEvent } from '../events/hub-event.ts';
import type { HubConfig } from '../config/index.ts';
import { SignatureError } from '../errors.ts';
import { hashPhone, normalisePhone } from '../members/phone.ts';
import { verifyJdRequest, verifyTopRequest, verifyYouzanPush } from './sign.ts';
import { normaliseTmcBody } from './tmall.ts';
import { normaliseJdOrder } from './jd.ts';
import { normaliseYouzanPush } from './youzan.ts';
import { logger } from '../log.ts';

export interface InboundRequest {
  pathKey: string;
  query: Record<string, string>;
  headers: Record<string, string | undefined>;
  rawBody: Buffer;
  now: number;
}

export const COMMERCE_MAX_BODY = 512 * 1024;

export function tmallInbound(req: InboundRequest, cfg: HubConfig): CommerceEvent[] {
  if (req.pathKey !== cfg.TMALL_APP_KEY) throw new SignatureError('unknown app key');
  verifyTopRequest({ query: req.query, rawBody: req.rawBody, secret: cfg.TMALL_APP_SECRET, now: req.now, maxSkewMs: cfg.HUB_WEBHOOK_MAX_SKEW_SECONDS * 1000, appKey: cfg.TMALL_APP_KEY, headers: req.headers });
  const out: CommerceEvent[] = [];
  for (const m of normaliseTmcBody(req.rawBody.toString('utf8'))) {
    if (m.event) out.push(m.event);
    else logger.info('TMC topic not used by the hub; acknowledged', { topic: m.topic, messageId: m.messageId });
  }
  return out;
}

export function jdInbound(req: InboundRequest, cfg: HubConfig): CommerceEvent[] {
  if (req.pathKey !== cfg.JD_APP_KEY) throw new SignatureError('unknown app key');
  verifyJdRequest({ query: req.query, rawBody: req.rawBody, secret: cfg.JD_APP_SECRET, now: req.now, maxSkewMs: cfg.HUB_WEBHOOK_MAX_SKEW_SECONDS * 1000, appKey: cfg.JD_APP_KEY });
  const event = normaliseJdOrder(req.rawBody.toString('utf8'));
  if (!event) logger.info('JD order state not used by the hub; acknowledged');
  return event ? [event] : [];
}

export function youzanInbound(req: InboundRequest, cfg: HubConfig): CommerceEvent[] {
  if (req.pathKey !== cfg.YOUZAN_CLIENT_ID) throw new SignatureError('unknown client id');
  verifyYouzanPush({ headers: req.headers, rawBody: req.rawBody, clientId: cfg.YOUZAN_CLIENT_ID, clientSecret: cfg.YOUZAN_CLIENT_SECRET });
  const r = normaliseYouzanPush(req.rawBody.toString('utf8'), {
    wechatAppId: cfg.WECHAT_APP_ID,
    clientId: cfg.YOUZAN_CLIENT_ID,
    ...(req.headers['event-type'] ? { eventType: req.headers['event-type'] } : {}),
  });
  if (!r.event) {
    logger.info('Youzan message type not used by the hub; acknowledged', { type: r.type, msgId: r.msgId });
    return [];
  }
  if (r.test) return [];
  if (r.phone) {
    try {
      const phone = hashPhone(normalisePhone(r.phone), cfg.PHONE_HASH_SECRET);
      r.event.buyer = [...r.event.buyer, { kind: 'phone', value: phone }];
    } catch {
      // A phone that is not a mainland mobile cannot link anything; the order still counts.
    }
  }
  return [r.event];
}
