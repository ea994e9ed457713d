/**
 * The WeCom callback: Tencent's published WXBizMsgCrypt samples (events/wecom/crypto-vectors.json)
 * through the URL verification and the POST path with the corp id as receive id, the
 * change_external_contact mapping against hand-written expectations, and the refusals.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BadRequestError, SignatureError } from '../../lib/errors.ts';
import { encrypt, msgSignature } from '../../lib/sources/wechat/crypto.ts';
import { openWecomCallback, verifyWecomUrl } from '../../lib/sources/wecom/inbound.ts';
import { expectHubError } from '../support/errors.ts';

interface Vector {
  token: string;
  encodingAesKey: string;
  corpId: string;
  get: { msg_signature: string; timestamp: string; nonce: string; echostr: string; expectedEcho: string };
  post?: { msg_signature: string; timestamp: string; nonce: string; body: string; expectedContent: string };
}
const VECTORS = (JSON.parse(readFileSync(new URL('../../events/wecom/crypto-vectors.json', import.meta.url), 'utf8')) as { vectors: Vector[] }).vectors;
const PY = VECTORS[0]!;

const configOf = (v: Vector, nowSeconds: number) => ({ corpId: v.corpId, token: v.token, aesKey: v.encodingAesKey, maxSkewSeconds: 300, now: nowSeconds * 1000 });

describe('WeCom URL verification (published vectors)', () => {
  it.each(VECTORS.map((v) => [v.corpId, v] as const))('%s: answers the decrypted echostr', (_id, v) => {
    const { expectedEcho, ...query } = v.get;
    expect(verifyWecomUrl(query, configOf(v, Number(v.get.timestamp)))).toBe(expectedEcho);
  });

  it('refuses a wrong signature, a stale timestamp and a missing echostr with 401', () => {
    const { expectedEcho: _e, ...query } = PY.get;
    const at = Number(PY.get.timestamp);
    expectHubError(() => verifyWecomUrl({ ...query, msg_signature: '0'.repeat(40) }, configOf(PY, at)), SignatureError);
    expectHubError(() => verifyWecomUrl(query, configOf(PY, at + 301)), SignatureError);
    const { echostr: _x, ...noEcho } = query;
    expectHubError(() => verifyWecomUrl(noEcho, configOf(PY, at)), SignatureError);
  });

  it('refuses an echostr encrypted for another corp (receive id) with 401', () => {
    const { expectedEcho: _e, ...query } = PY.get;
    expectHubError(() => verifyWecomUrl(query, { ...configOf(PY, Number(PY.get.timestamp)), corpId: 'ww0000000000000000' }), SignatureError);
  });
});

describe('WeCom POST callback', () => {
  it('decrypts the published sample message and records it as an unknown callback', () => {
    const post = PY.post!;
    const opened = openWecomCallback(
      { msg_signature: post.msg_signature, timestamp: post.timestamp, nonce: post.nonce },
      post.body,
      { ...configOf(PY, Number(post.timestamp)), maxBytes: 65536 },
    );
    expect(opened.message.Content).toBe(post.expectedContent);
    expect(opened.message.FromUserName).toBe('ChenJiaShun');
    expect(opened.event).toMatchObject({ type: 'wecom.unknown', source: 'wecom', corpId: PY.corpId, msgType: 'text', occurredAt: 1476422779000 });
  });

  const T = 1_780_000_000;
  function signed(inner: string, o: { corpId?: string; timestamp?: number; random?: Buffer } = {}) {
    const ciphertext = encrypt(inner, { aesKey: PY.encodingAesKey, appId: o.corpId ?? PY.corpId }, o.random ?? Buffer.alloc(16, 7));
    const timestamp = String(o.timestamp ?? T);
    const nonce = '1234567';
    return {
      query: { msg_signature: msgSignature(PY.token, timestamp, nonce, ciphertext), timestamp, nonce },
      body: `<xml><ToUserName><![CDATA[${PY.corpId}]]></ToUserName><Encrypt><![CDATA[${ciphertext}]]></Encrypt><AgentID><![CDATA[1000002]]></AgentID></xml>`,
    };
  }
  const contact = (change: string, extra = '') =>
    `<xml><ToUserName><![CDATA[${PY.corpId}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>${T}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[${change}]]></ChangeType><UserID><![CDATA[zhangsan]]></UserID><ExternalUserID><![CDATA[woAJ2GCAAAXtWyujaWJHDDGi0mACAAAA]]></ExternalUserID>${extra}</xml>`;
  const open = (inner: string, o: Parameters<typeof signed>[1] = {}, nowSeconds = T) => {
    const s = signed(inner, o);
    return openWecomCallback(s.query, s.body, { ...configOf(PY, nowSeconds), maxBytes: 65536 });
  };

  it('maps add_external_contact with State and WelcomeCode', () => {
    const { event } = open(contact('add_external_contact', '<State><![CDATA[store-sh-01]]></State><WelcomeCode><![CDATA[WELCOMECODE]]></WelcomeCode>'));
    expect(event).toEqual({
      eventId: `wecom:${PY.corpId}:add_external_contact|zhangsan|woAJ2GCAAAXtWyujaWJHDDGi0mACAAAA|${T}`,
      occurredAt: T * 1000,
      source: 'wecom',
      corpId: PY.corpId,
      type: 'wecom.contact',
      change: 'add_external_contact',
      userId: 'zhangsan',
      externalUserId: 'woAJ2GCAAAXtWyujaWJHDDGi0mACAAAA',
      state: 'store-sh-01',
      welcomeCode: 'WELCOMECODE',
    });
  });

  it('maps the other change types with their extra fields', () => {
    expect(open(contact('del_external_contact', '<Source><![CDATA[DELETE_BY_TRANSFER]]></Source>')).event).toMatchObject({ change: 'del_external_contact', deleteSource: 'DELETE_BY_TRANSFER' });
    expect(open(contact('transfer_fail', '<FailReason><![CDATA[customer_refused]]></FailReason>')).event).toMatchObject({ change: 'transfer_fail', failReason: 'customer_refused' });
    for (const change of ['add_half_external_contact', 'edit_external_contact', 'del_follow_user']) {
      expect(open(contact(change)).event).toMatchObject({ type: 'wecom.contact', change });
    }
  });

  it('gives a redelivery the same eventId whatever the ciphertext, and another change type another one', () => {
    const a = open(contact('add_external_contact'), { random: Buffer.alloc(16, 1) }).event;
    const b = open(contact('add_external_contact'), { random: Buffer.alloc(16, 2), timestamp: T + 5 }, T + 5).event;
    const c = open(contact('del_follow_user')).event;
    expect(b.eventId).toBe(a.eventId);
    expect(c.eventId).not.toBe(a.eventId);
  });

  it('records a change type it does not apply, and other events, as wecom.unknown', () => {
    expect(open(contact('msg_audit_approved')).event).toMatchObject({ type: 'wecom.unknown', msgType: 'event', event: 'change_external_contact', changeType: 'msg_audit_approved' });
    const other = `<xml><ToUserName>${PY.corpId}</ToUserName><FromUserName>sys</FromUserName><CreateTime>${T}</CreateTime><MsgType>event</MsgType><Event>change_external_chat</Event></xml>`;
    expect(open(other).event).toMatchObject({ type: 'wecom.unknown', event: 'change_external_chat' });
  });

  it('refuses bad input with 400 and a reason', () => {
    const noExternal = contact('add_external_contact').replace(/<ExternalUserID>.*<\/ExternalUserID>/, '');
    expect(expectHubError(() => open(noExternal), BadRequestError).code).toBe('missing_field');
    const longState = contact('add_external_contact', `<State>${'s'.repeat(31)}</State>`);
    expect(expectHubError(() => open(longState), BadRequestError).code).toBe('invalid_event');
    const late = contact('add_external_contact').replace(`<CreateTime>${T}</CreateTime>`, `<CreateTime>${T - 301}</CreateTime>`);
    expect(expectHubError(() => open(late), BadRequestError).code).toBe('create_time_out_of_window');
    const s = signed(contact('add_external_contact'));
    const noEncrypt = '<xml><ToUserName>x</ToUserName></xml>';
    expect(expectHubError(() => openWecomCallback(s.query, noEncrypt, { ...configOf(PY, T), maxBytes: 65536 }), BadRequestError).code).toBe('missing_field');
  });

  it('refuses with 401 a frame for another corp, a wrong signature and a stale timestamp', () => {
    expectHubError(() => open(contact('add_external_contact'), { corpId: 'ww0000000000000000' }), SignatureError);
    const s = signed(contact('add_external_contact'));
    expectHubError(() => openWecomCallback({ ...s.query, msg_signature: 'f'.repeat(40) }, s.body, { ...configOf(PY, T), maxBytes: 65536 }), SignatureError);
    expectHubError(() => openWecomCallback(s.query, s.body, { ...configOf(PY, T + 301), maxBytes: 65536 }), SignatureError);
  });
});
