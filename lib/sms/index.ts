/**
 * SMS verification codes go through one small interface. Providers (SMS_PROVIDER):
 * - `tencent`: Tencent Cloud SMS `SendSms` (API 2021-01-11) signed with TC3-HMAC-SHA256
 *   (tc3.ts; docs/tencent-sms.md). A verification template with two variables: the code and
 *   its validity in minutes.
 * - `standin`: the local runtime's stand-in (local/wechat-standin.ts), which records every text
 *   at `GET ${WECHAT_API_BASE}/_local/sms`. Refused outside the local runtime (lib/config).
 * - `none`: no SMS codes (POST /members/sms-code answers 400 `sms_unavailable`); members prove
 *   their phone with the mini program's phone-number component.
 *
 * Outcomes: resolves when the provider accepted the text; a per-number or app rate limit →
 * TooManyRequestsError (429); a number the provider calls invalid → 400 `invalid_phone`; a
 * number on the do-not-disturb list → 400 `sms_refused`; anything else → UpstreamApiError
 * (answered 503, the member may ask again). Neither the code nor the number is ever logged.
 */
import * as z from 'zod';
import type { HubConfig } from '../config/index.ts';
import { BadRequestError, TooManyRequestsError, UpstreamApiError } from '../errors.ts';
import { tc3Sign } from './tc3.ts';

export interface SmsSender {
  readonly provider: 'tencent' | 'standin';
  /** `phone`: a normalised mainland mobile number (11 digits). */
  sendCode(phone: string, code: string, minutes: number): Promise<void>;
}

export interface SmsOptions {
  fetch?: typeof fetch;
  /** Unix seconds for the request signature (tests). */
  now?: () => number;
  timeoutMs?: number;
}

const API = 'sms.send';

async function post(doFetch: typeof fetch, url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<{ status: number; text: string }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const res = await doFetch(url, { method: 'POST', headers, body, signal: controller.signal });
    return { status: res.status, text: await res.text() };
  } catch {
    throw new UpstreamApiError(`${API}: no answer from the SMS provider`, API, 'network', true);
  } finally {
    clearTimeout(timer);
  }
}

const TencentResponse = z.object({
  Response: z.object({
    Error: z.object({ Code: z.string(), Message: z.string().optional() }).optional(),
    SendStatusSet: z.array(z.object({ Code: z.string(), Message: z.string().optional() })).optional(),
    RequestId: z.string().optional(),
  }),
});

/** What a Tencent status code means for the member asking for a code. */
function tencentOutcome(code: string, message: string): Error | undefined {
  if (code === 'Ok') return undefined;
  if (code.startsWith('LimitExceeded.')) return new TooManyRequestsError('too many codes sent to this number; try again later', 60);
  if (code === 'InvalidParameterValue.IncorrectPhoneNumber') return new BadRequestError('the SMS provider refused this phone number', undefined, 'invalid_phone');
  if (code === 'FailedOperation.PhoneNumberInBlacklist') return new BadRequestError('this number does not receive texts from us (unsubscribed)', undefined, 'sms_refused');
  const retryable = code === 'InternalError' || code.startsWith('InternalError.') || code === 'RequestLimitExceeded';
  return new UpstreamApiError(`${API} failed: ${code} ${message.slice(0, 120)}`.trim(), API, code, retryable);
}

export function tencentSms(cfg: HubConfig, options: SmsOptions = {}): SmsSender {
  const doFetch = options.fetch ?? globalThis.fetch;
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const url = new URL(cfg.TENCENT_SMS_ENDPOINT);
  const contentType = 'application/json; charset=utf-8';
  return {
    provider: 'tencent',
    async sendCode(phone, code, minutes) {
      const payload = JSON.stringify({
        PhoneNumberSet: [`+86${phone}`],
        SmsSdkAppId: cfg.TENCENT_SMS_SDK_APP_ID,
        SignName: cfg.TENCENT_SMS_SIGN_NAME,
        TemplateId: cfg.TENCENT_SMS_TEMPLATE_ID,
        TemplateParamSet: [code, String(minutes)],
      });
      const timestamp = now();
      const signed = tc3Sign({ secretId: cfg.TENCENT_SMS_SECRET_ID ?? '', secretKey: cfg.TENCENT_SMS_SECRET_KEY ?? '', host: url.host, contentType, payload, timestamp });
      const res = await post(
        doFetch,
        url.toString(),
        {
          authorization: signed.authorization,
          'content-type': contentType,
          host: url.host,
          'x-tc-action': 'SendSms',
          'x-tc-timestamp': String(timestamp),
          'x-tc-version': '2021-01-11',
          'x-tc-region': cfg.TENCENT_SMS_REGION,
        },
        payload,
        options.timeoutMs ?? 3000,
      );
      if (res.status >= 500) throw new UpstreamApiError(`${API}: HTTP ${res.status}`, API, `http_${res.status}`, true);
      let parsed: z.infer<typeof TencentResponse>;
      try {
        parsed = TencentResponse.parse(JSON.parse(res.text));
      } catch {
        throw new UpstreamApiError(`${API}: unexpected answer (HTTP ${res.status})`, API, 'bad_response', true);
      }
      const r = parsed.Response;
      const status = r.Error ?? r.SendStatusSet?.[0];
      if (!status) throw new UpstreamApiError(`${API}: answer without a send status`, API, 'bad_response', true);
      const failure = tencentOutcome(status.Code, status.Message ?? '');
      if (failure) throw failure;
    },
  };
}

/** The local stand-in: `POST ${WECHAT_API_BASE}/_local/sms {phone, code, text}`. */
export function standinSms(cfg: HubConfig, options: SmsOptions = {}): SmsSender {
  const doFetch = options.fetch ?? globalThis.fetch;
  const url = `${cfg.WECHAT_API_BASE.replace(/\/+$/, '')}/_local/sms`;
  return {
    provider: 'standin',
    async sendCode(phone, code, minutes) {
      const text = `【SCRM Hub】您的验证码为：${code}，${minutes}分钟内有效。Your code is ${code}, valid ${minutes} minutes.`;
      const res = await post(doFetch, url, { 'content-type': 'application/json' }, JSON.stringify({ phone, code, text }), options.timeoutMs ?? 3000);
      if (res.status !== 200) throw new UpstreamApiError(`${API}: stand-in answered HTTP ${res.status}`, API, `http_${res.status}`, res.status >= 500);
    },
  };
}

/** The configured provider, or undefined when SMS_PROVIDER is `none`. */
export function smsSender(cfg: HubConfig, options: SmsOptions = {}): SmsSender | undefined {
  switch (cfg.SMS_PROVIDER) {
    case 'tencent':
      return tencentSms(cfg, options);
    case 'standin':
      return standinSms(cfg, options);
    default:
      return undefined;
  }
}
