/**
 * SOURCES (lib/manifest.ts) drives the webhook functions, the platform enum, the built-in
 * channels, the stage account keys and the public-route reasons. Expected values are written
 * out by hand: they are what the hub served before the list existed.
 */
import { describe, expect, it } from 'vitest';
import { FUNCTIONS, SOURCES } from '../../lib/manifest.ts';
import { BUILTIN_CHANNELS, isBuiltinChannel, PLATFORMS } from '../../lib/sources/platforms.ts';
import { Platform } from '../../lib/events/hub-event.ts';
import { SECRET_GROUPS, SECRET_KEYS } from '../../lib/config/index.ts';
import { PUBLIC_ROUTE_REASONS } from '../../stacks/nag-acknowledgements.ts';
import { source as wechatSource } from '../../lib/sources/wechat/source.ts';
import { source as tmallSource } from '../../lib/sources/tmall/source.ts';
import { source as jdSource } from '../../lib/sources/jd/source.ts';
import { source as youzanSource } from '../../lib/sources/youzan/source.ts';
import { source as wecomSource } from '../../lib/sources/wecom/source.ts';

describe('SOURCES', () => {
  it('lists the five webhook sources in function order', () => {
    expect(SOURCES.map((s) => s.id)).toEqual(['wechat', 'tmall', 'jd', 'youzan', 'wecom']);
    expect(FUNCTIONS.slice(0, 5).map((f) => f.name)).toEqual(['wechat', 'tmall', 'jd', 'youzan', 'wecom']);
  });

  it('derives the webhook function specs', () => {
    const byName = (n: string) => FUNCTIONS.find((f) => f.name === n);
    expect(byName('wechat')).toMatchObject({
      description: 'WeChat official account: URL verification and message push',
      routes: [
        { method: 'GET', path: '/wechat/{appId}', webhook: true },
        { method: 'POST', path: '/wechat/{appId}', webhook: true },
      ],
      memoryMb: 512,
      timeoutSeconds: 4,
      table: 'readwrite',
      sends: ['engagement'],
      secrets: ['wechat'],
    });
    expect(byName('tmall')).toMatchObject({ routes: [{ method: 'POST', path: '/tmall/{appKey}', webhook: true }], memoryMb: 512, timeoutSeconds: 10, table: 'readwrite', sends: ['engagement'], secrets: ['tmall'] });
    expect(byName('jd')).toMatchObject({ routes: [{ method: 'POST', path: '/jd/{appKey}', webhook: true }], memoryMb: 512, timeoutSeconds: 10, table: 'readwrite', sends: ['engagement'], secrets: ['jd'] });
    expect(byName('youzan')).toMatchObject({ routes: [{ method: 'POST', path: '/youzan/{clientId}', webhook: true }], memoryMb: 512, timeoutSeconds: 10, table: 'readwrite', sends: ['engagement'], secrets: ['youzan', 'keys'] });
    expect(byName('wecom')).toMatchObject({
      routes: [
        { method: 'GET', path: '/wecom/{corpId}', webhook: true },
        { method: 'POST', path: '/wecom/{corpId}', webhook: true },
      ],
      memoryMb: 512,
      timeoutSeconds: 4,
      table: 'readwrite',
      sends: ['engagement'],
      secrets: ['wecom'],
    });
    for (const n of ['wechat', 'tmall', 'jd', 'youzan']) expect(byName(n)?.wechatApi).toBeUndefined();
  });

  it('derives the platforms and the built-in channels', () => {
    expect(PLATFORMS).toEqual(['tmall', 'jd', 'youzan']);
    expect(Platform.options).toEqual(['tmall', 'jd', 'youzan']);
    expect(BUILTIN_CHANNELS).toEqual([
      { channel: 'organic', name: '自然关注', kind: 'organic' },
      { channel: 'tmall', name: '天猫', kind: 'platform' },
      { channel: 'jd', name: '京东', kind: 'platform' },
      { channel: 'youzan', name: '有赞', kind: 'platform' },
    ]);
    for (const id of ['organic', 'tmall', 'jd', 'youzan']) expect(isBuiltinChannel(id)).toBe(true);
    for (const id of ['wechat', 'store_1', 'Tmall']) expect(isBuiltinChannel(id)).toBe(false);
  });

  it('declares secrets that match their secret groups and the secret order', () => {
    for (const s of SOURCES) expect([...s.secretKeys]).toEqual([...SECRET_GROUPS[s.id]]);
    expect(SECRET_KEYS.slice(1, 7)).toEqual(['WECHAT_TOKEN', 'WECHAT_AES_KEY', 'WECHAT_APP_SECRET', 'TMALL_APP_SECRET', 'JD_APP_SECRET', 'YOUZAN_CLIENT_SECRET']);
    expect(SOURCES.flatMap((s) => s.stageKeys)).toEqual(['WECHAT_APP_ID', 'TMALL_APP_KEY', 'JD_APP_KEY', 'YOUZAN_CLIENT_ID']);
  });

  it('gives every function with a public route a reason, the sources theirs', () => {
    expect(Object.keys(PUBLIC_ROUTE_REASONS)).toEqual(['wechat', 'tmall', 'jd', 'youzan', 'wecom', 'tmall-mei', 'codes-scan', 'members', 'dashboard']);
    expect(PUBLIC_ROUTE_REASONS.jd).toBe('Called by the JD relay, which cannot hold a hub JWT; the function verifies the JD md5 signature with the app secret and answers 401 otherwise.');
  });

  it('has one behaviour per descriptor, with a handshake only for WeChat and WeCom', () => {
    const sources = [wechatSource, tmallSource, jdSource, youzanSource, wecomSource];
    expect(sources.map((s) => s.descriptor)).toEqual([...SOURCES]);
    expect(sources.map((s) => typeof s.handshake)).toEqual(['function', 'undefined', 'undefined', 'undefined', 'function']);
    expect(SOURCES.map((s) => [s.accountParam, s.maxBodyBytes])).toEqual([
      ['appId', 65536],
      ['appKey', 524288],
      ['appKey', 524288],
      ['clientId', 524288],
      ['corpId', 65536],
    ]);
  });
});
