/**
 * In AWS the secrets live in one Secrets Manager secret per group (lib/config/schema.ts
 * SECRET_GROUPS; JSON whose keys are the configuration names). A function is given the ARNs of
 * its groups only, as HUB_SECRET_ARNS (`{group: arn}`); HUB_SECRET_ARN (one secret holding every
 * key) still works. `readSecrets` reads each of them through the Parameters utility (cached for
 * SECRET_MAX_AGE_MS) and returns their configuration keys; it writes nothing anywhere. Locally
 * (neither set) there is nothing to read: the environment and the embedded defaults apply.
 */
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { parseSecretArns, SECRET_KEYS } from '../config/index.ts';

/** Secrets are read again when the values in hand are this old (the rotation window). */
export const SECRET_MAX_AGE_MS = 300_000;

/** The secret ARNs an environment names (HUB_SECRET_ARN, then every group of HUB_SECRET_ARNS). */
export function secretArns(env: Readonly<Record<string, string | undefined>>): string[] {
  const { HUB_SECRET_ARN: single, HUB_SECRET_ARNS: grouped } = env;
  return [...(single ? [single] : []), ...Object.values(grouped ? parseSecretArns(grouped) : {})];
}

/** The configuration keys held by the given secrets (a blank value is kept: the configuration refuses it by name). */
export async function readSecrets(arns: readonly string[]): Promise<Record<string, string>> {
  const values = await Promise.all(arns.map(async (arn) => (await getSecret(arn, { transform: 'json', maxAge: SECRET_MAX_AGE_MS / 1000 })) as Record<string, unknown> | undefined));
  const out: Record<string, string> = {};
  for (const value of values) {
    for (const key of SECRET_KEYS) {
      const v = value?.[key];
      if (typeof v === 'string') out[key] = v;
    }
  }
  return out;
}
