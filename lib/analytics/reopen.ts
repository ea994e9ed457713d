/**
 * The verification-free normalise of every webhook source (SOURCES in lib/manifest.ts): an
 * archived request back to the HubEvents the CURRENT code makes of it. Signatures and freshness
 * were checked when the request arrived; here only what turns bytes into events runs — each
 * source's own `normalise` (lib/sources/<id>/source.ts) on the message its `verify` would have
 * handed over. WeChat's message is the decrypted XML (decrypted with the account's current
 * WECHAT_AES_KEY; a push archived before a key change needs the old key in the configuration).
 */
import type { HubConfig } from '../config/schema.ts';
import type { HubEvent } from '../events/hub-event.ts';
import type { SOURCES } from '../manifest.ts';
import type { RequestRecord } from '../archive/records.ts';
import { source as tmall } from '../sources/tmall/source.ts';
import { source as jd } from '../sources/jd/source.ts';
import { source as youzan } from '../sources/youzan/source.ts';
import { decrypt } from '../sources/wechat/crypto.ts';
import { normaliseWechat } from '../sources/wechat/normalise.ts';
import { parseWechatXml, type WechatXml } from '../sources/wechat/xml.ts';
import { normaliseWecom } from '../sources/wecom/normalise.ts';

export type SourceId = (typeof SOURCES)[number]['id'];
export type Reopen = (rec: RequestRecord, cfg: HubConfig) => HubEvent[];

/** The archived body as the bytes received (phones masked, lib/archive/redact.ts). */
export const bodyOf = (rec: RequestRecord): Buffer => Buffer.from(rec.body, rec.body_encoding === 'base64' ? 'base64' : 'utf8');
const jsonOf = (text: string): Record<string, string> => JSON.parse(text) as Record<string, string>;

/** WeChat: decrypt when the push was encrypted, parse, normalise with `normalise` (default: the current one). */
export function reopenWechat(normalise: (msg: WechatXml, appId: string) => HubEvent = normaliseWechat): Reopen {
  return (rec, cfg) => {
    const query = jsonOf(rec.query);
    let xml = bodyOf(rec).toString('utf8');
    if (query.encrypt_type?.toLowerCase() === 'aes') {
      const ciphertext = parseWechatXml(xml).Encrypt ?? '';
      if (!cfg.WECHAT_AES_KEY) throw new Error('an encrypted WeChat push needs WECHAT_AES_KEY to be rebuilt');
      xml = decrypt(ciphertext, { aesKey: cfg.WECHAT_AES_KEY, appId: rec.account });
    }
    return [normalise(parseWechatXml(xml), rec.account)];
  };
}

/** Every source's reopen; the type makes a source added to SOURCES without one a compile error. */
export const REOPEN: Record<SourceId, Reopen> = {
  wechat: reopenWechat(),
  tmall: (rec, cfg) => tmall.normalise({ message: bodyOf(rec) }, cfg),
  jd: (rec, cfg) => jd.normalise({ message: bodyOf(rec) }, cfg),
  youzan: (rec, cfg) => {
    const eventType = jsonOf(rec.headers)['event-type'];
    return youzan.normalise({ message: { body: bodyOf(rec), ...(eventType ? { eventType } : {}) } }, cfg);
  },
  // WeCom callbacks are always encrypted, with the corp id as the receive id.
  wecom: (rec, cfg) => {
    if (!cfg.WECOM_AES_KEY) throw new Error('a WeCom callback needs WECOM_AES_KEY to be rebuilt');
    const ciphertext = parseWechatXml(bodyOf(rec).toString('utf8')).Encrypt ?? '';
    return [normaliseWecom(parseWechatXml(decrypt(ciphertext, { aesKey: cfg.WECOM_AES_KEY, appId: rec.account })), rec.account)];
  },
};

export const isSourceId = (s: string): s is SourceId => Object.hasOwn(REOPEN, s);
