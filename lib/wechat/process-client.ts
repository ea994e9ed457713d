/** The process-wide WeChat API client: configuration from lib/config, token shared through DynamoDB. */
import { config } from '../config/index.ts';
import { ddb, tableName } from '../store/client.ts';
import { dynamoTokenCache } from '../store/entities/token.ts';
import { createWechatApi } from './client.ts';
import type { WechatApi } from './wire.ts';

let api: WechatApi | undefined;
let forBase: string | undefined;

export function wechatApi(): WechatApi {
  const cfg = config();
  if (!api || forBase !== cfg.WECHAT_API_BASE) {
    api = createWechatApi({ appId: cfg.WECHAT_APP_ID, appSecret: cfg.WECHAT_APP_SECRET, baseUrl: cfg.WECHAT_API_BASE, tokenCache: dynamoTokenCache({ db: ddb(), table: tableName() }) });
    forBase = cfg.WECHAT_API_BASE;
  }
  return api;
}

