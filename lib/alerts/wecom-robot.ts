/**
 * CloudWatch alarm notifications (delivered by SNS) as WeCom group-robot messages
 * (docs/deploy.md#alarms: `POST https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…`, body
 * `{"msgtype":"markdown","markdown":{"content":…}}`, content at most 4096 bytes of UTF-8, answer
 * `{"errcode":0,"errmsg":"ok"}`, at most 20 messages a minute per robot). Knows nothing of Lambda.
 */
import * as z from 'zod';
import { UpstreamApiError } from '../errors.ts';

/** Largest markdown content a group robot accepts, in UTF-8 bytes. */
export const ROBOT_MARKDOWN_MAX_BYTES = 4096;

/** The fields of a CloudWatch alarm state-change notification the message shows. */
const AlarmNotification = z.object({
  AlarmName: z.string(),
  AlarmDescription: z.string().nullish(),
  NewStateValue: z.string(),
  OldStateValue: z.string().optional(),
  NewStateReason: z.string().optional(),
  StateChangeTime: z.string().optional(),
  Region: z.string().optional(),
  AWSAccountId: z.string().optional(),
});
export type AlarmNotification = z.infer<typeof AlarmNotification>;

/** WeCom markdown knows three colours: info (green), comment (grey), warning (orange-red). */
const STATE_COLOUR: Record<string, string> = { ALARM: 'warning', OK: 'info', INSUFFICIENT_DATA: 'comment' };

/** Markdown control characters a value could use to break the layout (links, headings, colour tags). */
const escape = (s: string): string => s.replace(/[<>[\]`*#]/g, (c) => `\\${c}`).replace(/\r?\n/g, ' ');

/** Cuts `text` to at most `maxBytes` of UTF-8 without splitting a character, marking the cut. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  const mark = '…';
  let out = '';
  let used = Buffer.byteLength(mark, 'utf8');
  for (const ch of text) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (used + n > maxBytes) break;
    out += ch;
    used += n;
  }
  return out + mark;
}

/**
 * The markdown content for one SNS message: a CloudWatch alarm notification (JSON) becomes a
 * coloured state line, the alarm, its description and reason; anything else is shown as text
 * under the SNS subject.
 */
export function alarmMarkdown(message: string, subject?: string | null): string {
  let parsed: AlarmNotification | undefined;
  try {
    const r = AlarmNotification.safeParse(JSON.parse(message));
    if (r.success) parsed = r.data;
  } catch {
    parsed = undefined;
  }
  const lines: string[] = [];
  if (parsed) {
    const colour = STATE_COLOUR[parsed.NewStateValue] ?? 'comment';
    lines.push(`### <font color="${colour}">${escape(parsed.NewStateValue)}</font> ${escape(parsed.AlarmName)}`);
    if (parsed.AlarmDescription) lines.push(`> ${escape(parsed.AlarmDescription)}`);
    if (parsed.OldStateValue) lines.push(`> state: ${escape(parsed.OldStateValue)} → ${escape(parsed.NewStateValue)}`);
    if (parsed.Region || parsed.AWSAccountId) lines.push(`> <font color="comment">${escape([parsed.AWSAccountId, parsed.Region].filter(Boolean).join(' · '))}</font>`);
    if (parsed.StateChangeTime) lines.push(`> <font color="comment">${escape(parsed.StateChangeTime)}</font>`);
    if (parsed.NewStateReason) lines.push('', escape(parsed.NewStateReason));
  } else {
    lines.push(`### ${escape(subject || 'SCRM Hub notification')}`, '', escape(message));
  }
  return truncateUtf8(lines.join('\n'), ROBOT_MARKDOWN_MAX_BYTES);
}

/** The request body of a group-robot markdown message. */
export const robotMarkdownBody = (content: string) => ({ msgtype: 'markdown' as const, markdown: { content } });

const RobotAnswer = z.object({ errcode: z.number(), errmsg: z.string().optional() });

/**
 * Posts one markdown message to a group robot. Throws UpstreamApiError on a non-2xx status or a
 * non-zero errcode (the caller's retry decides), with the robot key never in the message.
 */
export async function postRobotMarkdown(webhookUrl: string, content: string, timeoutMs = 5000): Promise<void> {
  const res = await fetch(webhookUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(robotMarkdownBody(content)),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  if (!res.ok) throw new UpstreamApiError(`WeCom group robot answered HTTP ${res.status}`, 'wecom-robot', res.status, res.status >= 500 || res.status === 429);
  let answer: z.infer<typeof RobotAnswer>;
  try {
    answer = RobotAnswer.parse(JSON.parse(text));
  } catch {
    throw new UpstreamApiError('WeCom group robot answered something other than {errcode, errmsg}', 'wecom-robot', 'malformed', true);
  }
  if (answer.errcode !== 0) {
    // 45009: API frequency limit (20 messages a minute per robot): worth a retry; others are configuration errors.
    throw new UpstreamApiError(`WeCom group robot refused the message: errcode ${answer.errcode} ${answer.errmsg ?? ''}`.trim(), 'wecom-robot', answer.errcode, answer.errcode === 45009 || answer.errcode === -1);
  }
}
