/** Tmall/Taobao TMC messages pushed by a relay or the TMC poller, TOP-signed. */
import type { SourceDescriptor } from '../descriptor-types.ts';

export const tmall = {
  id: 'tmall',
  platform: 'tmall',
  description: 'Tmall/Taobao TMC messages pushed by a relay (TOP-signed)',
  routes: [{ method: 'POST', path: '/tmall/{appKey}', webhook: true }],
  accountParam: 'appKey',
  maxBodyBytes: 512 * 1024,
  builtinChannel: { channel: 'tmall', name: '天猫', kind: 'platform' },
  // The seller's session key is read by the catch-up poll and the trade detail calls (functions/reconcile.ts).
  secretKeys: ['TMALL_APP_SECRET', 'TMALL_SESSION_KEY'],
  secretGroups: ['tmall'],
  stageKeys: ['TMALL_APP_KEY'],
  publicReason:
    'Called by the TMC relay/poller, which cannot hold a hub JWT; the function verifies the TOP signature (md5/hmac over the sorted parameters and body with the app secret) and answers 401 otherwise.',
  lambda: { memoryMb: 512, timeoutSeconds: 10 },
} as const satisfies SourceDescriptor;
