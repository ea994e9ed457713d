/**
 * One decrypted WeCom callback → exactly one HubEvent (docs/platforms.md#wecom-callback-events).
 *
 * - `MsgType=event`, `Event=change_external_contact` with a ChangeType of WECOM_CHANGE_TYPES →
 *   `wecom.contact` (UserID and ExternalUserID required; State, WelcomeCode, Source, FailReason
 *   carried when present);
 * - anything else (messages, other events, other change types such as msg_audit_approved) →
 *   `wecom.unknown`: recorded and answered `success`.
 *
 * eventId: `wecom:<corpId>:<ChangeType>|<UserID>|<ExternalUserID>|<CreateTime>` for contact
 * changes (WeCom's retries repeat all four); `wecom:<corpId>:other:<sha256 of the sorted fields>`
 * otherwise.
 *
 * Errors (BadRequestError 400): CreateTime or MsgType missing (`missing_field`), CreateTime not
 * unix seconds (`bad_field`), a contact change without UserID / ExternalUserID (`missing_field`),
 * a candidate the HubEvent schema rejects, e.g. a State over 30 characters (`invalid_event`).
 */
import { createHash } from 'node:crypto';
import { BadRequestError } from '../../errors.ts';
import { HubEvent, WECOM_CHANGE_TYPES, type WecomEvent } from '../../events/hub-event.ts';
import { clip, field, required } from '../wechat/normalise.ts';
import type { WechatXml } from '../wechat/xml.ts';

const CHANGE_TYPES: ReadonlySet<string> = new Set(WECOM_CHANGE_TYPES);

function validate(candidate: Record<string, unknown>): WecomEvent {
  const result = HubEvent.safeParse(candidate);
  if (!result.success) {
    const issues = result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw new BadRequestError('WeCom callback does not form a valid event', { issues }, 'invalid_event');
  }
  return result.data as WecomEvent;
}

/** The dedupe key of a callback that is not a contact change: a digest of all its fields. */
function otherId(corpId: string, msg: WechatXml): string {
  const canonical = JSON.stringify(Object.keys(msg).sort().map((k) => [k, msg[k]]));
  return `wecom:${corpId}:other:${createHash('sha256').update(canonical, 'utf8').digest('hex')}`;
}

/** The event of one decrypted callback of corp `corpId`. Throws BadRequestError (see the module comment). */
export function normaliseWecom(msg: WechatXml, corpId: string): WecomEvent {
  const createTime = required(msg, 'CreateTime');
  const msgType = required(msg, 'MsgType');
  if (!/^\d{1,12}$/.test(createTime)) {
    throw new BadRequestError('WeCom CreateTime is not unix seconds', { field: 'CreateTime' }, 'bad_field');
  }
  const base = { occurredAt: Number(createTime) * 1000, source: 'wecom' as const, corpId };
  const event = field(msg, 'Event');
  const changeType = field(msg, 'ChangeType');
  if (msgType === 'event' && event === 'change_external_contact' && changeType !== undefined && CHANGE_TYPES.has(changeType)) {
    const userId = required(msg, 'UserID');
    const externalUserId = required(msg, 'ExternalUserID');
    const optional = { state: field(msg, 'State'), welcomeCode: field(msg, 'WelcomeCode'), deleteSource: field(msg, 'Source'), failReason: field(msg, 'FailReason') };
    return validate({
      ...base,
      eventId: `wecom:${corpId}:${[changeType, userId, externalUserId, createTime].join('|')}`,
      type: 'wecom.contact',
      change: changeType,
      userId,
      externalUserId,
      ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
    });
  }
  return validate({
    ...base,
    eventId: otherId(corpId, msg),
    type: 'wecom.unknown',
    msgType: clip(msgType, 64),
    ...(event === undefined ? {} : { event: clip(event, 64) }),
    ...(changeType === undefined ? {} : { changeType: clip(changeType, 64) }),
  });
}
