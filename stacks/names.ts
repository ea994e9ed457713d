/**
 * Physical names the stack gives and operators' scripts address (no CDK import, so scripts can
 * use it without loading the CDK).
 */
import type { SecretGroup } from '../lib/config/index.ts';

/** Secrets Manager name of a stage's secret group: what `npm run secrets` addresses (docs/deploy.md). */
export const secretName = (stage: string, group: SecretGroup): string => `scrm-hub/${stage}/${group}`;
