/** JD order triggers pushed by a relay, signed with JD's md5 rule. */
import type { SourceDescriptor } from '../descriptor-types.ts';

export const jd = {
  id: 'jd',
  platform: 'jd',
  description: 'JD order triggers pushed by a relay (JD md5 signature)',
  routes: [{ method: 'POST', path: '/jd/{appKey}', webhook: true }],
  accountParam: 'appKey',
  maxBodyBytes: 512 * 1024,
  builtinChannel: { channel: 'jd', name: '京东', kind: 'platform' },
  secretKeys: ['JD_APP_SECRET'],
  secretGroups: ['jd'],
  stageKeys: ['JD_APP_KEY'],
  publicReason:
    'Called by the JD relay, which cannot hold a hub JWT; the function verifies the JD md5 signature with the app secret and answers 401 otherwise.',
  lambda: { memoryMb: 512, timeoutSeconds: 10 },
} as const satisfies SourceDescriptor;
