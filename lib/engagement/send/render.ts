/**
 * Rendering a planned message's payload into the WeChat wire messages (lib/wechat/wire.ts):
 * a template message or a customer-service message.
 */
import { BadRequestError } from '../../errors.ts';
import type { TemplateMappings } from '../../config/rules.ts';
import { fillPlaceholders, fitValue } from '../../wechat/template-keys.ts';
import type { CustomMessage, SubscribeMessage, TemplateMessage } from '../../wechat/wire.ts';

/** Payload keys that are not template variables. */
const RESERVED = new Set(['templateId', 'subscribeTemplateId', 'subscribeLongTerm', 'url', 'link', 'miniprogram', 'data', 'custom', 'text']);

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
 * The data of a template with a field mapping (HUB_RULES_FILE `templates`): each of the
 * template's keys gets its mapping value with `{{variable}}` filled from the payload, fitted
 * to the key's type (lib/wechat/template-keys.ts: shortened by rule, or refused). A value that
 * cannot fit → BadRequestError `template_data_invalid` (the send fails with the reason; WeChat
 * would answer 47003).
 */
export function mappedTemplateData(mapping: Readonly<Record<string, string>>, payload: Record<string, unknown>): Record<string, { value: string }> {
  const data: Record<string, { value: string }> = {};
  for (const [key, template] of Object.entries(mapping)) {
    const filled = fillPlaceholders(template, payload);
    if (!filled.ok) throw new BadRequestError(`template key ${key}: the payload has no ${filled.missing}`, { key }, 'template_data_invalid');
    const fitted = fitValue(key, filled.value);
    if (!fitted.ok) throw new BadRequestError(`template key ${fitted.reason}`, { key }, 'template_data_invalid');
    data[key] = { value: fitted.value };
  }
  return data;
}

/**
 * A template message from a payload: `templateId`; the template's field mapping when the rules
 * have one (mappedTemplateData), else `data` (WeChat's `{key: {value}}` or plain
 * `{key: value}`), else every scalar payload field as a variable (old-style templates); `url`
 * (or `link`) and `miniprogram` when present. `client_msg_id` is the message id (WeChat's
 * 10-minute dedupe).
 */
export function renderTemplate(payload: Record<string, unknown>, openid: string, clientMsgId: string, mappings: TemplateMappings = {}): TemplateMessage {
  const mapping = Object.prototype.hasOwnProperty.call(mappings, String(payload.templateId)) ? mappings[String(payload.templateId)] : undefined;
  const msg: TemplateMessage = { touser: openid, templateId: String(payload.templateId), data: mapping ? mappedTemplateData(mapping, payload) : payloadData(payload), clientMsgId };
  const url = isUrl(payload.url) ? payload.url : isUrl(payload.link) ? payload.link : undefined;
  if (url) msg.url = url;
  const mp = payload.miniprogram as { appid?: unknown; pagepath?: unknown } | undefined;
  if (mp && typeof mp === 'object' && typeof mp.appid === 'string') {
    msg.miniprogram = { appid: mp.appid, ...(typeof mp.pagepath === 'string' && { pagepath: mp.pagepath }) };
  }
  return msg;
}

/**
 * A subscription message from a payload: `subscribeTemplateId`, its field mapping when the rules
 * have one (typed keys, mappedTemplateData), else the payload's `data` / scalar fields; `link`
 * (or `url`) as the page to open.
 */
export function renderSubscribe(payload: Record<string, unknown>, openid: string, mappings: TemplateMappings = {}): SubscribeMessage {
  const templateId = String(payload.subscribeTemplateId);
  const mapping = Object.prototype.hasOwnProperty.call(mappings, templateId) ? mappings[templateId] : undefined;
  const page = isUrl(payload.link) ? payload.link : isUrl(payload.url) ? payload.url : undefined;
  return { touser: openid, templateId, data: mapping ? mappedTemplateData(mapping, payload) : payloadData(payload), ...(page !== undefined && { page }) };
}

/** Template data straight from the payload (no mapping): `data`, else its scalar fields. */
function payloadData(payload: Record<string, unknown>): Record<string, { value: string }> {
  const data: Record<string, { value: string }> = {};
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
  return data;
}

/** A customer-service message: the payload's wire-format `custom` object, else text (+ link). */
export function renderCustom(payload: Record<string, unknown>, openid: string): CustomMessage {
  const custom = payload.custom;
  if (custom && typeof custom === 'object' && typeof (custom as Record<string, unknown>).msgtype === 'string') {
    return { ...(custom as object), touser: openid } as CustomMessage;
  }
  const text = typeof payload.text === 'string' ? payload.text : '';
  return { touser: openid, msgtype: 'text', text: { content: textWithLink(text, isUrl(payload.link) ? payload.link : payload.url) } };
}

/** A text message's content: the text, then the link on its own line when it is an http(s) URL. */
export function textWithLink(text: string, link: unknown): string {
  return isUrl(link) ? `${text}\n${link}` : text;
}
