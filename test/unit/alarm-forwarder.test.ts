/**
 * Alarm notifications as WeCom group-robot markdown, and their delivery to a local HTTP
 * stand-in that answers as the robot does ({errcode, errmsg}).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SNSEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UpstreamApiError } from '../../lib/errors.ts';
import { alarmMarkdown, postRobotMarkdown, ROBOT_MARKDOWN_MAX_BYTES, truncateUtf8 } from '../../lib/alerts/wecom-robot.ts';
import { forwardAlarms } from '../../functions/alarm-forwarder.ts';

/** A CloudWatch alarm state-change notification as SNS delivers it (Message is JSON text). */
const notification = {
  AlarmName: 'scrm-hub-prod-WechatPOSTWechatAppId4xxRateAlarm',
  AlarmDescription: 'SCRM Hub prod: POST /wechat/{appId} answered 4xx',
  AWSAccountId: '123456789012',
  NewStateValue: 'ALARM',
  NewStateReason: 'Threshold Crossed: 1 datapoint [100.0] was greater than the threshold (5.0).',
  StateChangeTime: '2025-03-01T02:03:04.000+0000',
  Region: 'Asia Pacific (Singapore)',
  OldStateValue: 'OK',
};

describe('alarmMarkdown', () => {
  it('an ALARM notification: warning colour, name, description, transition and reason (hand-written expectation)', () => {
    expect(alarmMarkdown(JSON.stringify(notification), 'ALARM: "x"')).toBe(
      [
        '### <font color="warning">ALARM</font> scrm-hub-prod-WechatPOSTWechatAppId4xxRateAlarm',
        '> SCRM Hub prod: POST /wechat/{appId} answered 4xx',
        '> state: OK → ALARM',
        '> <font color="comment">123456789012 · Asia Pacific (Singapore)</font>',
        '> <font color="comment">2025-03-01T02:03:04.000+0000</font>',
        '',
        'Threshold Crossed: 1 datapoint \\[100.0\\] was greater than the threshold (5.0).',
      ].join('\n'),
    );
  });
  it('OK is green (info)', () => {
    expect(alarmMarkdown(JSON.stringify({ ...notification, NewStateValue: 'OK', OldStateValue: 'ALARM' }))).toMatch(/^### <font color="info">OK<\/font> /);
  });
  it('a value cannot inject markup: tags and link brackets are escaped', () => {
    const md = alarmMarkdown(JSON.stringify({ ...notification, AlarmDescription: '<font color="info">fine</font> [x](http://evil)' }));
    expect(md).toContain('> \\<font color="info"\\>fine\\</font\\> \\[x\\](http://evil)');
  });
  it('a message that is not an alarm notification is shown as text under its subject', () => {
    expect(alarmMarkdown('hello', 'Test')).toBe('### Test\n\nhello');
    expect(alarmMarkdown('{"not":"an alarm"}', null)).toBe('### SCRM Hub notification\n\n{"not":"an alarm"}');
  });
  it('never exceeds 4096 bytes of UTF-8 and never splits a character', () => {
    const md = alarmMarkdown(JSON.stringify({ ...notification, NewStateReason: '告警'.repeat(3000) }));
    expect(Buffer.byteLength(md, 'utf8')).toBeLessThanOrEqual(ROBOT_MARKDOWN_MAX_BYTES);
    expect(md.endsWith('…')).toBe(true);
    expect(md).not.toContain('\uFFFD');
  });
  it('truncateUtf8: hand-computed cuts', () => {
    expect(truncateUtf8('abc', 3)).toBe('abc');
    // '…' is 3 bytes; '告' is 3 bytes: 7 bytes leave room for one character and the mark.
    expect(truncateUtf8('告警告', 7)).toBe('告…');
    expect(truncateUtf8('abcdef', 5)).toBe('ab…');
  });
});

describe('delivery to the group robot (local stand-in)', () => {
  let server: Server;
  let url: string;
  const received: { path: string; type: string | undefined; body: unknown }[] = [];
  let answer: { status: number; body: string } = { status: 200, body: '{"errcode":0,"errmsg":"ok"}' };

  const readBody = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };
  beforeAll(async () => {
    server = createServer((req, res) => {
      void readBody(req).then((text) => {
        received.push({ path: req.url ?? '', type: req.headers['content-type'], body: JSON.parse(text) });
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cgi-bin/webhook/send?key=test-robot-key`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    received.length = 0;
    answer = { status: 200, body: '{"errcode":0,"errmsg":"ok"}' };
  });

  const snsEvent = (...messages: string[]): SNSEvent => ({
    Records: messages.map((Message, i) => ({
      EventSource: 'aws:sns',
      EventVersion: '1.0',
      EventSubscriptionArn: 'arn:aws:sns:ap-southeast-1:123456789012:alarms:sub',
      Sns: {
        Type: 'Notification',
        MessageId: `m${i}`,
        TopicArn: 'arn:aws:sns:ap-southeast-1:123456789012:alarms',
        Subject: 'ALARM',
        Message,
        Timestamp: '2025-03-01T02:03:05.000Z',
        SignatureVersion: '1',
        Signature: 'x',
        SigningCertUrl: 'https://sns.example.invalid/cert.pem',
        UnsubscribeUrl: 'https://sns.example.invalid/unsub',
        MessageAttributes: {},
      },
    })),
  });

  it('posts one markdown message per SNS record, in the robot format', async () => {
    const n = await forwardAlarms(snsEvent(JSON.stringify(notification), JSON.stringify({ ...notification, NewStateValue: 'OK' })), url);
    expect(n).toBe(2);
    expect(received).toHaveLength(2);
    expect(received[0]).toEqual({
      path: '/cgi-bin/webhook/send?key=test-robot-key',
      type: 'application/json',
      body: { msgtype: 'markdown', markdown: { content: alarmMarkdown(JSON.stringify(notification), 'ALARM') } },
    });
    expect((received[1]!.body as { markdown: { content: string } }).markdown.content).toMatch(/^### <font color="info">OK/);
  });
  it('a non-zero errcode fails the invocation (Lambda retries), naming the code but never the key', async () => {
    answer = { status: 200, body: '{"errcode":93000,"errmsg":"invalid webhook url"}' };
    const err = await postRobotMarkdown(url, 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamApiError);
    expect((err as UpstreamApiError).errcode).toBe(93000);
    expect((err as UpstreamApiError).retryable).toBe(false);
    expect((err as Error).message).not.toContain('test-robot-key');
  });
  it('the frequency limit (45009) and HTTP 5xx are retryable; a garbled answer too', async () => {
    answer = { status: 200, body: '{"errcode":45009,"errmsg":"api freq out of limit"}' };
    await expect(postRobotMarkdown(url, 'x')).rejects.toMatchObject({ errcode: 45009, retryable: true });
    answer = { status: 502, body: 'bad gateway' };
    await expect(postRobotMarkdown(url, 'x')).rejects.toMatchObject({ errcode: 502, retryable: true });
    answer = { status: 200, body: '<html>' };
    await expect(postRobotMarkdown(url, 'x')).rejects.toMatchObject({ errcode: 'malformed' });
  });
  it('without a webhook URL nothing is posted and the invocation fails', async () => {
    await expect(forwardAlarms(snsEvent('x'), undefined)).rejects.toThrow(/WECOM_ALERT_WEBHOOK_URL is missing/);
    expect(received).toHaveLength(0);
  });
});
