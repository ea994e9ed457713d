/**
 * Forged WeChat pushes and stale signed requests, reproduced against the local runtime over
 * HTTP with the default window (HUB_WEBHOOK_MAX_SKEW_SECONDS = 300) and the default account (with
 * an EncodingAESKey): a captured push replayed an hour later, a captured URL with a new body, a
 * safe-mode URL stripped of encrypt_type/msg_signature, a CreateTime far from the timestamp, a
 * stale URL verification, and stale Tmall / JD relay requests. Each is refused with the status
 * the issue names and writes nothing (a full Scan before and after).
 */
import { hubConfig } from '../support/env.ts';
import { describe, expect, it } from 'vitest';
import { useTestHub } from '../support/hub.ts';

import { configuredAccount, postPush, signedPush, type PushSpec } from '../support/wechat-client.ts';
import { sha1Signature } from '../../lib/sources/wechat/signature.ts';
import { signedJd, signedTmall } from '../support/commerce-client.ts';
import { readFileSync } from 'node:fs';
import { changes, NOTHING, snapshot } from './lib.ts';

const hub = useTestHub({ queuePrefix: 'secwx', functions: ['wechat', 'tmall', 'jd'] });

const now = () => Math.floor(Date.now() / 1000);
const follow = (from: string, createTime: number, scene = 'sec_ch'): PushSpec => ({ from, createTime, msgType: 'event', event: 'subscribe', eventKey: `qrscene_${scene}` });
const post = (req: { path: string; body: string }) => postPush(hub.url, req, { 'content-type': 'text/xml' });

async function refusedWithoutWrites(send: () => Promise<{ status: number }>, status: number) {
  const before = await snapshot(hub.aws.table);
  const res = await send();
  expect(res.status).toBe(status);
  expect(changes(before, await snapshot(hub.aws.table))).toEqual(NOTHING);
}

describe('WeChat push to an account with an EncodingAESKey', () => {
  it('a fresh encrypted push is accepted (the baseline)', async () => {
    expect(await post(signedPush(follow('oSecFresh', now()), configuredAccount()))).toEqual({ status: 200, body: 'success' });
  });

  it('attack: a captured push replayed an hour later → 401, nothing written', async () => {
    const t = now() - 3600;
    await refusedWithoutWrites(() => post(signedPush(follow('oSecOld', t), configuredAccount())), 401);
  });

  it('attack: a captured URL (fresh) with a new body → 401, nothing written', async () => {
    const t = now();
    const real = signedPush(follow('oSecReal', t), configuredAccount(), 'safe', '777');
    const forged = signedPush(follow('oSecForged', t), configuredAccount(), 'safe', '777');
    await refusedWithoutWrites(() => post({ path: real.path, body: forged.body }), 401);
  });

  it('attack: the safe-mode URL stripped of encrypt_type and msg_signature, a plain body → 401, nothing written', async () => {
    const t = now();
    const plain = signedPush(follow('oSecStripped', t), configuredAccount(), 'plain', '778');
    // `signature` over token, timestamp and nonce is valid: only the missing ciphertext refuses it.
    expect(plain.path).toContain(`signature=${sha1Signature(hubConfig().WECHAT_TOKEN, String(t), '778')}`);
    await refusedWithoutWrites(() => post(plain), 401);
  });

  it('attack: CreateTime an hour before a fresh timestamp → 400, nothing written', async () => {
    const t = now();
    await refusedWithoutWrites(() => post(signedPush(follow('oSecBackdated', t - 3600), configuredAccount(), 'safe', '779', String(t))), 400);
  });

  it('attack: a scene that is not a channel id (a # in it) → 400, nothing written', async () => {
    await refusedWithoutWrites(() => post(signedPush(follow('oSecScene', now(), 'ch#0'), configuredAccount())), 400);
  });

  it('attack: a stale URL verification → 401', async () => {
    const t = String(now() - 3600);
    const sig = sha1Signature(hubConfig().WECHAT_TOKEN, t, 'n');
    const res = await fetch(`${hub.url}/wechat/${hubConfig().WECHAT_APP_ID}?signature=${sig}&timestamp=${t}&nonce=n&echostr=probe`);
    expect(res.status).toBe(401);
    expect(await res.text()).not.toContain('probe');
  });
});

describe('Tmall and JD relays: the same window', () => {
  const tmc = readFileSync(new URL('../../events/tmall/taobao-tmc-trade-success.json', import.meta.url), 'utf8');
  const tmcBody = JSON.stringify((JSON.parse(tmc) as { messages?: unknown[] }).messages?.[0] ?? JSON.parse(tmc));
  const jdBody = readFileSync(new URL('../../events/jd/jd-order-trigger-INTERNAL-shape-UNCONFIRMED.json', import.meta.url), 'utf8');
  const send = (req: { path: string; body: string; headers: Record<string, string> }) =>
    fetch(hub.url + req.path, { method: 'POST', body: req.body, headers: { 'content-type': 'application/json', ...req.headers } });

  it('the same requests signed now are accepted (the baseline)', async () => {
    expect((await send(signedTmall(tmcBody))).status).toBe(200);
    expect((await send(signedJd(jdBody))).status).toBe(200);
  });

  it('attack: a Tmall relay request signed 6 minutes ago → 401, nothing written', async () => {
    await refusedWithoutWrites(() => send(signedTmall(tmcBody, { at: Date.now() - 360_000 })), 401);
  });

  it('attack: a JD relay request signed 6 minutes ago → 401, nothing written', async () => {
    await refusedWithoutWrites(() => send(signedJd(jdBody, { at: Date.now() - 360_000 })), 401);
  });
});
