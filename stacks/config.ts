/**
 * Per-stage deployment settings. They live in cdk.json under `context.stages.<name>` and are
 * selected with `-c stage=<name>` (default `dev`). Everything is validated here, so a typo in
 * cdk.json fails the synth with a clear message instead of deploying a half-configured stack.
 */
import { RemovalPolicy, type StackProps } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import * as z from 'zod';
import { FUNCTIONS, type FunctionSpec } from '../lib/manifest.ts';

export const DEFAULT_STAGE = 'dev';
export const DEFAULT_REGION = 'ap-southeast-1';
/** Used when the CLI has no credentials to derive the account from (offline synth). */
export const PLACEHOLDER_ACCOUNT = '111111111111';

const retentionValues = new Set<number>(Object.values(RetentionDays).filter((v): v is number => typeof v === 'number'));
const functionNames = new Set(FUNCTIONS.map((f) => f.name));

const StageSchema = z
  .object({
    /** AWS region of the stack. */
    region: z.string().min(1).default(DEFAULT_REGION),
    /** What happens to stateful resources (table, secret, logs, queues) when the stack goes away. */
    removalPolicy: z.enum(['destroy', 'retain']),
    /** DynamoDB deletion protection on the table. */
    deletionProtection: z.boolean(),
    /** CloudWatch Logs retention for function, access and flow logs, in days. */
    logRetentionDays: z.number().int().refine((d) => retentionValues.has(d), 'not a CloudWatch Logs retention value'),
    /** HTTP API stage throttling (requests per second, and burst). */
    throttle: z.object({ rateLimit: z.number().positive(), burstLimit: z.number().int().positive() }),
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
      /** Subscribed to the alarm topic when set. */
      email: z.email().optional(),
    }),
    /** Non-secret configuration passed to every function as environment variables. */
    app: z.object({
      HUB_TIMEZONE: z.string().min(1),
      WECHAT_APP_ID: z.string().min(1),
      TMALL_APP_KEY: z.string().min(1),
      JD_APP_KEY: z.string().min(1),
      YOUZAN_CLIENT_ID: z.string().min(1),
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
    const issues = parsed.error.issues.map((i) => `${['stages', stage, ...i.path].join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid stage settings: ${issues}`);
  }
  return parsed.data;
}

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
  /** A VPC with one NAT gateway and an Elastic IP; functions with `wechatApi` run in its private subnets. */
  fixedEgressIp: boolean;
  /** JWT authorizer of the admin routes. */
  jwt: { issuer: string; audience: string[]; scopes?: string[] };
  alarms: AlarmSettings;
  /** Non-secret configuration given to every function. */
  app: AppSettings;
  /** The functions to deploy; default: every entry of lib/manifest.ts. */
  functions?: readonly FunctionSpec[];
}

/** The HubStack props for a stage (without `env`). */
export function hubStackProps(stage: string, cfg: StageConfig): Omit<HubStackProps, 'env'> {
  return {
    stageName: stage,
    removalPolicy: cfg.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    deletionProtection: cfg.deletionProtection,
    logRetention: cfg.logRetentionDays as RetentionDays,
    throttle: cfg.throttle,
    fixedEgressIp: cfg.fixedEgressIp,
    jwt: cfg.jwt,
    alarms: cfg.alarms,
    app: cfg.app,
  };
}
