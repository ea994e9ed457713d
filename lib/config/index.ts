/**
 * The configuration: the root schema (schema.ts), its loader (load.ts) and the trees built
 * from JSON settings (rules.ts, engagement.ts, members.ts).
 *
 * `config()` is the process-wide root, loaded once from the environment. Only entry points
 * (functions/, the local runtime) call it; everything below them takes the configuration as a
 * parameter.
 */
import { loadConfig } from './load.ts';
import type { HubConfig } from './schema.ts';

export { describeConfig, fingerprint, loadConfig, LOCAL_DEFAULTS, requiredSecrets, settingIssues, type ConfigInput } from './load.ts';
export {
  LOCAL_MAX_SKEW_SECONDS,
  MAX_DEPLOYED_SKEW_SECONDS,
  parseSecretArns,
  SECRET_GROUP_NAMES,
  SECRET_GROUPS,
  SECRET_KEYS,
  SECRET_PLACEHOLDER,
  SettingsSchema,
  type HubConfig,
  type SecretGroup,
  type SecretKey,
  type Settings,
} from './schema.ts';

let cached: HubConfig | undefined;
/** Process-wide configuration (Lambda cold start or local runtime). */
export function config(): HubConfig {
  cached ??= loadConfig({ env: process.env });
  return cached;
}
/** Tests and the local runtime reset it after changing the environment. */
export function resetConfig(): void {
  cached = undefined;
}
