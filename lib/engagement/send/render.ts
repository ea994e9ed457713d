/**
 * Rendering a planned message's payload into the WeChat wire messages (lib/wechat/wire.ts):
 * a template message or a customer-service message.
 */
import type { CustomMessage, TemplateMessage } from '../../wechat/wire.ts';

/** Payload keys that are not template variables. */
const RESERVED = new Set(['templateId', 'url', 'link', 'miniprogram', 'data', 'custom', 'text']);

export const isUrl = (s: unknown): s is string => {
  if (typeof s !== 'string') return false;
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
};

/**
 * A template message from a payload: `templateId`; `data` (WeChat's `{key: {value}}` or plain
 * `{key: value}`), else every scalar payload field as a variable; `url` (or `link`) and
 * `miniprogram` when present. `client_msg_id` is the message id (WeChat's 10-minute dedupe).
 */
export function renderTemplate(payload: Record<string, unknown>, openid: string, clientMsgId: string): TemplateMessage {
  const data: Record<string, { value: string; color?: string }> = {};
  const source = payload.data && typeof payload.data === 'object' && !Array.isArray(payload.data) ? (payload.data as Record<string, unknown>) : undefined;
  if (source) {
    for (const [k, v] of Object.entries(source)) {
      if (v && typeof v === 'object' && 'value' in v) data[k] = { value: String((v as { value: unknown }).value) };
      else if (v !== undefined && v !== null) data[k] = { value: String(v) };
    }
  } else {
    for (const [k, v] of Object.entries(payload)) {
      if (RESERVED.has(k)) continue;
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') data[k] = { value: String(v) };
    }
  }
  const msg: TemplateMessage = { touser: openid, templateId: String(payload.templateId), data, clientMsgId };
  const url = isUrl(payload.url) ? payload.url : isUrl(payload.link) ? payload.link : undefined;
  if (url) msg.url = url;
  const mp = payload.miniprogram as { appid?: unknown; pagepath?: unknown } | undefined;
  if (mp && typeof mp === 'object' && typeof mp.appid === 'string') {
    msg.miniprogram = { appid: mp.appid, ...(typeof mp.pagepath === 'string' && { pagepath: mp.pagepath }) };
  }
  return msg;
}

/** A customer-service message: the payload's wire-format `custom` object, else text (+ link). */
export function renderCustom(payload: Record<string, unknown>, openid: string): CustomMessage {
  const custom = payload.custom;
  if (custom && typeof custom === 'object' && typeof (custom as Record<string, unknown>).msgtype === 'string') {
    return { ...(custom as object), touser: openid } as CustomMessage;
  }
  const text = typeof payload.text === 'string' ? payload.text : '';
  const link = isUrl(payload.link) ? payload.link : isUrl(payload.url) ? payload.url : undefined;
  return { touser: openid, msgtype: 'text', text: { content: link ? `${text}\n${link}` : text } };
}
