/** The WeCom (企业微信) callback URL of the brand's self-built app: URL verification (GET) and events (POST). */
import type { SourceDescriptor } from '../descriptor-types.ts';

export const wecom = {
  id: 'wecom',
  platform: null,
  description: 'WeCom customer contact: callback URL verification and change_external_contact events',
  routes: [
    { method: 'GET', path: '/wecom/{corpId}', webhook: true },
    { method: 'POST', path: '/wecom/{corpId}', webhook: true },
  ],
  accountParam: 'corpId',
  maxBodyBytes: 64 * 1024,
  secretKeys: ['WECOM_TOKEN', 'WECOM_AES_KEY', 'WECOM_CONTACT_SECRET', 'WECOM_AGENT_SECRET'],
  secretGroups: ['wecom'],
  // Optional: a stage without WECOM_CORP_ID (cdk.json stages.<stage>.app) has no WeCom door (404).
  stageKeys: [],
  publicReason:
    'WeCom calls the callback URL without any bearer token; the function verifies the msg_signature (sha1 of token, timestamp, nonce and ciphertext) and the timestamp window on every request, decrypts with the corp id as receive id, and answers 401 otherwise.',
  lambda: { memoryMb: 512, timeoutSeconds: 4 },
  // WeCom waits 5 s, then retries (docs/platforms.md#wecom-callback); customer-contact events need
  // no passive reply, so `success` is answered once the event committed.
  reply: { budgetMs: 3_500, successAfterCommit: true },
} as const satisfies SourceDescriptor;
