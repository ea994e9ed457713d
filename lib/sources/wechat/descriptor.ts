/** The WeChat official-account server URL: URL verification (GET) and message push (POST). */
import type { SourceDescriptor } from '../descriptor-types.ts';

export const wechat = {
  id: 'wechat',
  platform: null,
  description: 'WeChat official account: URL verification and message push',
  routes: [
    { method: 'GET', path: '/wechat/{appId}', webhook: true },
    { method: 'POST', path: '/wechat/{appId}', webhook: true },
  ],
  accountParam: 'appId',
  maxBodyBytes: 64 * 1024,
  secretKeys: ['WECHAT_TOKEN', 'WECHAT_AES_KEY', 'WECHAT_APP_SECRET', 'HUB_WECHAT_APPS'],
  secretGroups: ['wechat'],
  stageKeys: ['WECHAT_APP_ID'],
  publicReason:
    'WeChat calls the official-account server URL without any bearer token; the function verifies WeChat signature (sha1 of token, timestamp, nonce; msg_signature in safe mode) on every request and answers 401 otherwise.',
  lambda: { memoryMb: 512, timeoutSeconds: 4 },
  // WeChat waits 5 s for an answer, then retries (docs/platforms.md#wechat-passive-replies); an
  // answer other than success or a reply makes the user see "该公众号暂时无法提供服务".
  reply: { budgetMs: 3_500, successAfterCommit: true },
} as const satisfies SourceDescriptor;
