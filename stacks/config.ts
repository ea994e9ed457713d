/**
 * Per-stage deployment settings. They live in cdk.json under `context.stages.<name>` and are
 * selected with `-c stage=<name>` (default `dev`). Everything is validated here, so a typo in
 * cdk.json fails the synth with a clear message instead of deploying a half-configured stack.
 */
import { readFileSync } from 'node:fs';
import { RemovalPolicy, type StackProps } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import * as z from 'zod';
import { SECRET_GROUPS, SECRET_KEYS, settingIssues, type SecretGroup, type SecretKey } from '../lib/config/index.ts';
import { FUNCTIONS, SOURCES, type FunctionSpec } from '../lib/manifest.ts';
import { QUEUE_URL_ENV } from '../lib/queues.ts';

export const DEFAULT_STAGE = 'dev';
export const DEFAULT_REGION = 'ap-southeast-1';
/** Used when the CLI has no credentials to derive the account from (offline synth). */
export const PLACEHOLDER_ACCOUNT = '111111111111';

const retentionValues = new Set<number>(Object.values(RetentionDays).filter((v): v is number => typeof v === 'number'));
const functionNames = new Set(FUNCTIONS.map((f) => f.name));
/** `METHOD /path` of every route without the admin JWT. */
const PUBLIC_ROUTE_KEYS = new Set(FUNCTIONS.flatMap((f) => (f.routes ?? []).filter((r) => !r.admin).map((r) => `${r.method} ${r.path}`)));

/** The stage where placeholders, a missing alarm subscription and an unpinned account are allowed. */
export const SANDBOX_STAGE = 'dev';
/** CodeDeploy traffic-shifting configurations a stage may choose (aws-codedeploy LambdaDeploymentConfig names). */
export const DEPLOYMENT_CONFIGS = [
  'ALL_AT_ONCE',
  'CANARY_10PERCENT_5MINUTES',
  'CANARY_10PERCENT_10MINUTES',
  'CANARY_10PERCENT_15MINUTES',
  'CANARY_10PERCENT_30MINUTES',
  'LINEAR_10PERCENT_EVERY_1MINUTE',
  'LINEAR_10PERCENT_EVERY_2MINUTES',
  'LINEAR_10PERCENT_EVERY_3MINUTES',
  'LINEAR_10PERCENT_EVERY_10MINUTES',
] as const;
/** Settings the stack itself gives every function; a stage cannot set them. */
const STACK_OWNED = new Set<string>(['HUB_TABLE', 'PORT', 'WECHAT_STANDIN_PORT', 'TOP_STANDIN_PORT', 'HUB_ARCHIVE_REQUESTS_STREAM', 'HUB_ARCHIVE_EVENTS_STREAM', ...Object.values(QUEUE_URL_ENV)]);
const SECRET_NAMES = new Set<string>(SECRET_KEYS);

/**
 * Text that marks a value nobody filled in: `REPLACE…` (any case) and the reserved example
 * domains (RFC 2606: example.com/.net/.org). Anything else is taken as meant, including the
 * documentation account id 123456789012 — use a stage file (docs/deploy.md) for real values.
 */
export const PLACEHOLDER = /REPLACE|(^|[./@])example\.(com|net|org)(\/|$|:)/i;

const StageSchema = z
  .object({
    /** AWS account the stage deploys to (12 digits); required outside dev. */
    account: z.string().regex(/^\d{12}$/, '12 digits').optional(),
    /** AWS region of the stack. */
    region: z.string().min(1).default(DEFAULT_REGION),
    /** Lambda architecture of every function (per region: see docs/platforms.md#aws-china-regions). */
    architecture: z.enum(['arm64', 'x86_64']).default('arm64'),
    /** Lambda runtime of every function (the bundles target node22; nodejs20.x only where 22 is not offered). */
    runtime: z.enum(['nodejs22.x', 'nodejs20.x']).default('nodejs22.x'),
    /** X-Ray active tracing (off where X-Ray is not offered, e.g. a China region without it). */
    tracing: z.boolean().default(true),
    /**
     * Custom domain of the HTTP API with an ACM certificate of the same region (required in the
     * AWS China regions, where unauthenticated routes must be served from an ICP-filed domain).
     */
    domain: z.object({ name: z.string().regex(/^[a-z0-9.-]+\.[a-z]{2,}$/i, 'a host name'), certificateArn: z.string().regex(/^arn:aws(-cn)?:acm:/, 'an ACM certificate ARN') }).optional(),
    /** CodeDeploy traffic shifting from the old to the new version of every function's `live` alias. */
    deployment: z.enum(DEPLOYMENT_CONFIGS).default('ALL_AT_ONCE'),
    /** What happens to stateful resources (table, secret, logs, queues) when the stack goes away. */
    removalPolicy: z.enum(['destroy', 'retain']),
    /** DynamoDB deletion protection on the table. */
    deletionProtection: z.boolean(),
    /** CloudWatch Logs retention for function, access and flow logs, in days. */
    logRetentionDays: z.number().int().refine((d) => retentionValues.has(d), 'not a CloudWatch Logs retention value'),
    /** HTTP API stage throttling (requests per second, and burst). */
    throttle: z.object({ rateLimit: z.number().positive(), burstLimit: z.number().int().positive() }),
    /**
     * Per-route throttles of public routes, by route key (`POST /codes/scan`), below the stage
     * throttle: a flood on one door is refused there (429) instead of using up the whole stage.
     */
    routeThrottles: z.record(z.string(), z.object({ rateLimit: z.number().positive(), burstLimit: z.number().int().positive() })).default({}),
    /**
     * Reserved concurrency per function name, over the manifest's: `wechat` gets its own share so
     * no flood on another route (or a queue consumer) can starve the WeChat webhook. Keep the
     * account's unreserved concurrency at 100 or more (Lambda refuses otherwise).
     */
    reservedConcurrency: z.record(z.string(), z.number().int().min(1)).default({}),
    /**
     * Browser origins allowed to call the member-facing routes (CORS): the H5 / member-centre
     * hosts, `https://` only; `*` only in dev.
     */
    corsOrigins: z.array(z.string().regex(/^(\*|https:\/\/[a-z0-9.-]+(:\d+)?|http:\/\/(localhost|127\.0\.0\.1)(:\d+)?)$/i, 'an origin: https://host[:port], or * (dev only)')).default([]),
    /** A VPC with one NAT gateway behind an Elastic IP for the functions that call the WeChat API. */
    fixedEgressIp: z.boolean(),
    /** JWT authorizer of the admin routes. */
    jwt: z.object({
      issuer: z.url({ protocol: /^https$/ }),
      audience: z.array(z.string().min(1)).min(1),
      /** Scopes every admin route requires (none: any valid token of the audience). */
      scopes: z.array(z.string().min(1)).default([]),
    }),
    alarms: z.object({
      /** Function Errors (sum over 5 minutes) at or above this raise the alarm. */
      functionErrors: z.number().int().min(1),
      /** Function Throttles (sum over 5 minutes) at or above this raise the alarm. */
      functionThrottles: z.number().int().min(1),
      /** HTTP API 5xx responses as a percentage of requests over 5 minutes. */
      api5xxRatePercent: z.number().positive().max(100),
      /**
       * p99 latency budget of each public route in milliseconds: `default`, or per function name
       * (WeChat retries after 5 s and the hub must answer well within, so `wechat` is tighter).
       */
      latencyP99Ms: z
        .record(z.string(), z.number().int().positive())
        .refine((m) => m.default !== undefined, 'needs a `default` entry')
        .refine((m) => Object.keys(m).every((k) => k === 'default' || functionNames.has(k)), 'keys are `default` or function names of lib/manifest.ts'),
      /** Age of the oldest dead-lettered message that raises the alarm (DLQs keep 14 days). */
      dlqMaxAgeSeconds: z.number().int().positive(),
      /** 4xx responses of a platform webhook route as a percentage of its requests over 5 minutes. */
      webhook4xxRatePercent: z.number().positive().max(100).default(5),
      /** Below this many requests in 5 minutes a webhook's 4xx rate does not alarm (one bad retry is not an outage). */
      webhook4xxMinRequests: z.number().int().min(1).default(5),
      /** Age of the oldest message of a work queue (engagement, staff-alerts) that raises the alarm. */
      queueMaxAgeSeconds: z.number().int().positive().default(600),
      /** Messages waiting in a work queue that raise the backlog alarm. */
      queueMaxVisible: z.number().int().positive().default(1000),
      /** Subscribed to the alarm topic. Outside dev this or `wecomRobot` is required. */
      email: z.email().optional(),
      /**
       * Forward every alarm to a WeCom group robot through alarm-forwarder; the robot's webhook
       * URL is a secret (group `alerts`, WECOM_ALERT_WEBHOOK_URL, filled with npm run secrets).
       */
      wecomRobot: z.boolean().default(false),
    }),
    /**
     * The archive bucket (stacks/archive.ts): objects move to S3 Standard-IA after
     * `infrequentAccessAfterDays` (S3's minimum is 30) and are deleted after `retentionDays`;
     * Firehose writes a file per partition at least every `bufferSeconds`.
     */
    archive: z
      .object({
        retentionDays: z.number().int().min(60).default(730),
        infrequentAccessAfterDays: z.number().int().min(30).default(30),
        bufferSeconds: z.number().int().min(60).max(900).default(300),
      })
      .refine((a) => a.retentionDays > a.infrequentAccessAfterDays, 'retentionDays must be later than infrequentAccessAfterDays')
      .default({ retentionDays: 730, infrequentAccessAfterDays: 30, bufferSeconds: 300 }),
    /**
     * Non-secret configuration (names of docs/design.md#configuration) passed to every function
     * as environment variables. HUB_TIMEZONE, every source's account id and HUB_MEMBER_CENTRE_URL are required; any other non-secret name may be
     * added (SMS_PROVIDER, TENCENT_SMS_*, HUB_SCAN_* ...). Each value is checked by the runtime's
     * own schema (lib/config/schema.ts via settingIssues in load.ts), so a value the functions would refuse fails the synth.
     */
    app: z
      .object({
        HUB_TIMEZONE: z.string().min(1),
        // Each webhook source's account id (its descriptor's stageKeys: WECHAT_APP_ID, TMALL_APP_KEY, ...).
        ...Object.fromEntries(SOURCES.flatMap((s) => s.stageKeys).map((k) => [k, z.string().min(1)])),
        HUB_MEMBER_CENTRE_URL: z.url({ protocol: /^https$/ }),
      })
      .catchall(z.string())
      .superRefine((app, ctx) => {
        for (const [k, v] of Object.entries(app)) {
          if (SECRET_NAMES.has(k)) ctx.addIssue({ code: 'custom', path: [k], message: 'is a secret: it goes into Secrets Manager (npm run secrets), never into stage settings' });
          else if (STACK_OWNED.has(k)) ctx.addIssue({ code: 'custom', path: [k], message: 'is set by the stack' });
          else for (const message of settingIssues({ [k]: v })) ctx.addIssue({ code: 'custom', path: [k], message });
        }
      }),
  })
  .strict();

export type StageConfig = z.infer<typeof StageSchema>;
export type AppSettings = StageConfig['app'];
export type AlarmSettings = StageConfig['alarms'];

/** Validates `context.stages[stage]`; throws with every problem listed. */
export function stageConfig(stages: unknown, stage: string): StageConfig {
  if (!/^[a-z][a-z0-9-]{0,19}$/.test(stage)) throw new Error(`invalid stage name ${JSON.stringify(stage)}: lower-case letters, digits, dashes`);
  const all = (stages ?? {}) as Record<string, unknown>;
  const raw = all[stage];
  if (raw === undefined) {
    throw new Error(`no settings for stage ${JSON.stringify(stage)} in cdk.json context.stages (have: ${Object.keys(all).join(', ') || 'none'})`);
  }
  const parsed = StageSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${['stages', stage, ...i.path].map(String).join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid stage settings: ${issues}`);
  }
  const routeProblems = [
    ...Object.keys(parsed.data.routeThrottles)
      .filter((k) => !PUBLIC_ROUTE_KEYS.has(k))
      .map((k) => `stages.${stage}.routeThrottles.${k}: not a public route of lib/manifest.ts (${[...PUBLIC_ROUTE_KEYS].join(', ')})`),
    ...Object.keys(parsed.data.reservedConcurrency)
      .filter((k) => !functionNames.has(k))
      .map((k) => `stages.${stage}.reservedConcurrency.${k}: not a function of lib/manifest.ts`),
  ];
  if (routeProblems.length) throw new Error(`invalid stage settings: ${routeProblems.join('; ')}`);
  if (stage !== SANDBOX_STAGE) {
    const problems = [
      ...(parsed.data.corsOrigins.some((o) => !o.startsWith('https://')) ? [`stages.${stage}.corsOrigins: only https:// origins outside dev (no *, no http)`] : []),
      ...placeholdersIn(parsed.data, ['stages', stage]).map((p) => `${p} is a placeholder`),
      ...(parsed.data.alarms.email || parsed.data.alarms.wecomRobot
        ? []
        : [`stages.${stage}.alarms.email: no alarm subscription configured (alarms would reach nobody): set alarms.email or alarms.wecomRobot`]),
      ...(parsed.data.account ? [] : [`stages.${stage}.account: the account is not pinned (a deploy could land in whatever account the credentials point at)`]),
    ];
    if (problems.length) throw new Error(`stage ${stage} cannot be deployed: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/** Paths of every string in `value` that still holds a placeholder. */
function placeholdersIn(value: unknown, path: string[]): string[] {
  if (typeof value === 'string') return PLACEHOLDER.test(value) ? [path.join('.')] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => placeholdersIn(v, [...path, String(i)]));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => placeholdersIn(v, [...path, k]));
  return [];
}

/**
 * The `stages` of cdk.json, each overlaid (deep merge, objects only) by the same stage in a stage
 * file when one is given (`-c stageFile=path`, JSON `{"stages": {...}}`): real accounts, app ids
 * and subscriptions live in the operator's file, not in the repository (docs/deploy.md).
 */
export function mergeStageFile(stages: unknown, stageFile?: string): Record<string, unknown> {
  const base = (stages ?? {}) as Record<string, unknown>;
  if (!stageFile) return base;
  const overlay = (JSON.parse(readFileSync(stageFile, 'utf8')) as { stages?: Record<string, unknown> }).stages;
  if (!overlay || typeof overlay !== 'object') throw new Error(`${stageFile}: expected {"stages": {...}}`);
  return deepMerge(base, overlay) as Record<string, unknown>;
}

function deepMerge(a: unknown, b: unknown): unknown {
  const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
  if (!isObject(a) || !isObject(b)) return b;
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = deepMerge(a[k], v);
  return out;
}

/** The secret keys of each group, as the stack creates them (a stack test passes another list). */
export type SecretGroupKeys = Record<SecretGroup, readonly SecretKey[]>;
export const DEFAULT_SECRET_GROUPS: SecretGroupKeys = SECRET_GROUPS;

export interface HubStackProps extends StackProps {
  /** Stage name (dev, prod ...): prefixes physical names. */
  stageName: string;
  /** For the table, secret, queues, key and log groups. */
  removalPolicy: RemovalPolicy;
  /** DynamoDB deletion protection. */
  deletionProtection: boolean;
  /** Retention of every log group of the stack. */
  logRetention: RetentionDays;
  /** HTTP API stage throttling. */
  throttle: { rateLimit: number; burstLimit: number };
  /** Throttles of single public routes (`METHOD /path`). */
  routeThrottles?: Record<string, { rateLimit: number; burstLimit: number }>;
  /** Reserved concurrency by function name, over the manifest's. */
  reservedConcurrency?: Record<string, number>;
  /** CORS origins of the member-facing routes (none: no CORS). */
  corsOrigins?: string[];
  /** A VPC with one NAT gateway and an Elastic IP; functions with `wechatApi` run in its private subnets. */
  fixedEgressIp: boolean;
  /** JWT authorizer of the admin routes. */
  jwt: { issuer: string; audience: string[]; scopes?: string[] };
  alarms: AlarmSettings;
  /** Non-secret configuration given to every function. */
  app: AppSettings;
  /** Lambda architecture, runtime and X-Ray tracing of every function (defaults: arm64, nodejs22.x, tracing on). */
  architecture?: 'arm64' | 'x86_64';
  runtime?: 'nodejs22.x' | 'nodejs20.x';
  tracing?: boolean;
  /** Custom domain of the HTTP API. */
  domain?: { name: string; certificateArn: string };
  /** CodeDeploy configuration of every function's `live` alias. */
  deployment: (typeof DEPLOYMENT_CONFIGS)[number];
  /** Secret groups and their keys (default lib/config/schema.ts SECRET_GROUPS): listed in the outputs, never part of a secret resource. */
  secretGroups?: SecretGroupKeys;
  /** The functions to deploy; default: every entry of lib/manifest.ts. */
  functions?: readonly FunctionSpec[];
  /** Archive bucket lifecycle and Firehose buffering (stacks/archive.ts). */
  archive: ArchiveSettings;
}

export type ArchiveSettings = StageConfig['archive'];

/** The HubStack props for a stage (without `env`). */
export function hubStackProps(stage: string, cfg: StageConfig): Omit<HubStackProps, 'env'> {
  return {
    stageName: stage,
    removalPolicy: cfg.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    deletionProtection: cfg.deletionProtection,
    logRetention: cfg.logRetentionDays as RetentionDays,
    throttle: cfg.throttle,
    routeThrottles: cfg.routeThrottles,
    reservedConcurrency: cfg.reservedConcurrency,
    corsOrigins: cfg.corsOrigins,
    fixedEgressIp: cfg.fixedEgressIp,
    jwt: cfg.jwt,
    alarms: cfg.alarms,
    app: cfg.app,
    deployment: cfg.deployment,
    archive: cfg.archive,
    architecture: cfg.architecture,
    runtime: cfg.runtime,
    tracing: cfg.tracing,
    ...(cfg.domain ? { domain: cfg.domain } : {}),
  };
}
