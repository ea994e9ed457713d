/**
 * SNS (the alarm topic) → WeCom group robot: each CloudWatch alarm notification becomes one
 * markdown message posted to the webhook of the `alerts` secret group (WECOM_ALERT_WEBHOOK_URL).
 * A failed post throws, so Lambda's asynchronous retries apply (docs/deploy.md#alarms).
 */
import type { SNSEvent } from 'aws-lambda';
import { alarmMarkdown, postRobotMarkdown } from '../lib/alerts/wecom-robot.ts';
import { logger } from '../lib/log.ts';
import { trigger } from '../lib/runtime/lambda.ts';

export async function forwardAlarms(event: SNSEvent, webhookUrl: string | undefined): Promise<number> {
  if (!webhookUrl) throw new Error('WECOM_ALERT_WEBHOOK_URL is missing from the alerts secret: fill it with npm run secrets');
  for (const record of event.Records) {
    await postRobotMarkdown(webhookUrl, alarmMarkdown(record.Sns.Message, record.Sns.Subject));
  }
  logger.info('alarms forwarded to the WeCom group robot', { count: event.Records.length });
  return event.Records.length;
}

export const handler = trigger({ name: 'alarm-forwarder' }, async (event: SNSEvent, rt) => {
  await forwardAlarms(event, rt.cfg.WECOM_ALERT_WEBHOOK_URL);
});
