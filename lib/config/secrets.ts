/**
 * In AWS the platform secrets live in one Secrets Manager secret (JSON whose keys are the
 * configuration names). `loadSecrets` reads it once per cold start (cached, refreshed every
 * 5 minutes by the Parameters utility) and merges it into the configuration. Locally
 * (no HUB_SECRET_ARN) it does nothing: the environment and the embedded defaults apply.
 */
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { SECRET_KEYS } from './index.ts';
import { resetConfig } from './index.ts';

let loadedAt = 0;
const MAX_AGE_MS = 300_000;

export async function loadSecrets(): Promise<void> {
  const arn = process.env.HUB_SECRET_ARN;
  if (!arn || Date.now() - loadedAt < MAX_AGE_MS) return;
  const value = (await getSecret(arn, { transform: 'json', maxAge: MAX_AGE_MS / 1000 })) as Record<string, unknown> | undefined;
  for (const key of SECRET_KEYS) {
    const v = value?.[key];
    if (typeof v === 'string' && v) process.env[key] = v;
  }
  loadedAt = Date.now();
  resetConfig();
}
