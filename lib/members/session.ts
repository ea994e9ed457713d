/**
 * Member sessions for the member centre (docs/design.md#wechat-accounts):
 *   POST /sessions {appId, oauthCode | loginCode} → {token, expiresAt}
 *   member routes (GET /me and the member centre of lib/loyalty/centre.ts): Authorization: Bearer <token>
 *
 * The token is `<payload>.<mac>`: the payload the base64url of `{a: appId, o: openid, exp}`
 * (exp in epoch seconds, HUB_SESSION_TTL_SECONDS after issue), the mac the base64url of
 * HMAC-SHA256(HUB_SESSION_SECRET, payload). A compact HMAC token of one issuer and one reader
 * (this function) needs no algorithm negotiation, so no JWT library. The token names the WeChat
 * address, not a member id: a merge never leaves a session pointing at a merged-away record.
 *
 * Errors: no secret configured → 503 (the routes are off, nothing else is); a missing, malformed,
 * forged or expired token → 401; a caller not yet known to the hub → 404 on GET /me.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import type { HubConfig } from '../config/index.ts';
import { BadRequestError, NotFoundError, SignatureError, TransientError } from '../errors.ts';
import type { WechatApi } from '../wechat/wire.ts';
import type { Store } from '../store/client.ts';
import { identities } from '../store/entities/identity.ts';
import { CallerFields, identifyCaller, issues } from './caller.ts';
import { wechatIdentity } from './identity.ts';
import { readMember, type StoredMember } from './record.ts';
import { identityRef } from '../store/entities/identity.ts';

const SessionRequest = z.strictObject(CallerFields);
const Payload = z.object({ a: z.string().min(1).max(64), o: z.string().min(1).max(128), exp: z.number().int() });
type Payload = z.infer<typeof Payload>;

function secretOf(cfg: HubConfig): string {
  const s = cfg.HUB_SESSION_SECRET;
  if (!s) throw new TransientError('member sessions are not configured (HUB_SESSION_SECRET)');
  return s;
}

const mac = (secret: string, payload: string) => createHmac('sha256', secret).update(payload, 'utf8').digest('base64url');

/** A signed token for the address, valid HUB_SESSION_TTL_SECONDS from `now` (ms). */
export function issueToken(cfg: HubConfig, appId: string, openid: string, now: number): { token: string; expiresAt: number } {
  const exp = Math.floor(now / 1000) + cfg.HUB_SESSION_TTL_SECONDS;
  const payload = Buffer.from(JSON.stringify({ a: appId, o: openid, exp } satisfies Payload), 'utf8').toString('base64url');
  return { token: `${payload}.${mac(secretOf(cfg), payload)}`, expiresAt: exp * 1000 };
}

/** The address a token names; SignatureError (401) for anything but a valid, unexpired token. */
export function verifyToken(cfg: HubConfig, token: string | undefined, now: number): Payload {
  const m = /^([A-Za-z0-9_-]{1,600})\.([A-Za-z0-9_-]{43})$/.exec(token ?? '');
  if (!m) throw new SignatureError('a member session token is required (Authorization: Bearer <token>)');
  const want = Buffer.from(mac(secretOf(cfg), m[1]!));
  const got = Buffer.from(m[2]!);
  if (want.length !== got.length || !timingSafeEqual(want, got)) throw new SignatureError('the session token does not verify');
  let payload: Payload;
  try {
    payload = Payload.parse(JSON.parse(Buffer.from(m[1]!, 'base64url').toString('utf8')));
  } catch {
    throw new SignatureError('the session token does not verify');
  }
  if (payload.exp * 1000 <= now) throw new SignatureError('the session token has expired: sign in again');
  return payload;
}

/** POST /sessions: who the code says the caller is → a token. */
export async function createSession(body: unknown, deps: { cfg: HubConfig; api: WechatApi; wechat?: (appId: string) => WechatApi; now: number }) {
  const parsed = SessionRequest.safeParse(body);
  if (!parsed.success) throw new BadRequestError('invalid session request', issues(parsed.error));
  secretOf(deps.cfg);
  const caller = await identifyCaller(parsed.data, deps);
  return issueToken(deps.cfg, caller.appId, caller.openid, deps.now);
}

export interface SessionDeps {
  cfg: HubConfig;
  store: Store;
  now: number;
}

/**
 * The caller of a member route: the WeChat address its token names and the record that address
 * leads to (the merge survivor). 401 without a valid token; 404 when the hub knows no record.
 */
export async function sessionMember(authorization: string | undefined, deps: SessionDeps): Promise<{ appId: string; openid: string; member: StoredMember }> {
  const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
  const who = verifyToken(deps.cfg, token, deps.now);
  const id = wechatIdentity(who.a, who.o);
  const memberId = (await identities.readMany(deps.store, [id])).get(identityRef(id));
  const m = memberId ? await readMember(deps.store, memberId) : undefined;
  if (!m) throw new NotFoundError('no member record for this WeChat user yet');
  return { appId: who.a, openid: who.o, member: m };
}
