/**
 * One parsed WeChat push → exactly one HubEvent.
 *
 * Mapping:
 * - event `subscribe` → `wechat.follow`; `scene` from `EventKey=qrscene_<scene>` (with `Ticket`),
 *   null when EventKey is absent, empty, `qrscene_` alone or carries no `qrscene_` prefix;
 * - event `SCAN` with a non-empty EventKey (the bare scene) → `wechat.scan`;
 * - event `unsubscribe` → `wechat.unfollow`;
 * - events CLICK / scancode_push / scancode_waitmsg / VIEW / LOCATION and messages text / image /
 *   voice / video / shortvideo / location / link → `wechat.interaction` (kind `click`, `scancode`,
 *   `view`, `location`, `message`: which of them opens a customer-service window is
 *   lib/engagement/windows.ts);
 * - events `subscribe_msg_popup_event` / `subscribe_msg_change_event` / `subscribe_msg_sent_event`
 *   → `wechat.subscription` (action popup / change / sent, one item per `<List>`);
 * - event `TEMPLATESENDJOBFINISH` → `wechat.template_receipt` (status: `success` → delivered,
 *   `failed…user block…` → user_blocked, anything else → failed; spacing and case ignored);
 * - event `MASSSENDJOBFINISH` → `wechat.mass_receipt` (status: `send success` → sent, `err(<n>)`
 *   → rejected, anything else → failed; the four counts, absent ones as 0);
 * - anything else (including SCAN without EventKey) → `wechat.unknown`.
 * Event names are matched case-insensitively; ids keep the raw strings.
 *
 * eventId (the dedupe key, WeChat's own duplicate semantics):
 * - messages: `wechat:msg:<ToUserName>|<FromUserName>|<MsgId>`
 *   (no MsgId: `wechat:msg:<ToUserName>|<FromUserName>|<CreateTime>|<MsgType>`);
 * - events: `wechat:evt:<ToUserName>|<FromUserName>|<CreateTime>|<Event>|<EventKey>`, plus
 *   `|<MsgID>` for TEMPLATESENDJOBFINISH and MASSSENDJOBFINISH; an absent EventKey counts as empty;
 * - an id longer than 512 characters becomes `wechat:<msg|evt>:sha256:<hex of the full id>`.
 * All ids are built from the raw strings (never numbers), so 64-bit MsgIds stay distinct.
 *
 * Errors (BadRequestError 400): FromUserName, CreateTime or MsgType missing/empty
 * (`missing_field`); CreateTime not an integer of seconds (`bad_field`); a candidate event the
 * HubEvent schema rejects, e.g. a scene over 64 characters (`invalid_event`).
 */
import { createHash } from 'node:crypto';
import { BadRequestError } from '../../errors.ts';
import { HubEvent, type WechatEvent } from '../../events/hub-event.ts';
import type { WechatXml } from './xml.ts';

export type TemplateStatus = 'delivered' | 'user_blocked' | 'failed';

const MESSAGE_TYPES = new Set(['text', 'image', 'voice', 'video', 'shortvideo', 'location', 'link']);
const MAX_EVENT_ID = 512;
const MAX_DETAIL = 2048;

export function field(msg: WechatXml, name: string): string | undefined {
  const value = Object.prototype.hasOwnProperty.call(msg, name) ? msg[name] : undefined;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function required(msg: WechatXml, name: string): string {
  const value = field(msg, name);
  if (value === undefined) {
    throw new BadRequestError(`WeChat message has no ${name}`, { field: name }, 'missing_field');
  }
  return value;
}

/** At most `max` UTF-16 units without splitting a surrogate pair. */
export function clip(value: string, max: number): string {
  if (value.length <= max) return value;
  let end = max;
  const code = value.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return value.slice(0, end);
}

function composeId(kind: 'msg' | 'evt', parts: readonly string[]): string {
  const raw = `wechat:${kind}:${parts.join('|')}`;
  if (raw.length <= MAX_EVENT_ID) return raw;
  return `wechat:${kind}:sha256:${createHash('sha256').update(raw, 'utf8').digest('hex')}`;
}

/** Maps TEMPLATESENDJOBFINISH's Status strings, tolerant of spacing and case. */
export function templateStatus(raw: string): TemplateStatus {
  const s = raw.toLowerCase().replace(/\s+/g, '');
  if (s === 'success') return 'delivered';
  if (s.startsWith('failed') && s.includes('userblock')) return 'user_blocked';
  return 'failed';
}

/** Receipts carry the msgid of what they report on: it is part of their dedupe key. */
const RECEIPT_EVENTS: ReadonlySet<string> = new Set(['TEMPLATESENDJOBFINISH', 'MASSSENDJOBFINISH']);

/** Maps MASSSENDJOBFINISH's Status strings (`send success`, `send fail`, `err(<n>)`), tolerant of spacing and case. */
export function massSendStatus(raw: string): 'sent' | 'failed' | 'rejected' {
  const s = raw.toLowerCase().replace(/\s+/g, '');
  if (s === 'sendsuccess') return 'sent';
  if (/^err\(\d+\)$/.test(s)) return 'rejected';
  return 'failed';
}

/** A count field: absent → 0; anything but a decimal integer → NaN (the schema rejects it, 400). */
function count(msg: WechatXml, name: string): number {
  const v = field(msg, name);
  if (v === undefined) return 0;
  return /^\d{1,15}$/.test(v.trim()) ? Number(v.trim()) : Number.NaN;
}

/** The dedupe key of one parsed push (see the module comment). */
export function wechatEventId(msg: WechatXml): string {
  const to = field(msg, 'ToUserName') ?? '';
  const from = required(msg, 'FromUserName');
  const createTime = required(msg, 'CreateTime');
  const msgType = required(msg, 'MsgType');
  if (msgType.toLowerCase() === 'event') {
    const event = field(msg, 'Event') ?? '';
    const parts = [to, from, createTime, event, field(msg, 'EventKey') ?? ''];
    if (RECEIPT_EVENTS.has(event.toUpperCase())) {
      parts.push(field(msg, 'MsgID') ?? field(msg, 'MsgId') ?? '');
    }
    return composeId('evt', parts);
  }
  const msgId = field(msg, 'MsgId') ?? field(msg, 'MsgID');
  if (msgId !== undefined) return composeId('msg', [to, from, msgId]);
  return composeId('msg', [to, from, createTime, msgType]);
}

function messageDetail(msgType: string, msg: WechatXml): string | undefined {
  switch (msgType) {
    case 'text':
      return field(msg, 'Content');
    case 'image':
      return field(msg, 'PicUrl') ?? field(msg, 'MediaId');
    case 'voice':
    case 'video':
    case 'shortvideo':
      return field(msg, 'MediaId');
    case 'location': {
      const x = field(msg, 'Location_X');
      const y = field(msg, 'Location_Y');
      return x !== undefined && y !== undefined ? `${x},${y}` : undefined;
    }
    case 'link':
      return field(msg, 'Url');
    default:
      return undefined;
  }
}

function withDetail<T extends object>(base: T, detail: string | undefined): T & { detail?: string } {
  return detail === undefined ? base : { ...base, detail: clip(detail, MAX_DETAIL) };
}

function validate(candidate: Record<string, unknown>): WechatEvent {
  const result = HubEvent.safeParse(candidate);
  if (!result.success) {
    const issues = result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw new BadRequestError('WeChat message does not form a valid event', { issues }, 'invalid_event');
  }
  return result.data as WechatEvent;
}

/** A subscription-message event: its `<List>` items (xml.ts keeps them as a JSON array). */
function subscriptionEvent(base: Record<string, unknown>, action: 'popup' | 'change' | 'sent', msg: WechatXml, wrappers: readonly string[]): WechatEvent {
  const wrapper = wrappers.find((w) => field(msg, w) !== undefined);
  const items = wrapper === undefined ? [] : (JSON.parse(msg[wrapper]!) as Record<string, string>[]);
  return validate({
    ...base,
    type: 'wechat.subscription',
    action,
    items: items.map((i) => ({
      templateId: i.TemplateId,
      status: action === 'sent' ? (i.ErrorStatus ?? (i.ErrorCode === '0' ? 'success' : 'failed')) : i.SubscribeStatusString,
      ...(i.PopupScene !== undefined && { popupScene: i.PopupScene }),
      ...(i.MsgID !== undefined && { msgId: i.MsgID }),
      ...(i.ErrorCode !== undefined && { errorCode: i.ErrorCode }),
    })),
  });
}

/**
 * Turns the parsed push of account `appId` (the appid the request URL names) into one
 * validated HubEvent. Throws BadRequestError (see the module comment).
 */
export function normaliseWechat(msg: WechatXml, appId: string): WechatEvent {
  const openid = required(msg, 'FromUserName');
  const createTime = required(msg, 'CreateTime');
  const msgType = required(msg, 'MsgType');
  if (!/^\d{1,12}$/.test(createTime)) {
    throw new BadRequestError('WeChat CreateTime is not unix seconds', { field: 'CreateTime' }, 'bad_field');
  }
  const base = {
    eventId: wechatEventId(msg),
    occurredAt: Number(createTime) * 1000,
    source: 'wechat' as const,
    appId,
    openid,
  };
  const type = msgType.toLowerCase();

  if (type === 'event') {
    const rawEvent = field(msg, 'Event');
    const event = rawEvent?.toUpperCase();
    const eventKey = field(msg, 'EventKey');
    const ticket = field(msg, 'Ticket');
    const ticketPart = ticket === undefined ? {} : { ticket };
    switch (event) {
      case 'SUBSCRIBE': {
        const scene =
          eventKey !== undefined && eventKey.startsWith('qrscene_') && eventKey.length > 'qrscene_'.length
            ? eventKey.slice('qrscene_'.length)
            : null;
        return validate({ ...base, type: 'wechat.follow', scene, ...ticketPart });
      }
      case 'SCAN':
        if (eventKey !== undefined) {
          return validate({ ...base, type: 'wechat.scan', scene: eventKey, ...ticketPart });
        }
        break;
      case 'UNSUBSCRIBE':
        return validate({ ...base, type: 'wechat.unfollow' });
      case 'CLICK':
        return validate(withDetail({ ...base, type: 'wechat.interaction', kind: 'click', msgType }, eventKey));
      case 'SCANCODE_PUSH':
      case 'SCANCODE_WAITMSG':
        return validate(withDetail({ ...base, type: 'wechat.interaction', kind: 'scancode', msgType }, eventKey));
      case 'VIEW':
        return validate(withDetail({ ...base, type: 'wechat.interaction', kind: 'view', msgType }, eventKey));
      case 'LOCATION': {
        const lat = field(msg, 'Latitude');
        const lng = field(msg, 'Longitude');
        const detail = lat !== undefined && lng !== undefined ? `${lat},${lng}` : undefined;
        return validate(withDetail({ ...base, type: 'wechat.interaction', kind: 'location', msgType }, detail));
      }
      case 'TEMPLATESENDJOBFINISH': {
        const rawStatus = field(msg, 'Status') ?? '';
        return validate({
          ...base,
          type: 'wechat.template_receipt',
          msgId: field(msg, 'MsgID') ?? field(msg, 'MsgId'),
          status: templateStatus(rawStatus),
          rawStatus: clip(rawStatus, 128),
        });
      }
      case 'MASSSENDJOBFINISH': {
        const rawStatus = field(msg, 'Status') ?? '';
        return validate({
          ...base,
          type: 'wechat.mass_receipt',
          msgId: field(msg, 'MsgID') ?? field(msg, 'MsgId'),
          status: massSendStatus(rawStatus),
          rawStatus: clip(rawStatus, 128),
          totalCount: count(msg, 'TotalCount'),
          filterCount: count(msg, 'FilterCount'),
          sentCount: count(msg, 'SentCount'),
          errorCount: count(msg, 'ErrorCount'),
        });
      }
      case 'SUBSCRIBE_MSG_POPUP_EVENT':
        return subscriptionEvent(base, 'popup', msg, ['SubscribeMsgPopupEvent']);
      case 'SUBSCRIBE_MSG_CHANGE_EVENT':
        // The official sample labels this wrapper SubscribeMsgPopupEvent too: both are read.
        return subscriptionEvent(base, 'change', msg, ['SubscribeMsgChangeEvent', 'SubscribeMsgPopupEvent']);
      case 'SUBSCRIBE_MSG_SENT_EVENT':
        return subscriptionEvent(base, 'sent', msg, ['SubscribeMsgSentEvent']);
      default:
        break;
    }
    return validate({
      ...base,
      type: 'wechat.unknown',
      msgType: clip(msgType, 64),
      ...(rawEvent === undefined ? {} : { event: clip(rawEvent, 64) }),
    });
  }

  if (MESSAGE_TYPES.has(type)) {
    const msgId = field(msg, 'MsgId') ?? field(msg, 'MsgID');
    return validate(
      withDetail(
        {
          ...base,
          type: 'wechat.interaction',
          kind: 'message',
          msgType,
          ...(msgId === undefined ? {} : { msgId }),
        },
        messageDetail(type, msg),
      ),
    );
  }

  return validate({ ...base, type: 'wechat.unknown', msgType: clip(msgType, 64) });
}
