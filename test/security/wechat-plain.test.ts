/**
 * A plain-mode account (WECHAT_MESSAGE_MODE=plain: no EncodingAESKey, pushes signed over token,
 * timestamp and nonce only) against the local runtime: the nonce cache refuses a captured URL
 * replayed with another body (401, nothing written) while WeChat's identical retry is answered
 * `success` with no second effect; an encrypted push to it is refused.
 */
import { describe, expect, it } from 'vitest';
import { useTestHub } from '../support/hub.ts';
import { configuredAccount, postPush, signedPush, type PushSpec } from '../support/wechat-client.ts';
import { LOCAL_DEFAULTS } from '../../lib/config/index.ts';
import { changes, NOTHING, snapshot } from './lib.ts';

const hub = useTestHub({ queuePrefix: 'secpl', functions: ['wechat'], env: { WECHAT_MESSAGE_MODE: 'plain' } });

const now = () => Math.floor(Date.now() / 1000);
const spec = (from: string, t: number, event = 'subscribe'): PushSpec => ({ from, createTime: t, msgType: 'event', event, eventKey: event === 'subscribe' ? 'qrscene_plain_ch' : '' });
const post = (req: { path: string; body: string }) => postPush(hub.url, req, { 'content-type': 'text/xml' });

describe('plain-mode account', () => {
  it('WeChat\'s identical retry → success, no second effect', async () => {
    const req = signedPush(spec('oPlainA', now()), configuredAccount(), 'plain', '5150');
    expect(await post(req)).toEqual({ status: 200, body: 'success' });
    const before = await snapshot(hub.aws.table);
    expect(await post(req)).toEqual({ status: 200, body: 'success' });
    expect(changes(before, await snapshot(hub.aws.table))).toEqual(NOTHING);
  });

  it('attack: the same signature, timestamp and nonce with another body (a forged follow) → 401, nothing written', async () => {
    const t = now();
    const real = signedPush(spec('oPlainB', t), configuredAccount(), 'plain', '5151');
    expect((await post(real)).status).toBe(200);
    const forged = signedPush(spec('oPlainForged', t), configuredAccount(), 'plain', '5151');
    expect(forged.path.split('&openid=')[0]).toBe(real.path.split('&openid=')[0]);
    const before = await snapshot(hub.aws.table);
    const res = await post({ path: real.path, body: forged.body });
    expect(res.status).toBe(401);
    expect(changes(before, await snapshot(hub.aws.table))).toEqual(NOTHING);
  });

  it('attack: a captured URL replayed an hour later → 401, nothing written', async () => {
    const before = await snapshot(hub.aws.table);
    expect((await post(signedPush(spec('oPlainOld', now() - 3600), configuredAccount(), 'plain'))).status).toBe(401);
    expect(changes(before, await snapshot(hub.aws.table))).toEqual(NOTHING);
  });

  it('an encrypted push to an account without a key → 401, nothing written', async () => {
    const before = await snapshot(hub.aws.table);
    const enc = signedPush(spec('oPlainEnc', now()), { ...configuredAccount(), aesKey: LOCAL_DEFAULTS.WECHAT_AES_KEY }, 'safe');
    expect((await post(enc)).status).toBe(401);
    expect(changes(before, await snapshot(hub.aws.table))).toEqual(NOTHING);
  });
});
