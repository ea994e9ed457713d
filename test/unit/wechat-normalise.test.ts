import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../../lib/errors.ts';
import { HubEvent } from '../../lib/events/hub-event.ts';
import { massSendStatus, normaliseWechat, templateStatus, wechatEventId } from '../../lib/sources/wechat/normalise.ts';
import { buildTextReply, parseWechatXml } from '../../lib/sources/wechat/xml.ts';
import { expectHubError } from '../support/errors.ts';
import { readWechatFixture } from '../support/wechat-fixtures.ts';

const APP = 'wxba5fad812f8e6fb9';

const fromXml = (xml: string, appId = APP) => normaliseWechat(parseWechatXml(xml), appId);

/** Builds a push body from fields (values in CDATA unless numeric-looking ids). */
function push(fields: Record<string, string>): string {
  const inner = Object.entries(fields)
    .map(([k, v]) => (/^\d+$/.test(v) ? `<${k}>${v}</${k}>` : `<${k}><![CDATA[${v}]]></${k}>`))
    .join('\n');
  return `<xml>\n${inner}\n</xml>`;
}

const w = { source: 'wechat', appId: APP } as const;

/** Every plaintext-mode fixture and the exact event it must become. */
const EXPECTED: Record<string, unknown> = {
  'event-subscribe.official.xml': {
    ...w,
    eventId: 'wechat:evt:toUser|FromUser|123456789|subscribe|',
    occurredAt: 123456789000,
    openid: 'FromUser',
    type: 'wechat.follow',
    scene: null,
  },
  'event-masssendjobfinish.official.xml': {
    ...w,
    eventId: 'wechat:evt:gh_3e8adccde292|oR5Gjjl_eiZoUpGozMo7dbBJ362A|1394524295|MASSSENDJOBFINISH||1988',
    occurredAt: 1394524295000,
    openid: 'oR5Gjjl_eiZoUpGozMo7dbBJ362A',
    type: 'wechat.mass_receipt',
    msgId: '1988',
    status: 'sent',
    rawStatus: 'sendsuccess',
    totalCount: 100,
    filterCount: 80,
    sentCount: 75,
    errorCount: 5,
  },
  'event-subscribe-empty-eventkey.observed.xml': {
    ...w,
    eventId: 'wechat:evt:xxx|xxxx|1447921517|subscribe|',
    occurredAt: 1447921517000,
    openid: 'xxxx',
    type: 'wechat.follow',
    scene: null,
  },
  'event-unsubscribe.official.xml': {
    ...w,
    eventId: 'wechat:evt:toUser|FromUser|123456789|unsubscribe|',
    occurredAt: 123456789000,
    openid: 'FromUser',
    type: 'wechat.unfollow',
  },
  'event-subscribe-qrscene.official.xml': {
    ...w,
    eventId: 'wechat:evt:toUser|FromUser|123456789|subscribe|qrscene_123123',
    occurredAt: 123456789000,
    openid: 'FromUser',
    type: 'wechat.follow',
    scene: '123123',
    ticket: 'TICKET',
  },
  'event-scan.official.xml': {
    ...w,
    eventId: 'wechat:evt:toUser|FromUser|123456789|SCAN|SCENE_VALUE',
    occurredAt: 123456789000,
    openid: 'FromUser',
    type: 'wechat.scan',
    scene: 'SCENE_VALUE',
    ticket: 'TICKET',
  },
  'event-scan-strscene.observed.xml': {
    ...w,
    eventId: 'wechat:evt:gh_452****b0f2|oz1fVs4d****7FmFrCbc57o|1429416610|SCAN|155120hzw',
    occurredAt: 1429416610000,
    openid: 'oz1fVs4d****7FmFrCbc57o',
    type: 'wechat.scan',
    scene: '155120hzw',
    ticket: 'gQH17zoAAAAAAAAAASxodHR****S9xL28waUNrM1BsV1ZJZ0VJcE8tbUFMAAIEcCozVQMEAAAAAA==',
  },
  'event-location.official.xml': {
    ...w,
    eventId: 'wechat:evt:toUser|fromUser|123456789|LOCATION|',
    occurredAt: 123456789000,
    openid: 'fromUser',
    type: 'wechat.interaction',
    kind: 'location',
    msgType: 'event',
    detail: '23.137466,113.352425',
  },
  'event-click.official.xml': {
    ...w,
    eventId: 'wechat:evt:toUser|FromUser|123456789|CLICK|EVENTKEY',
    occurredAt: 123456789000,
    openid: 'FromUser',
    type: 'wechat.interaction',
    kind: 'click',
    msgType: 'event',
    detail: 'EVENTKEY',
  },
  'event-view.official.xml': {
    ...w,
    eventId: 'wechat:evt:toUser|FromUser|123456789|VIEW|www.qq.com',
    occurredAt: 123456789000,
    openid: 'FromUser',
    type: 'wechat.interaction',
    kind: 'view',
    msgType: 'event',
    detail: 'www.qq.com',
  },
  'event-templatesendjobfinish-success.official.xml': {
    ...w,
    eventId: 'wechat:evt:gh_7f083739789a|oia2TjuEGTNoeX76QEjQNrcURxG8|1395658920|TEMPLATESENDJOBFINISH||200163836',
    occurredAt: 1395658920000,
    openid: 'oia2TjuEGTNoeX76QEjQNrcURxG8',
    type: 'wechat.template_receipt',
    msgId: '200163836',
    status: 'delivered',
    rawStatus: 'success',
  },
  'event-templatesendjobfinish-userblock.official.xml': {
    ...w,
    eventId: 'wechat:evt:gh_7f083739789a|oia2TjuEGTNoeX76QEjQNrcURxG8|1395658984|TEMPLATESENDJOBFINISH||200163840',
    occurredAt: 1395658984000,
    openid: 'oia2TjuEGTNoeX76QEjQNrcURxG8',
    type: 'wechat.template_receipt',
    msgId: '200163840',
    status: 'user_blocked',
    rawStatus: 'failed:user block',
  },
  'event-templatesendjobfinish-systemfailed.official.xml': {
    ...w,
    eventId: 'wechat:evt:gh_7f083739789a|oia2TjuEGTNoeX76QEjQNrcURxG8|1395658984|TEMPLATESENDJOBFINISH||200163840',
    occurredAt: 1395658984000,
    openid: 'oia2TjuEGTNoeX76QEjQNrcURxG8',
    type: 'wechat.template_receipt',
    msgId: '200163840',
    status: 'failed',
    rawStatus: 'failed: system failed',
  },
  'msg-text.official.xml': {
    ...w,
    eventId: 'wechat:msg:toUser|fromUser|1234567890123456',
    occurredAt: 1348831860000,
    openid: 'fromUser',
    type: 'wechat.interaction',
    kind: 'message',
    msgType: 'text',
    msgId: '1234567890123456',
    detail: 'this is a test',
  },
  'msg-text-with-msgdataid.official.xml': {
    ...w,
    eventId: 'wechat:msg:toUser|fromUser|1234567890123456',
    occurredAt: 1348831860000,
    openid: 'fromUser',
    type: 'wechat.interaction',
    kind: 'message',
    msgType: 'text',
    msgId: '1234567890123456',
    detail: 'this is a test',
  },
  'msg-image.official.xml': {
    ...w,
    eventId: 'wechat:msg:toUser|fromUser|1234567890123456',
    occurredAt: 1348831860000,
    openid: 'fromUser',
    type: 'wechat.interaction',
    kind: 'message',
    msgType: 'image',
    msgId: '1234567890123456',
    detail: 'this is a url',
  },
  'msg-text-quickstart.official.xml': {
    ...w,
    eventId: 'wechat:msg:公众号|粉丝号|6272960105994287618',
    occurredAt: 1460537339000,
    openid: '粉丝号',
    type: 'wechat.interaction',
    kind: 'message',
    msgType: 'text',
    msgId: '6272960105994287618',
    detail: '欢迎开启公众号开发者模式',
  },
  'msg-image-quickstart.official.xml': {
    ...w,
    eventId: 'wechat:msg:公众号|粉丝号|6272956824639273066',
    occurredAt: 1460536575000,
    openid: '粉丝号',
    type: 'wechat.interaction',
    kind: 'message',
    msgType: 'image',
    msgId: '6272956824639273066',
    detail: 'http://mmbiz.qpic.cn/xxxxxx /0',
  },
};

describe('normaliseWechat: every plaintext fixture', () => {
  it('covers every plaintext-mode sample in the manifest', () => {
    const manifest = JSON.parse(readWechatFixture('manifest.json')) as { file: string; kind: string }[];
    const samples = manifest
      .filter((e) => e.kind === 'plaintext-mode sample' && e.file !== 'reply-text.official.xml')
      .map((e) => e.file)
      .sort();
    expect(samples).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const [file, expected] of Object.entries(EXPECTED)) {
    it(file, () => {
      const event = fromXml(readWechatFixture(file));
      expect(event).toStrictEqual(expected);
      expect(HubEvent.parse(event)).toStrictEqual(expected);
    });
  }

  it('the passive reply sample parses to the same fields buildTextReply writes', () => {
    const official = parseWechatXml(readWechatFixture('reply-text.official.xml'));
    const built = parseWechatXml(
      buildTextReply({ toUser: 'toUser', fromUser: 'fromUser', createTime: 12345678, content: '你好' }),
    );
    expect({ ...built }).toStrictEqual({ ...official });
    expect({ ...official }).toStrictEqual({
      ToUserName: 'toUser',
      FromUserName: 'fromUser',
      CreateTime: '12345678',
      MsgType: 'text',
      Content: '你好',
    });
  });
});

describe('eventId semantics', () => {
  const text = (from: string, msgId: string) =>
    push({ ToUserName: 'gh_1', FromUserName: from, CreateTime: '1714112600', MsgType: 'text', Content: 'hi', MsgId: msgId });

  it('MsgIds 10000000000000001 and 10000000000000002 give distinct eventIds', () => {
    // Above 2^53 doubles are spaced by 2: ...001 rounds to 1e16 while ...002 is exact.
    expect(Number('10000000000000001')).toBe(1e16);
    const a = fromXml(text('o_user', '10000000000000001'));
    const b = fromXml(text('o_user', '10000000000000002'));
    expect(a.eventId).toBe('wechat:msg:gh_1|o_user|10000000000000001');
    expect(b.eventId).toBe('wechat:msg:gh_1|o_user|10000000000000002');
    expect(a.eventId).not.toBe(b.eventId);
    expect(a.type === 'wechat.interaction' && a.msgId).toBe('10000000000000001');
    expect(b.type === 'wechat.interaction' && b.msgId).toBe('10000000000000002');
  });

  it('MsgIds that are equal as JS numbers stay distinct', () => {
    const pairs: [string, string][] = [
      ['10000000000000000', '10000000000000001'],
      ['6272960105994287617', '6272960105994287618'],
    ];
    for (const [x, y] of pairs) {
      expect(Number(x)).toBe(Number(y));
      const a = fromXml(text('o_user', x));
      const b = fromXml(text('o_user', y));
      expect(a.eventId).toBe(`wechat:msg:gh_1|o_user|${x}`);
      expect(b.eventId).toBe(`wechat:msg:gh_1|o_user|${y}`);
      expect(a.type === 'wechat.interaction' && a.msgId).toBe(x);
      expect(b.type === 'wechat.interaction' && b.msgId).toBe(y);
    }
  });

  it('keeps 19-digit MsgIds and template MsgIDs verbatim', () => {
    const e = fromXml(text('o_user', '6272960105994287618'));
    expect(e.eventId).toBe('wechat:msg:gh_1|o_user|6272960105994287618');
    const t = fromXml(
      push({
        ToUserName: 'gh_1',
        FromUserName: 'o_user',
        CreateTime: '1714112600',
        MsgType: 'event',
        Event: 'TEMPLATESENDJOBFINISH',
        MsgID: '3717005636572528642',
        Status: 'success',
      }),
    );
    expect(t.type === 'wechat.template_receipt' && t.msgId).toBe('3717005636572528642');
    expect(t.eventId).toBe('wechat:evt:gh_1|o_user|1714112600|TEMPLATESENDJOBFINISH||3717005636572528642');
  });

  it('same-second events of two users are distinct; a redelivery reproduces the id', () => {
    const follow = (from: string) =>
      push({ ToUserName: 'gh_1', FromUserName: from, CreateTime: '1714112445', MsgType: 'event', Event: 'subscribe', EventKey: 'qrscene_c1' });
    const a = fromXml(follow('o_alice'));
    const b = fromXml(follow('o_bob'));
    expect(a.eventId).toBe('wechat:evt:gh_1|o_alice|1714112445|subscribe|qrscene_c1');
    expect(b.eventId).toBe('wechat:evt:gh_1|o_bob|1714112445|subscribe|qrscene_c1');
    expect(fromXml(follow('o_alice'))).toStrictEqual(a);
    // the same user, same second, different events are distinct too
    const loc = fromXml(
      push({ ToUserName: 'gh_1', FromUserName: 'o_alice', CreateTime: '1714112445', MsgType: 'event', Event: 'LOCATION', Latitude: '1.5', Longitude: '2.5' }),
    );
    expect(loc.eventId).toBe('wechat:evt:gh_1|o_alice|1714112445|LOCATION|');
    // and the same user messaging twice in one second with different MsgIds
    expect(fromXml(text('o_alice', '1')).eventId).not.toBe(fromXml(text('o_alice', '2')).eventId);
  });

  it('a redelivery with different whitespace and element order gives the same event', () => {
    const a = fromXml(readWechatFixture('msg-text-quickstart.official.xml'));
    const reordered =
      '<xml><MsgId>6272960105994287618</MsgId><Content><![CDATA[欢迎开启公众号开发者模式]]></Content>' +
      '<MsgType><![CDATA[text]]></MsgType><CreateTime>1460537339</CreateTime>' +
      '<FromUserName><![CDATA[粉丝号]]></FromUserName><ToUserName><![CDATA[公众号]]></ToUserName></xml>';
    expect(fromXml(reordered)).toStrictEqual(a);
  });

  it('absent and empty EventKey give the same id; different accounts give different ids', () => {
    const absent = fromXml(readWechatFixture('event-subscribe.official.xml'));
    const empty = fromXml(
      push({ ToUserName: 'toUser', FromUserName: 'FromUser', CreateTime: '123456789', MsgType: 'event', Event: 'subscribe', EventKey: '' }),
    );
    expect(empty.eventId).toBe(absent.eventId);
    const other = fromXml(readWechatFixture('event-subscribe.official.xml').replace('toUser', 'gh_other'));
    expect(other.eventId).toBe('wechat:evt:gh_other|FromUser|123456789|subscribe|');
  });

  it('a message without MsgId falls back to CreateTime and MsgType', () => {
    const e = fromXml(push({ ToUserName: 'gh_1', FromUserName: 'o_u', CreateTime: '1700000000', MsgType: 'voice', MediaId: 'm1' }));
    expect(e).toStrictEqual({
      ...w,
      eventId: 'wechat:msg:gh_1|o_u|1700000000|voice',
      occurredAt: 1700000000000,
      openid: 'o_u',
      type: 'wechat.interaction',
      kind: 'message',
      msgType: 'voice',
      detail: 'm1',
    });
  });

  it('an id over 512 characters becomes a stable sha256 form', () => {
    const url = (tail: string) => 'https://example.com/' + 'p'.repeat(600) + tail;
    const view = (u: string) =>
      push({ ToUserName: 'gh_1', FromUserName: 'o_u', CreateTime: '1700000000', MsgType: 'event', Event: 'VIEW', EventKey: u });
    const a = fromXml(view(url('a')));
    const b = fromXml(view(url('b')));
    expect(a.eventId).toMatch(/^wechat:evt:sha256:[0-9a-f]{64}$/);
    expect(a.eventId).not.toBe(b.eventId);
    expect(fromXml(view(url('a'))).eventId).toBe(a.eventId);
    expect(a.type === 'wechat.interaction' && a.detail).toBe(url('a'));
  });

  it('wechatEventId alone matches the normalised id', () => {
    const msg = parseWechatXml(readWechatFixture('event-scan.official.xml'));
    expect(wechatEventId(msg)).toBe('wechat:evt:toUser|FromUser|123456789|SCAN|SCENE_VALUE');
  });
});

describe('mapping details', () => {
  const base = { ToUserName: 'gh_1', FromUserName: 'o_u', CreateTime: '1700000000' };

  it('an unknown event type normalises to wechat.unknown', () => {
    const e = fromXml(push({ ...base, MsgType: 'event', Event: 'VIEW_MINIPROGRAM', EventKey: 'pages/index/index' }));
    expect(e).toStrictEqual({
      ...w,
      eventId: 'wechat:evt:gh_1|o_u|1700000000|VIEW_MINIPROGRAM|pages/index/index',
      occurredAt: 1700000000000,
      openid: 'o_u',
      type: 'wechat.unknown',
      msgType: 'event',
      event: 'VIEW_MINIPROGRAM',
    });
  });

  it.each([
    ['send success', 'sent'],
    ['sendsuccess', 'sent'],
    ['Send Success', 'sent'],
    ['send fail', 'failed'],
    ['sendfail', 'failed'],
    ['err(10001)', 'rejected'],
    ['err( 20013 )', 'rejected'],
    ['err()', 'failed'],
    ['', 'failed'],
  ])('MASSSENDJOBFINISH status %j is %s', (raw, status) => {
    expect(massSendStatus(raw)).toBe(status);
  });

  it('MASSSENDJOBFINISH: a review refusal with zero counts; absent counts are 0; a non-numeric count is a 400', () => {
    const mass = { ...base, MsgType: 'event', Event: 'MASSSENDJOBFINISH', MsgID: '1000001625' };
    expect(fromXml(push({ ...mass, Status: 'err(30003)', TotalCount: '0', FilterCount: '0', SentCount: '0', ErrorCount: '0' }))).toMatchObject({
      type: 'wechat.mass_receipt',
      eventId: 'wechat:evt:gh_1|o_u|1700000000|MASSSENDJOBFINISH||1000001625',
      msgId: '1000001625',
      status: 'rejected',
      rawStatus: 'err(30003)',
      totalCount: 0,
      sentCount: 0,
    });
    expect(fromXml(push({ ...mass, Status: 'send fail' }))).toMatchObject({ status: 'failed', totalCount: 0, filterCount: 0, sentCount: 0, errorCount: 0 });
    // Two jobs finishing in the same second are two events: the MsgID is part of the key.
    expect(wechatEventId(parseWechatXml(push({ ...mass, MsgID: '1' })))).not.toBe(wechatEventId(parseWechatXml(push({ ...mass, MsgID: '2' }))));
    expectHubError(() => fromXml(push({ ...mass, Status: 'send success', SentCount: '7x' })), BadRequestError, 'invalid_event');
    expectHubError(() => fromXml(push({ ...base, MsgType: 'event', Event: 'MASSSENDJOBFINISH', Status: 'send success' })), BadRequestError, 'invalid_event');
  });

  it('an unknown message type and an event without Event are wechat.unknown', () => {
    expect(fromXml(push({ ...base, MsgType: 'miniprogrampage', MsgId: '77' }))).toStrictEqual({
      ...w,
      eventId: 'wechat:msg:gh_1|o_u|77',
      occurredAt: 1700000000000,
      openid: 'o_u',
      type: 'wechat.unknown',
      msgType: 'miniprogrampage',
    });
    expect(fromXml(push({ ...base, MsgType: 'event' }))).toStrictEqual({
      ...w,
      eventId: 'wechat:evt:gh_1|o_u|1700000000||',
      occurredAt: 1700000000000,
      openid: 'o_u',
      type: 'wechat.unknown',
      msgType: 'event',
    });
  });

  it('SCAN without a scene is wechat.unknown, not an error', () => {
    const e = fromXml(push({ ...base, MsgType: 'event', Event: 'SCAN', EventKey: '' }));
    expect(e.type).toBe('wechat.unknown');
  });

  it('qrscene_ without a scene and a key without the prefix are organic follows', () => {
    const bare = fromXml(push({ ...base, MsgType: 'event', Event: 'subscribe', EventKey: 'qrscene_' }));
    expect(bare.type === 'wechat.follow' && bare.scene).toBe(null);
    const other = fromXml(push({ ...base, MsgType: 'event', Event: 'subscribe', EventKey: 'last_trade_no_x' }));
    expect(other.type === 'wechat.follow' && other.scene).toBe(null);
    const zero = fromXml(push({ ...base, MsgType: 'event', Event: 'subscribe', EventKey: 'qrscene_0' }));
    expect(zero.type === 'wechat.follow' && zero.scene).toBe('0');
  });

  it('event names match case-insensitively but the id keeps the raw name', () => {
    const e = fromXml(push({ ...base, MsgType: 'event', Event: 'Subscribe', EventKey: 'qrscene_abc' }));
    expect(e.type).toBe('wechat.follow');
    expect(e.eventId).toBe('wechat:evt:gh_1|o_u|1700000000|Subscribe|qrscene_abc');
  });

  it('maps the template status strings, tolerating spacing and case', () => {
    expect(templateStatus('success')).toBe('delivered');
    expect(templateStatus(' SUCCESS ')).toBe('delivered');
    expect(templateStatus('failed:user block')).toBe('user_blocked');
    expect(templateStatus('failed: user block')).toBe('user_blocked');
    expect(templateStatus('Failed:User  Block')).toBe('user_blocked');
    expect(templateStatus('failed:userblock')).toBe('user_blocked');
    expect(templateStatus('failed: system failed')).toBe('failed');
    expect(templateStatus('failed:system failed')).toBe('failed');
    expect(templateStatus('failed:freq limit')).toBe('failed');
    expect(templateStatus('')).toBe('failed');
    const e = fromXml(push({ ...base, MsgType: 'event', Event: 'TEMPLATESENDJOBFINISH', MsgID: '5', Status: 'FAILED : User Block' }));
    expect(e).toMatchObject({ type: 'wechat.template_receipt', status: 'user_blocked', rawStatus: 'FAILED : User Block', msgId: '5' });
  });

  it('maps every standard message type to an interaction with its detail', () => {
    const cases: [Record<string, string>, string | undefined][] = [
      [{ MsgType: 'voice', MediaId: 'v1', Format: 'amr' }, 'v1'],
      [{ MsgType: 'video', MediaId: 'vd1', ThumbMediaId: 't' }, 'vd1'],
      [{ MsgType: 'shortvideo', MediaId: 's1', ThumbMediaId: 't' }, 's1'],
      [{ MsgType: 'location', Location_X: '23.134521', Location_Y: '113.358803', Scale: '20', Label: 'x' }, '23.134521,113.358803'],
      [{ MsgType: 'link', Title: 't', Description: 'd', Url: 'https://a.example/x' }, 'https://a.example/x'],
      [{ MsgType: 'text' }, undefined],
    ];
    for (const [fields, detail] of cases) {
      const e = fromXml(push({ ...base, ...fields, MsgId: '42' }));
      expect(e).toStrictEqual({
        ...w,
        eventId: 'wechat:msg:gh_1|o_u|42',
        occurredAt: 1700000000000,
        openid: 'o_u',
        type: 'wechat.interaction',
        kind: 'message',
        msgType: fields.MsgType,
        msgId: '42',
        ...(detail === undefined ? {} : { detail }),
      });
    }
  });

  it('clips a long text detail to 2048 characters', () => {
    const e = fromXml(push({ ...base, MsgType: 'text', Content: '长'.repeat(3000), MsgId: '9' }));
    expect(e.type === 'wechat.interaction' && e.detail).toBe('长'.repeat(2048));
  });

  it('the appId comes from the caller, not the message', () => {
    expect(fromXml(readWechatFixture('msg-text.official.xml'), 'wx_other').appId).toBe('wx_other');
  });
});

describe('rejections', () => {
  const full = { ToUserName: 'gh_1', FromUserName: 'o_u', CreateTime: '1700000000', MsgType: 'text', Content: 'x', MsgId: '1' };

  it('missing FromUserName / CreateTime / MsgType → 400 missing_field', () => {
    for (const name of ['FromUserName', 'CreateTime', 'MsgType'] as const) {
      const fields: Record<string, string> = { ...full };
      delete fields[name];
      const err = expectHubError(() => fromXml(push(fields)), BadRequestError, 'missing_field');
      expect(err.status).toBe(400);
      expect(err.message).toBe(`WeChat message has no ${name}`);
      expectHubError(() => fromXml(push({ ...full, [name]: '' })), BadRequestError, 'missing_field');
    }
  });

  it('a CreateTime that is not unix seconds → 400 bad_field', () => {
    expectHubError(() => fromXml(push({ ...full, CreateTime: '1700000000.5' })), BadRequestError, 'bad_field');
    expectHubError(() => fromXml(push({ ...full, CreateTime: 'yesterday' })), BadRequestError, 'bad_field');
  });

  it('a scene longer than 64 characters fails the HubEvent schema → 400 invalid_event', () => {
    const fields = { ...full, MsgType: 'event', Event: 'subscribe', EventKey: 'qrscene_' + 's'.repeat(65) };
    const err = expectHubError(() => fromXml(push(fields)), BadRequestError, 'invalid_event');
    expect(err.details).toStrictEqual({ issues: [expect.objectContaining({ path: 'scene' })] });
  });

  it('a template receipt without MsgID → 400 invalid_event', () => {
    const fields = { ...full, MsgType: 'event', Event: 'TEMPLATESENDJOBFINISH', Status: 'success' };
    delete (fields as Record<string, string>).MsgId;
    expectHubError(() => fromXml(push(fields)), BadRequestError, 'invalid_event');
  });
});
