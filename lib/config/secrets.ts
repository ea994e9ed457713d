/**
 * In AWS the secrets live in one Secrets Manager secret per group (lib/config/schema.ts
 * SECRET_GROUPS; JSON whose keys are the configuration names). A function is given the ARNs of
 * its groups only, as HUB_SECRET_ARNS (`{group: arn}`); HUB_SECRET_ARN (one secret holding every
 * key) still works. `loadSecrets` reads each of them (cached, refreshed every 5 minutes by the
 * Parameters utility) and merges their keys into the configuration. Locally (neither set) it
 * does nothing: the environment and the embedded defaults apply.
 *
 * `coldStart` runs once at module load of every function (top-level await): it reads the
 * secret and validates the whole configuration, so a missing or invalid secret fails the cold
 * start with one clear log line naming the variable, instead of answering 500 per request.
 */
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { config, parseSecretArns, resetConfig, SECRET_KEYS } from './index.ts';
import { logger } from '../log.ts';

let loadedAt = 0;
const MAX_AGE_MS = 300_000;

export async function loadSecrets(): Promise<void> {
  const { HUB_SECRET_ARN: single, HUB_SECRET_ARNS: grouped } = process.env;
  const arns = [...(single ? [single] : []), ...Object.values(grouped ? parseSecretArns(grouped) : {})];
  if (!arns.length || Date.now() - loadedAt < MAX_AGE_MS) return;
  const values = await Promise.all(arns.map(async (arn) => (await getSecret(arn, { transform: 'json', maxAge: MAX_AGE_MS / 1000 })) as Record<string, unknown> | undefined));
  for (const value of values) {
    for (const key of SECRET_KEYS) {
      const v = value?.[key];
      // A blank value is kept: the configuration refuses it by name.
      if (typeof v === 'string') process.env[key] = v;
    }
  }
  loadedAt = Date.now();
  resetConfig();
}

/** Loads the secret and validates the configuration; logs and rethrows what is wrong. */
export async function coldStart(): Promise<void> {
  try {
    await loadSecrets();
    config();
  } catch (err) {
    logger.error('configuration is invalid: this function cannot start', { reason: err instanceof Error ? err.message : String(err) });
    throw err;
  }
}
