/**
 * `npm run invoke -- <source> <file> [--base URL] [--mode plain|safe]`
 * Sends a sample payload (events/<source>/…) to a running hub exactly as the platform would:
 * signed with the configured secrets (local defaults unless set), through the HTTP gateway,
 * with the current time as its timestamp. A WeChat sample's CreateTime is set to now as well
 * (the hub refuses a CreateTime outside HUB_WEBHOOK_MAX_SKEW_SECONDS of the timestamp); the
 * mode defaults to the account's (safe with an EncodingAESKey, plain without).
 *   npm run invoke -- wechat events/wechat/event-subscribe-qrscene.official.xml
 *   npm run invoke -- tmall  events/tmall/taobao-tmc-trade-success.json
 *   npm run invoke -- jd     events/jd/jd-order-trigger-INTERNAL-shape-UNCONFIRMED.json
 *   npm run invoke -- youzan events/youzan/youzan-push-trade-paid.json
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../lib/config/index.ts';
import { sha1Signature } from '../lib/sources/wechat/signature.ts';
import { encrypt, msgSignature } from '../lib/sources/wechat/crypto.ts';
import { signJdParams } from '../lib/sources/jd/sign.ts';
import { signTopParams } from '../lib/sources/tmall/sign.ts';
import { youzanEventSign } from '../lib/sources/youzan/sign.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { base: { type: 'string' }, mode: { type: 'string' } },
});
const [source, file] = positionals;
if (!source || !file || !['wechat', 'tmall', 'jd', 'youzan'].includes(source)) {
  console.error('usage: npm run invoke -- <wechat|tmall|jd|youzan> <file> [--base URL] [--mode plain|safe]');
  process.exit(2);
}
const cfg = loadConfig({ env: process.env });
const base = values.base ?? `http://127.0.0.1:${cfg.PORT}`;
const body = readFileSync(file, 'utf8');
const mode = values.mode ?? cfg.WECHAT_MESSAGE_MODE;
const now = Date.now();
/** TOP and JD timestamps: `yyyy-MM-dd HH:mm:ss` in China time. */
const chinaTime = new Date(now + 8 * 3_600_000).toISOString().replace('T', ' ').slice(0, 19);

let url: string;
const headers: Record<string, string> = { 'content-type': 'application/json' };
let payload = body;
switch (source) {
  case 'wechat': {
    const timestamp = String(Math.floor(now / 1000));
    const nonce = randomBytes(5).toString('hex');
    const signature = sha1Signature(cfg.WECHAT_TOKEN, timestamp, nonce);
    url = `${base}/wechat/${cfg.WECHAT_APP_ID}?signature=${signature}&timestamp=${timestamp}&nonce=${nonce}`;
    headers['content-type'] = 'text/xml';
    payload = body.replace(/<CreateTime>\s*\d+\s*<\/CreateTime>/, `<CreateTime>${timestamp}</CreateTime>`);
    if (mode === 'safe') {
      if (!cfg.WECHAT_AES_KEY) throw new Error('safe mode needs WECHAT_AES_KEY');
      const enc = encrypt(payload, { aesKey: cfg.WECHAT_AES_KEY, appId: cfg.WECHAT_APP_ID });
      url += `&encrypt_type=aes&msg_signature=${msgSignature(cfg.WECHAT_TOKEN, timestamp, nonce, enc)}`;
      payload = `<xml><Encrypt><![CDATA[${enc}]]></Encrypt></xml>`;
    }
    break;
  }
  case 'tmall': {
    const q = { app_key: cfg.TMALL_APP_KEY, timestamp: chinaTime, sign_method: 'md5' };
    url = `${base}/tmall/${cfg.TMALL_APP_KEY}?${new URLSearchParams({ ...q, sign: signTopParams(q, cfg.TMALL_APP_SECRET, 'md5', body) })}`;
    break;
  }
  case 'jd': {
    const q = { app_key: cfg.JD_APP_KEY, timestamp: chinaTime };
    url = `${base}/jd/${cfg.JD_APP_KEY}?${new URLSearchParams({ ...q, sign: signJdParams(q, cfg.JD_APP_SECRET, body) })}`;
    break;
  }
  default:
    url = `${base}/youzan/${cfg.YOUZAN_CLIENT_ID}`;
    headers['event-sign'] = youzanEventSign(cfg.YOUZAN_CLIENT_ID, body, cfg.YOUZAN_CLIENT_SECRET);
}

const res = await fetch(url, { method: 'POST', headers, body: payload });
console.log(`${res.status} ${res.statusText}`);
console.log(await res.text());
process.exit(res.ok ? 0 : 1);
