/** The process-wide WeChat API client: configuration from lib/config, token shared through DynamoDB. */
import { config } from '../config/index.ts';
import { createWechatApi } from './client.ts';
import type { WechatApi } from './wire.ts';
import { dynamoTokenCache } from './token-cache.ts';

let api: WechatApi | undefined;
let forBase: string | undefined;

export function wechatApi(): WechatApi {
  const cfg = config();
  if (!api || forBase !== cfg.WECHAT_API_BASE) {
    api = createWechatApi({ appId: cfg.WECHAT_APP_ID, appSecret: cfg.WECHAT_APP_SECRET, baseUrl: cfg.WECHAT_API_BASE, tokenCache: dynamoTokenCache() });
    forBase = cfg.WECHAT_API_BASE;
  }
  return api;
}

