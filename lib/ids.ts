import { createHash, randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Time-sortable id: 10 chars of ms time + 16 random chars (ULID layout). */
export function newId(now = Date.now()): string {
  let t = now;
  let time = '';
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const rnd = randomBytes(10);
  let bits = 0n;
  for (const b of rnd) bits = (bits << 8n) | BigInt(b);
  let r = '';
  for (let i = 0; i < 16; i++) {
    r = CROCKFORD[Number(bits & 31n)] + r;
    bits >>= 5n;
  }
  return time + r;
}

/** Deterministic short id from parts (retries reproduce it). */
export function stableId(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u001f')).digest('base64url').slice(0, 22);
}

/** Stable bucket in [0, n) from a string. */
export function bucketOf(s: string, n: number): number {
  return createHash('sha256').update(s).digest().readUInt32BE(0) % n;
}
