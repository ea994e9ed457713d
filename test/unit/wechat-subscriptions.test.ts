/**
 * Subscription-message events (docs/platforms.md#wechat-subscription-messages): the pushes with
 * one or repeated `<List>` items normalised into `wechat.subscription`, and the per-template
 * credit ledger (one send per accepted one-time subscription; a long-term one while accepted;
 * a later reject ends both), independent of the order the events arrive in.
 */
import { describe, expect, it } from 'vitest';
import { parseWechatXml } from '../../lib/sources/wechat/xml.ts';
import { normaliseWechat } from '../../lib/sources/wechat/normalise.ts';
import { recordSubscription, subscriptionCredits, type Subscriptions } from '../../lib/engagement/subscriptions.ts';

const envelope = (event: string, inner: string) =>
  `<xml><ToUserName><![CDATA[gh_123456789abc]]></ToUserName><FromUserName><![CDATA[otFpruAK8D-E6EfStSYonYSBZ8_4]]></FromUserName><CreateTime>1610969440</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[${event}]]></Event>${inner}</xml>`;

describe('normalise', () => {
  it('a popup with two templates: one accepted, one rejected', () => {
    const xml = envelope(
      'subscribe_msg_popup_event',
      '<SubscribeMsgPopupEvent><List><TemplateId><![CDATA[VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc]]></TemplateId><SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString><PopupScene>2</PopupScene></List><List><TemplateId><![CDATA[9nLIlbOQZC5Y89AZteFEux3WCXRRRG5Wfzkpssu4bLI]]></TemplateId><SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString><PopupScene>2</PopupScene></List></SubscribeMsgPopupEvent>',
    );
    const e = normaliseWechat(parseWechatXml(xml), 'wx1');
    expect(e).toMatchObject({
      type: 'wechat.subscription',
      action: 'popup',
      openid: 'otFpruAK8D-E6EfStSYonYSBZ8_4',
      occurredAt: 1_610_969_440_000,
      items: [
        { templateId: 'VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc', status: 'accept', popupScene: '2' },
        { templateId: '9nLIlbOQZC5Y89AZteFEux3WCXRRRG5Wfzkpssu4bLI', status: 'reject', popupScene: '2' },
      ],
    });
  });

  it('a change event under the mislabelled wrapper of the official sample, and a sent event with one item', () => {
    const change = envelope('subscribe_msg_change_event', '<SubscribeMsgPopupEvent><List><TemplateId><![CDATA[T1]]></TemplateId><SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString></List></SubscribeMsgPopupEvent>');
    expect(normaliseWechat(parseWechatXml(change), 'wx1')).toMatchObject({ type: 'wechat.subscription', action: 'change', items: [{ templateId: 'T1', status: 'reject' }] });
    const sent = envelope('subscribe_msg_sent_event', '<SubscribeMsgSentEvent><List><TemplateId><![CDATA[T1]]></TemplateId><MsgID>1700827132819554304</MsgID><ErrorCode>0</ErrorCode><ErrorStatus><![CDATA[success]]></ErrorStatus></List></SubscribeMsgSentEvent>');
    expect(normaliseWechat(parseWechatXml(sent), 'wx1')).toMatchObject({
      type: 'wechat.subscription',
      action: 'sent',
      items: [{ templateId: 'T1', status: 'success', msgId: '1700827132819554304', errorCode: '0' }],
    });
  });

  it('a subscription event without items is refused 400', () => {
    expect(() => normaliseWechat(parseWechatXml(envelope('subscribe_msg_popup_event', '')), 'wx1')).toThrow(/valid event/);
  });
});

describe('credits', () => {
  const run = (events: [('popup' | 'change' | 'sent'), string, number][]): Subscriptions => {
    const subs: Subscriptions = {};
    for (const [action, status, at] of events) recordSubscription(subs, action, [{ templateId: 'T1', status, ...(action === 'sent' && { errorCode: '0' }) }], at);
    return subs;
  };

  it('two accepts, one send: one credit left; a long-term subscription is unlimited', () => {
    const events: [('popup' | 'change' | 'sent'), string, number][] = [
      ['popup', 'accept', 1],
      ['popup', 'accept', 2],
      ['sent', 'success', 3],
    ];
    expect(subscriptionCredits(run(events).T1, false)).toBe(1);
    expect(subscriptionCredits(run(events).T1, true)).toBe('unlimited');
    // The same events in reverse order: the same credits.
    expect(subscriptionCredits(run([...events].reverse()).T1, false)).toBe(1);
  });

  it('a reject after the last accept ends the credits; an accept after it restores them', () => {
    expect(subscriptionCredits(run([['popup', 'accept', 1], ['change', 'reject', 2]]).T1, true)).toBe(0);
    expect(subscriptionCredits(run([['change', 'reject', 2], ['popup', 'accept', 3]]).T1, false)).toBe(1);
    expect(subscriptionCredits(undefined, false)).toBe(0);
  });
});
