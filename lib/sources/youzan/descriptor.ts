/** Youzan push verified by Event-Sign; buyer phones are hashed with PHONE_HASH_SECRET (group `keys`). */
import type { SourceDescriptor } from '../descriptor-types.ts';

export const youzan = {
  id: 'youzan',
  platform: 'youzan',
  description: 'Youzan push (Event-Sign)',
  routes: [{ method: 'POST', path: '/youzan/{clientId}', webhook: true }],
  accountParam: 'clientId',
  maxBodyBytes: 512 * 1024,
  builtinChannel: { channel: 'youzan', name: '有赞', kind: 'platform' },
  secretKeys: ['YOUZAN_CLIENT_SECRET'],
  secretGroups: ['youzan', 'keys'],
  stageKeys: ['YOUZAN_CLIENT_ID'],
  publicReason:
    'Youzan push cannot send a bearer token; the function verifies Event-Sign = md5(client_id + raw body + client_secret) and answers 401 otherwise.',
  lambda: { memoryMb: 512, timeoutSeconds: 10 },
} as const satisfies SourceDescriptor;
