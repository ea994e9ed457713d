/** WeCom callbacks as WeCom sends them: XML sealed with the corp's key (receive id = corp id) and msg_signature. */
import { createHash } from 'node:crypto';
import { hubConfig } from './env.ts';
import { encrypt, msgSignature } from '../../lib/sources/wechat/crypto.ts';
import type { SignedRequest } from './wechat-client.ts';

export interface ContactSpec {
  change: string;
  userId: string;
  externalUserId: string;
  createTime: number;
  state?: string;
  welcomeCode?: string;
  source?: string;
}

/** The decrypted `change_external_contact` XML of a spec. */
export function contactXml(s: ContactSpec, corpId = hubConfig().WECOM_CORP_ID!): string {
  const opt = (name: string, v: string | undefined) => (v === undefined ? '' : `<${name}><![CDATA[${v}]]></${name}>`);
  return (
    `<xml><ToUserName><![CDATA[${corpId}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>${s.createTime}</CreateTime>` +
    `<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[${s.change}]]></ChangeType>` +
    `<UserID><![CDATA[${s.userId}]]></UserID><ExternalUserID><![CDATA[${s.externalUserId}]]></ExternalUserID>` +
    `${opt('State', s.state)}${opt('WelcomeCode', s.welcomeCode)}${opt('Source', s.source)}</xml>`
  );
}

/**
 * Any XML sealed and signed as WeCom would send it to /wecom/{corpId}; the same XML, timestamp
 * and nonce always give the same request (the IV is derived from them), as WeCom's retries do.
 */
export function signedCallback(xml: string, timestamp: string, nonce = `${timestamp}7`, cfg = hubConfig()): SignedRequest {
  const corpId = cfg.WECOM_CORP_ID!;
  const iv = createHash('sha256').update(`${xml}|${timestamp}|${nonce}`).digest().subarray(0, 16);
  const enc = encrypt(xml, { aesKey: cfg.WECOM_AES_KEY!, appId: corpId }, iv);
  const sig = msgSignature(cfg.WECOM_TOKEN!, timestamp, nonce, enc);
  return {
    path: `/wecom/${corpId}?msg_signature=${sig}&timestamp=${timestamp}&nonce=${nonce}`,
    body: `<xml><ToUserName><![CDATA[${corpId}]]></ToUserName><Encrypt><![CDATA[${enc}]]></Encrypt><AgentID><![CDATA[${cfg.WECOM_AGENT_ID ?? ''}]]></AgentID></xml>`,
  };
}

/** A signed contact-change callback whose timestamp is its CreateTime. */
export const signedContact = (s: ContactSpec): SignedRequest => signedCallback(contactXml(s), String(s.createTime));
