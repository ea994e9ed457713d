/**
 * The configuration: the root schema (schema.ts), its loader (load.ts) and the trees built
 * from JSON settings (rules.ts, engagement.ts, members.ts).
 *
 * There is no process-wide configuration: a Runtime (lib/runtime/runtime.ts) loads it once and
 * passes it down; everything below the entry points takes it as a parameter.
 */
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
export { parseWechatApps, wechatApp, WECHAT_APP_ID_PATTERN, WECHAT_APP_KINDS, type WechatApp, type WechatAppKind } from './wechat-apps.ts';
