/** Builds signed WeChat pushes exactly as WeChat's servers send them (plain and safe mode), and posts them to a hub. */
import { hubConfig } from './active.ts';
import { createHash } from 'node:crypto';
import { sha1Signature } from '../../lib/sources/wechat/signature.ts';
import { encrypt, msgSignature } from '../../lib/sources/wechat/crypto.ts';


export interface PushSpec {
  from: string;
  to?: string;
  createTime: number;
  msgType: 'event' | 'text';
  event?: string;
  eventKey?: string;
  ticket?: string;
  msgId?: string;
  content?: string;
}

export function pushXml(p: PushSpec): string {
  const parts = [
    `<ToUserName><![CDATA[${p.to ?? 'gh_hub'}]]></ToUserName>`,
    `<FromUserName><![CDATA[${p.from}]]></FromUserName>`,
    `<CreateTime>${p.createTime}</CreateTime>`,
    `<MsgType><![CDATA[${p.msgType}]]></MsgType>`,
  ];
  if (p.event) parts.push(`<Event><![CDATA[${p.event}]]></Event>`);
  if (p.eventKey !== undefined) parts.push(`<EventKey><![CDATA[${p.eventKey}]]></EventKey>`);
  if (p.ticket) parts.push(`<Ticket><![CDATA[${p.ticket}]]></Ticket>`);
  if (p.content) parts.push(`<Content><![CDATA[${p.content}]]></Content>`);
  if (p.msgId) parts.push(`<MsgId>${p.msgId}</MsgId>`);
  return `<xml>${parts.join('')}</xml>`;
}

export interface SignedRequest {
  path: string;
  body: string;
}

/**
 * A push as WeChat would send it, its `timestamp` the message's CreateTime (or `timestamp`);
 * the same spec and nonce always give the same request, as WeChat's own retries do (the AES IV
 * is derived from them). Mode: `safe` for an account with an EncodingAESKey, else `plain`.
 */
export function signedPush(
  p: PushSpec,
  cfg: { appId: string; token: string; aesKey?: string | undefined },
  mode: 'plain' | 'safe' = cfg.aesKey ? 'safe' : 'plain',
  nonce = String(p.createTime % 1_000_000_007),
  timestamp = String(p.createTime),
): SignedRequest {
  return signedXml(pushXml(p), p.from, cfg, mode, nonce, timestamp, p.to);
}

/** Any XML body (well-formed or not) signed, and in safe mode sealed, as WeChat would send it. */
export function signedXml(
  xml: string,
  from: string,
  cfg: { appId: string; token: string; aesKey?: string | undefined },
  mode: 'plain' | 'safe',
  nonce: string,
  timestamp: string,
  to = 'gh_hub',
): SignedRequest {
  const signature = sha1Signature(cfg.token, timestamp, nonce);
  if (mode === 'plain') {
    return { path: `/wechat/${cfg.appId}?signature=${signature}&timestamp=${timestamp}&nonce=${nonce}&openid=${from}`, body: xml };
  }
  if (!cfg.aesKey) throw new Error('a safe-mode push needs the account\'s EncodingAESKey');
  const iv = createHash('sha256').update(`${xml}|${timestamp}|${nonce}`).digest().subarray(0, 16);
  const enc = encrypt(xml, { aesKey: cfg.aesKey, appId: cfg.appId }, iv);
  const ms = msgSignature(cfg.token, timestamp, nonce, enc);
  return {
    path: `/wechat/${cfg.appId}?signature=${signature}&timestamp=${timestamp}&nonce=${nonce}&openid=${from}&encrypt_type=aes&msg_signature=${ms}`,
    body: `<xml><ToUserName><![CDATA[${to}]]></ToUserName><Encrypt><![CDATA[${enc}]]></Encrypt></xml>`,
  };
}

/** The configured official account (hubConfig()) in the shape signedPush takes. */
export function configuredAccount(): { appId: string; token: string; aesKey: string | undefined } {
  const cfg = hubConfig();
  return { appId: cfg.WECHAT_APP_ID, token: cfg.WECHAT_TOKEN, aesKey: cfg.WECHAT_MESSAGE_MODE === 'safe' ? cfg.WECHAT_AES_KEY : undefined };
}

/** POSTs a signed push to the hub at `base`; the reply's status and text. */
export async function postPush(base: string, req: SignedRequest, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const res = await fetch(base + req.path, { method: 'POST', body: req.body, headers });
  return { status: res.status, body: await res.text() };
}
