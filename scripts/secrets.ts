/**
 * Fills and inspects a stage's secrets (one Secrets Manager secret per group of
 * lib/config/schema.ts SECRET_GROUPS, named `scrm-hub/<stage>/<group>`; docs/deploy.md):
 *
 *   npm run secrets -- put   --stage prod --from secrets.json [--region r] [--dry-run]
 *   npm run secrets -- get   --stage prod [--region r]
 *   npm run secrets -- check --stage prod [--region r] [--sms tencent] [--wechat-mode plain]
 *
 * `put` reads a flat JSON object `{ "WECHAT_APP_SECRET": "...", ... }`, refuses any name that is
 * not a secret of the hub, validates every value with the runtime's own schema
 * (lib/config/load.ts `settingIssues`), then per touched group GETs the current value, MERGES
 * the file's keys into it (an existing key is never dropped) and PUTs the result. Only key names,
 * lengths and SHA-256 fingerprints are ever printed, never a value. `check` fails (exit 1) when a
 * key the functions need is missing or a stored value would not pass the runtime's validation.
 * The endpoint may be overridden with AWS_ENDPOINT_URL_SECRETS_MANAGER (SDK standard).
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { GetSecretValueCommand, PutSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { fingerprint, requiredSecrets, SECRET_GROUP_NAMES, SECRET_GROUPS, SECRET_KEYS, settingIssues, type SecretGroup, type SecretKey } from '../lib/config/index.ts';
import { secretName } from '../stacks/names.ts';

export type SecretValues = Partial<Record<SecretKey, string>>;

const GROUP_OF = new Map<string, SecretGroup>(SECRET_GROUP_NAMES.flatMap((g) => SECRET_GROUPS[g].map((k) => [k, g] as const)));

/** A refusal of the input: printed as is, exit status 1, nothing written. */
export class SecretsInputError extends Error {
  override name = 'SecretsInputError';
}

/**
 * Checks a `put` file: a flat object of secret names to non-empty strings that the runtime
 * schema accepts. Returns the values split by group; throws SecretsInputError listing every problem.
 */
export function parseSecretFile(raw: unknown): Map<SecretGroup, SecretValues> {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new SecretsInputError('the file must hold one JSON object of secret names to values');
  const problems: string[] = [];
  const byGroup = new Map<SecretGroup, SecretValues>();
  for (const [key, value] of Object.entries(raw)) {
    const group = GROUP_OF.get(key);
    if (!group) {
      problems.push(`${key} is not a hub secret (known: ${SECRET_KEYS.join(', ')})`);
      continue;
    }
    if (typeof value !== 'string') {
      problems.push(`${key} must be a string`);
      continue;
    }
    const issues = settingIssues({ [key]: value });
    if (issues.length) problems.push(...issues);
    else byGroup.set(group, { ...byGroup.get(group), [key]: value });
  }
  if (problems.length) throw new SecretsInputError(`refused, nothing written: ${problems.join('; ')}`);
  if (!byGroup.size) throw new SecretsInputError('the file names no secret');
  return byGroup;
}

/** The stored JSON of a group: an object of strings (a secret created by the stack holds `{}`). */
export function parseStored(group: SecretGroup, text: string | undefined): Record<string, string> {
  let value: unknown;
  try {
    value = JSON.parse(text ?? '{}');
  } catch {
    throw new SecretsInputError(`secret ${group} does not hold JSON: fix it in the console before merging into it`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    throw new SecretsInputError(`secret ${group} does not hold a JSON object of strings`);
  }
  return value as Record<string, string>;
}

export interface MergeLine {
  key: string;
  change: 'added' | 'changed' | 'unchanged' | 'kept';
  /** `(<n> chars, sha256 <8 hex>)` of the value after the merge. */
  fingerprint: string;
}

/** current + incoming: every current key stays, incoming keys are added or replace theirs. */
export function mergeSecret(current: Record<string, string>, incoming: SecretValues): { merged: Record<string, string>; lines: MergeLine[] } {
  const merged: Record<string, string> = { ...current, ...(incoming as Record<string, string>) };
  const lines = Object.keys(merged)
    .sort()
    .map((key): MergeLine => {
      const next = merged[key]!;
      const change = !(key in incoming) ? 'kept' : !(key in current) ? 'added' : current[key] === next ? 'unchanged' : 'changed';
      return { key, change, fingerprint: fingerprint(next) };
    });
  return { merged, lines };
}

/** Problems of a stage's stored secrets for the given settings: missing required keys, values the runtime refuses. */
export function checkStored(stored: Map<SecretGroup, Record<string, string>>, settings: { WECHAT_MESSAGE_MODE?: string; SMS_PROVIDER?: string }): string[] {
  const all: Record<string, string> = {};
  const problems: string[] = [];
  for (const [group, values] of stored) {
    for (const [k, v] of Object.entries(values)) {
      if (GROUP_OF.get(k) !== group) problems.push(`${group}: ${k} does not belong in this secret`);
      else all[k] = v;
    }
  }
  for (const k of requiredSecrets(settings)) if (all[k] === undefined) problems.push(`${k} is missing (secret ${GROUP_OF.get(k)})`);
  problems.push(...settingIssues(all));
  return problems;
}

async function readGroup(client: SecretsManagerClient, stage: string, group: SecretGroup): Promise<Record<string, string>> {
  try {
    const res = await client.send(new GetSecretValueCommand({ SecretId: secretName(stage, group) }));
    return parseStored(group, res.SecretString);
  } catch (err) {
    if (err instanceof ResourceNotFoundException) {
      throw new SecretsInputError(`secret ${secretName(stage, group)} does not exist: deploy the stage first (docs/deploy.md)`);
    }
    throw err;
  }
}

export interface RunOptions {
  client: SecretsManagerClient;
  out: (line: string) => void;
}

/** The CLI without process concerns: returns the exit status. */
export async function run(argv: string[], { client, out }: RunOptions): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      stage: { type: 'string' },
      from: { type: 'string' },
      region: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      sms: { type: 'string' },
      'wechat-mode': { type: 'string' },
    },
  });
  const [command] = positionals;
  const stage = values.stage;
  if (!stage || !/^[a-z][a-z0-9-]{0,19}$/.test(stage)) throw new SecretsInputError('--stage <name> is required (lower-case letters, digits, dashes)');

  if (command === 'put') {
    if (!values.from) throw new SecretsInputError('put needs --from <file.json>');
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(values.from, 'utf8'));
    } catch (err) {
      throw new SecretsInputError(`cannot read ${values.from} as JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
    const byGroup = parseSecretFile(raw);
    // Read everything first: a missing or broken secret stops the run before any write.
    const plans: { group: SecretGroup; merged: Record<string, string>; lines: MergeLine[] }[] = [];
    for (const [group, incoming] of byGroup) plans.push({ group, ...mergeSecret(await readGroup(client, stage, group), incoming) });
    for (const { group, merged, lines } of plans) {
      out(`${secretName(stage, group)}${values['dry-run'] ? ' (dry run: not written)' : ''}`);
      for (const l of lines) out(`  ${l.key.padEnd(24)} ${l.change.padEnd(9)} ${l.fingerprint}`);
      if (!values['dry-run'] && lines.some((l) => l.change === 'added' || l.change === 'changed')) {
        await client.send(new PutSecretValueCommand({ SecretId: secretName(stage, group), SecretString: JSON.stringify(merged) }));
      }
    }
    return 0;
  }
  if (command === 'get' || command === 'check') {
    const stored = new Map<SecretGroup, Record<string, string>>();
    for (const group of SECRET_GROUP_NAMES) stored.set(group, await readGroup(client, stage, group));
    if (command === 'get') {
      for (const [group, values] of stored) {
        out(secretName(stage, group));
        for (const key of SECRET_GROUPS[group]) out(`  ${key.padEnd(24)} ${values[key] === undefined ? '(not set)' : fingerprint(values[key])}`);
      }
      return 0;
    }
    const problems = checkStored(stored, { SMS_PROVIDER: values.sms, WECHAT_MESSAGE_MODE: values['wechat-mode'] });
    for (const p of problems) out(`problem: ${p}`);
    out(problems.length ? `${problems.length} problem(s) in stage ${stage}` : `stage ${stage}: every needed secret is set and valid`);
    return problems.length ? 1 : 0;
  }
  throw new SecretsInputError('usage: npm run secrets -- <put|get|check> --stage <stage> [--from file.json] [--region region] [--dry-run]');
}

/** The stage's region from cdk.json, unless --region says otherwise. */
function regionOf(argv: string[]): string | undefined {
  const i = argv.indexOf('--region');
  if (i >= 0) return argv[i + 1];
  const s = argv.indexOf('--stage');
  const cdk = JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as { context: { stages: Record<string, { region?: string }> } };
  return s >= 0 ? cdk.context.stages[argv[s + 1] ?? '']?.region : undefined;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  const client = new SecretsManagerClient({ region: regionOf(argv) });
  run(argv, { client, out: (l) => console.log(l) })
    .then((code) => process.exit(code))
    .catch((err: unknown) => {
      console.error(err instanceof SecretsInputError ? err.message : `failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    });
}
