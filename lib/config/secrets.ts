/**
 * In AWS the platform secrets live in one Secrets Manager secret (JSON whose keys are the
 * configuration names). `loadSecrets` reads it (cached, refreshed every 5 minutes by the
 * Parameters utility) and merges it into the configuration. Locally (no HUB_SECRET_ARN) it does
 * nothing: the environment and the embedded defaults apply.
 *
 * `coldStart` runs once at module load of every function (top-level await): it reads the
 * secret and validates the whole configuration, so a missing or invalid secret fails the cold
 * start with one clear log line naming the variable, instead of answering 500 per request.
 */
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { config, resetConfig, SECRET_KEYS } from './index.ts';
import { logger } from '../log.ts';

let loadedAt = 0;
const MAX_AGE_MS = 300_000;

export async function loadSecrets(): Promise<void> {
  const arn = process.env.HUB_SECRET_ARN;
  if (!arn || Date.now() - loadedAt < MAX_AGE_MS) return;
  const value = (await getSecret(arn, { transform: 'json', maxAge: MAX_AGE_MS / 1000 })) as Record<string, unknown> | undefined;
  for (const key of SECRET_KEYS) {
    const v = value?.[key];
    // A blank value is kept: the configuration refuses it by name.
    if (typeof v === 'string') process.env[key] = v;
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
