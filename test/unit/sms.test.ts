/**
 * Tencent Cloud SMS: the TC3-HMAC-SHA256 signature against the official worked example, and
 * the SendSms request and answers as Tencent documents them (a recording fetch stands in for
 * Tencent's server, which cannot run here).
 */
import { describe, expect, it } from 'vitest';
import { tc3Sign } from '../../lib/sms/tc3.ts';
import { tencentSms } from '../../lib/sms/index.ts';
import { loadConfig } from '../../lib/config/index.ts';
import { BadRequestError, TooManyRequestsError, UpstreamApiError } from '../../lib/errors.ts';

describe('TC3-HMAC-SHA256', () => {
  it('reproduces the official worked example (签名方法 v3, cloud.tencent.com/document/api/213/30654)', () => {
    // The document's own inputs, masked key strings included, and its published results.
    const s = tc3Sign({
      secretId: 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******',
      secretKey: 'Gu5t9xGARNpq86cd98joQYCN3*******',
      host: 'cvm.tencentcloudapi.com',
      contentType: 'application/json; charset=utf-8',
      payload: '{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}',
      timestamp: 1551113065,
    });
    expect(s.canonicalRequest.split('\n').at(-1)).toBe('35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064');
    expect(s.stringToSign).toBe('TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031');
    expect(s.signature).toBe('2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c');
    expect(s.authorization).toBe(
      'TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c',
    );
  });
});

describe('Tencent SendSms', () => {
  const cfg = loadConfig({ env: {
    SMS_PROVIDER: 'tencent',
    TENCENT_SMS_SECRET_ID: 'AKIDexample',
    TENCENT_SMS_SECRET_KEY: 'secret-example',
    TENCENT_SMS_SDK_APP_ID: '1400006666',
    TENCENT_SMS_SIGN_NAME: '焕亮',
    TENCENT_SMS_TEMPLATE_ID: '449739',
  } });
  function sender(answer: unknown, status = 200) {
    const seen: { url: string; headers: Record<string, string>; body: string }[] = [];
    const fetchStub = (async (url: string, init: RequestInit) => {
      seen.push({ url, headers: init.headers as Record<string, string>, body: String(init.body) });
      return new Response(JSON.stringify(answer), { status });
    }) as unknown as typeof fetch;
    return { sms: tencentSms(cfg, { fetch: fetchStub, now: () => 1_700_000_000 }), seen };
  }

  it('sends the documented request, signed, and resolves on Code "Ok"', async () => {
    const { sms, seen } = sender({ Response: { SendStatusSet: [{ SerialNo: '1', PhoneNumber: '+8613900000001', Fee: 1, Code: 'Ok', Message: 'send success' }], RequestId: 'r' } });
    await sms.sendCode('13900000001', '123456', 5);
    const req = seen[0]!;
    expect(req.url).toBe('https://sms.tencentcloudapi.com/');
    expect(JSON.parse(req.body)).toEqual({ PhoneNumberSet: ['+8613900000001'], SmsSdkAppId: '1400006666', SignName: '焕亮', TemplateId: '449739', TemplateParamSet: ['123456', '5'] });
    expect(req.headers).toMatchObject({ 'x-tc-action': 'SendSms', 'x-tc-version': '2021-01-11', 'x-tc-region': 'ap-guangzhou', 'x-tc-timestamp': '1700000000', host: 'sms.tencentcloudapi.com' });
    const expected = tc3Sign({ secretId: 'AKIDexample', secretKey: 'secret-example', host: 'sms.tencentcloudapi.com', contentType: 'application/json; charset=utf-8', payload: req.body, timestamp: 1_700_000_000 });
    expect(req.headers.authorization).toBe(expected.authorization);
    expect(req.headers.authorization).toContain('/2023-11-14/sms/tc3_request');
  });

  it('maps per-number failures: limits → 429, a bad number → 400, others → upstream error', async () => {
    const status = (Code: string) => ({ Response: { SendStatusSet: [{ Code, Message: 'm' }], RequestId: 'r' } });
    await expect(sender(status('LimitExceeded.PhoneNumberDailyLimit')).sms.sendCode('13900000001', '123456', 5)).rejects.toBeInstanceOf(TooManyRequestsError);
    await expect(sender(status('InvalidParameterValue.IncorrectPhoneNumber')).sms.sendCode('13900000001', '123456', 5)).rejects.toBeInstanceOf(BadRequestError);
    await expect(sender(status('FailedOperation.InsufficientBalanceInSmsPackage')).sms.sendCode('13900000001', '123456', 5)).rejects.toBeInstanceOf(UpstreamApiError);
    await expect(sender({ Response: { Error: { Code: 'AuthFailure.SignatureExpire', Message: 'expired' }, RequestId: 'r' } }).sms.sendCode('13900000001', '123456', 5)).rejects.toBeInstanceOf(UpstreamApiError);
  });
});
