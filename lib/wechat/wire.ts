/**
 * The WeChat API wire format (docs/platforms.md#wechat-outbound-apis): what the client accepts
 * (zod input schemas and the types built from them), what it returns, the answer schemas it
 * checks WeChat's JSON against, and the JSON reading that keeps 64-bit ids exact.
 */
import { parse } from 'lossless-json';
import * as z from 'zod';
import type { TokenCache } from './token-cache.ts';

// ---------------------------------------------------------------------------------------------
// Lossless JSON
// ---------------------------------------------------------------------------------------------

/** A JSON number literal as a JS value: an integer beyond 2^53 stays its exact decimal string. */
function keepUnsafeIntegers(literal: string): number | string {
  return /^-?\d+$/.test(literal) && !Number.isSafeInteger(Number(literal)) ? literal : Number(literal);
}

/**
 * JSON.parse, except that integer literals outside the safe-integer range come back as decimal
 * strings (WeChat msgids exceed 2^53 and JSON.parse would round them). Like JSON.parse it throws
 * a SyntaxError on malformed text; unlike it, also on a key repeated with a different value
 * (lossless-json refuses the ambiguity instead of keeping the last one).
 */
export function parseJsonKeepingBigInts(text: string): unknown {
  return parse(text, null, keepUnsafeIntegers);
}

// ---------------------------------------------------------------------------------------------
// Inputs and results
// ---------------------------------------------------------------------------------------------

/** WeChat openids are 28 characters of [A-Za-z0-9_-]; anything in that alphabet up to 64 is accepted. */
export const Openid = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'openid must be 1-64 characters of [A-Za-z0-9_-]');

export const TemplateInput = z.object({
  touser: Openid,
  templateId: z.string().min(1).max(128),
  url: z.url().optional(),
  miniprogram: z.object({ appid: z.string().min(1), pagepath: z.string().optional() }).optional(),
  data: z.record(z.string().min(1), z.object({ value: z.string(), color: z.string().optional() })),
  clientMsgId: z.string().min(1).optional(),
});
export type TemplateMessage = z.input<typeof TemplateInput>;

/**
 * A subscription message (docs/platforms.md#wechat-subscription-messages): official accounts
 * `subscribe/bizsend` (`page` a web URL), mini programs `subscribe/send` (`page` a page path).
 */
export const SubscribeInput = z.object({
  touser: Openid,
  templateId: z.string().min(1).max(128),
  page: z.string().max(1024).optional(),
  miniprogram: z.object({ appid: z.string().min(1), pagepath: z.string().optional() }).optional(),
  data: z.record(z.string().min(1), z.object({ value: z.string() })),
});
export type SubscribeMessage = z.input<typeof SubscribeInput>;

const customservice = z.object({ kf_account: z.string().min(1) }).optional();
const mediaId = z.object({ media_id: z.string().min(1) });

export const CustomInput = z.discriminatedUnion('msgtype', [
  z.object({ touser: Openid, msgtype: z.literal('text'), text: z.object({ content: z.string().min(1) }), customservice }),
  z.object({ touser: Openid, msgtype: z.literal('image'), image: mediaId, customservice }),
  z.object({ touser: Openid, msgtype: z.literal('voice'), voice: mediaId, customservice }),
  z.object({
    touser: Openid,
    msgtype: z.literal('video'),
    video: z.object({
      media_id: z.string().min(1),
      thumb_media_id: z.string().optional(),
      title: z.string().optional(),
      description: z.string().optional(),
    }),
    customservice,
  }),
  z.object({
    touser: Openid,
    msgtype: z.literal('music'),
    music: z.object({
      title: z.string().optional(),
      description: z.string().optional(),
      musicurl: z.string().min(1),
      hqmusicurl: z.string().min(1),
      thumb_media_id: z.string().min(1),
    }),
    customservice,
  }),
  z.object({
    touser: Openid,
    msgtype: z.literal('news'),
    news: z.object({
      articles: z
        .array(
          z.object({
            title: z.string().min(1),
            description: z.string().optional(),
            url: z.string().optional(),
            picurl: z.string().optional(),
          }),
        )
        .min(1),
    }),
    customservice,
  }),
  z.object({ touser: Openid, msgtype: z.literal('mpnews'), mpnews: mediaId, customservice }),
  z.object({
    touser: Openid,
    msgtype: z.literal('mpnewsarticle'),
    mpnewsarticle: z.object({ article_id: z.string().min(1) }),
    customservice,
  }),
  z.object({
    touser: Openid,
    msgtype: z.literal('miniprogrampage'),
    miniprogrampage: z.object({
      title: z.string().min(1),
      appid: z.string().min(1),
      pagepath: z.string().min(1),
      thumb_media_id: z.string().min(1),
    }),
    customservice,
  }),
  z.object({
    touser: Openid,
    msgtype: z.literal('link'),
    link: z.object({
      title: z.string().min(1),
      description: z.string().optional(),
      url: z.string().min(1),
      thumb_url: z.string().optional(),
    }),
    customservice,
  }),
]);
/** A customer-service message in WeChat's wire format (`msgtype` plus the matching object). */
export type CustomMessage = z.input<typeof CustomInput>;

export const QR_SCENE_MAX_LENGTH = 64;

export interface QrCode {
  ticket: string;
  /** The QR content; render it, or fetch `qrImageUrl`. */
  url: string;
  /** showqrcode URL serving the image for `ticket`. */
  qrImageUrl: string;
}

export interface WechatUserInfo {
  openid: string;
  subscribed: boolean;
  unionid?: string;
  /** Last follow time, epoch ms. */
  subscribeTime?: number;
  /** e.g. `ADD_SCENE_QR_CODE`. */
  subscribeScene?: string;
  qrScene?: string;
  qrSceneStr?: string;
  tagIds: number[];
  remark?: string;
}

export interface OAuthIdentity {
  openid: string;
  unionid?: string;
  scope?: string;
  /** A 快照页 virtual account (is_snapshotuser=1): its openid is not a real person; do not bind it. */
  snapshotUser: boolean;
}

export interface WechatApi {
  readonly appId: string;
  /** A valid access_token (shared cache → stable_token). */
  getAccessToken(): Promise<string>;
  sendTemplate(msg: TemplateMessage): Promise<{ msgid: string }>;
  sendCustom(msg: CustomMessage): Promise<void>;
  /** A subscription message: `bizsend` for an official account, `send` for a mini program. No msgid in the answer. */
  sendSubscribe(msg: SubscribeMessage, kind?: 'official_account' | 'mini_program'): Promise<void>;
  /** Permanent string-scene QR (`QR_LIMIT_STR_SCENE`); scene 1-64 characters. */
  createQrLimitStrScene(sceneStr: string): Promise<QrCode>;
  userInfo(openid: string): Promise<WechatUserInfo>;
  /** Web OAuth code → openid (`sns/oauth2/access_token`). */
  oauthExchange(code: string): Promise<OAuthIdentity>;
  /**
   * Mini program `wx.login` code → openid and unionid (`sns/jscode2session`, docs/platforms.md#mini-program-sign-in).
   * The session_key is never returned nor kept: the hub does not decrypt user data with it.
   */
  codeToSession(code: string): Promise<{ openid: string; unionid?: string }>;
  /**
   * A code from the mini program's phone-number component → the phone it proves
   * (`wxa/business/getuserphonenumber`, docs/wechat-phone-proof.md). The code is single use
   * and valid 5 minutes; the watermark's appid must be this app's.
   */
  phoneNumber(code: string): Promise<PhoneInfo>;
  /** Puts tag `tagId` on 1-50 followers (`tags/members/batchtagging`); more is a BadRequestError before any call. */
  batchTagging(tagId: number, openids: readonly string[]): Promise<void>;
}

export interface PhoneInfo {
  /** With the country code for numbers outside the mainland. */
  phoneNumber: string;
  purePhoneNumber: string;
  countryCode: string;
}

export interface WechatApiOptions {
  appId: string;
  appSecret: string;
  /** e.g. `https://api.weixin.qq.com`, or the local stand-in's URL. */
  baseUrl: string;
  tokenCache: TokenCache;
  fetch?: typeof fetch;
  /** Clock, epoch ms. */
  now?: () => number;
  /** Per HTTP call, including reading the body. */
  timeoutMs?: number;
  /** Fetch a new token this long before the current one expires. Default 5 min. */
  refreshAheadMs?: number;
  /** How long a token read from the shared cache is reused from process memory. Default 1 min. */
  memoryTtlMs?: number;
  /** Default `https://mp.weixin.qq.com/cgi-bin/showqrcode`. */
  qrImageBase?: string;
}

// ---------------------------------------------------------------------------------------------
// Answer schemas
// ---------------------------------------------------------------------------------------------

export const TokenResponse = z.object({ access_token: z.string().min(1), expires_in: z.number().positive() });
export const TemplateResponse = z.object({
  msgid: z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]).transform(String),
});
export const QrResponse = z.object({ ticket: z.string().min(1), url: z.string().min(1) });
const optionalText = z
  .string()
  .optional()
  .transform((s) => (s === undefined || s.trim() === '' ? undefined : s.trim()));
export const UserInfoResponse = z.object({
  subscribe: z.coerce.number(),
  openid: z.string().min(1),
  unionid: optionalText,
  subscribe_time: z.number().optional(),
  subscribe_scene: optionalText,
  qr_scene: z.union([z.number(), z.string()]).optional(),
  qr_scene_str: optionalText,
  tagid_list: z.array(z.number()).optional(),
  remark: optionalText,
});
export const OAuthResponse = z.object({
  openid: z.string().min(1),
  unionid: optionalText,
  scope: z.string().optional(),
  is_snapshotuser: z.coerce.number().optional(),
});

export const SessionResponse = z.object({
  openid: z.string().min(1),
  unionid: optionalText,
  session_key: z.string().optional(),
});

export const PhoneResponse = z.object({
  phone_info: z.object({
    phoneNumber: z.string().min(1),
    purePhoneNumber: z.string().min(1),
    countryCode: z.union([z.string(), z.number()]).transform(String),
    watermark: z.object({ appid: z.string(), timestamp: z.number().optional() }),
  }),
});

/** API names carried by UpstreamApiError (`api`); WECHAT_ERROR_TABLE applies to every `wechat.` name. */
export const API = {
  token: 'wechat.stable_token',
  template: 'wechat.template_send',
  custom: 'wechat.custom_send',
  subscribe: 'wechat.subscribe_send',
  qrcode: 'wechat.qrcode_create',
  userInfo: 'wechat.user_info',
  oauth: 'wechat.oauth2_access_token',
  session: 'wechat.jscode2session',
  phone: 'wechat.getuserphonenumber',
  tagging: 'wechat.tags_batchtagging',
} as const;

/** tags/members/batchtagging takes at most 50 openids a call (docs/platforms.md#wechat-user-tags). */
export const TAGGING_MAX_OPENIDS = 50;
