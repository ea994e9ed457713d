/**
 * The member centre's registration: validates the request, exchanges the OAuth code for the
 * openid, hashes the phone and applies `member.register`. Everything is checked before any write.
 */
import * as z from 'zod';
import { BadRequestError, UpstreamApiError } from '../errors.ts';
import type { HubConfig } from '../config/index.ts';
import type { WechatApi } from '../wechat/api.ts';
import { hashPhone, maskPhone, normalisePhone } from './phone.ts';
import { apply, type ApplyDeps } from '../apply/index.ts';
import { readMember } from './record.ts';
import { memberView } from './view.ts';
import { ddb, tableName } from '../store/client.ts';
import { stableId } from '../ids.ts';

export const RegisterRequest = z.strictObject({
  appId: z.string().min(1).max(64),
  oauthCode: z.string().min(1).max(512),
  phone: z.string().min(1).max(32),
  name: z.string().trim().min(1).max(64).optional(),
  birthday: z.string().regex(/^(\d{4}-)?\d{2}-\d{2}$/, 'birthday is YYYY-MM-DD or MM-DD').optional(),
});

/** Exchanges an OAuth code; a code WeChat rejects is the caller's error (400), an outage is transient. */
export async function openidFromOauth(api: WechatApi, code: string): Promise<string> {
  try {
    return (await api.oauthExchange(code)).openid;
  } catch (err) {
    if (err instanceof UpstreamApiError && !err.retryable) throw new BadRequestError('the oauthCode was rejected by WeChat (expired, used or invalid)', undefined, 'invalid_oauth_code');
    throw err;
  }
}

export async function register(body: unknown, deps: { cfg: HubConfig; api: WechatApi; apply?: ApplyDeps }) {
  const parsed = RegisterRequest.safeParse(body);
  if (!parsed.success) throw new BadRequestError('invalid registration', parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`));
  const req = parsed.data;
  if (req.appId !== deps.cfg.WECHAT_APP_ID) throw new BadRequestError(`unknown appId ${req.appId}`, undefined, 'unknown_app');
  const phone = normalisePhone(req.phone);
  const openid = await openidFromOauth(deps.api, req.oauthCode);
  const phoneHash = hashPhone(phone, deps.cfg.PHONE_HASH_SECRET);
  const result = await apply(
    {
      type: 'member.register',
      source: 'members',
      // The phone's HMAC is an identity value: the dedupe key (shown in merge records) carries a digest of it.
      eventId: `members:register:${req.appId}:${openid}:${stableId('register-phone', phoneHash)}`,
      occurredAt: Date.now(),
      appId: req.appId,
      openid,
      phoneHash,
      phoneMasked: maskPhone(phone),
      ...(req.name ? { name: req.name } : {}),
      ...(req.birthday ? { birthday: req.birthday } : {}),
    },
    deps.apply,
  );
  const store = deps.apply ? { db: deps.apply.db, table: deps.apply.table } : { db: ddb(), table: tableName() };
  const member = await readMember(store, result.memberId!);
  return { status: result.status, member: member ? memberView(member) : undefined };
}
