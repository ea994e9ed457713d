/**
 * The Runtime: what a handler needs besides its event — the configuration, the table, the
 * queues, the clock and the outbound clients — built once and passed down (it satisfies the
 * apply layer's ApplyDeps). Nothing here reads or writes `process.env` except `processRuntime`,
 * which reads it once per build inside Lambda.
 *
 *   createRuntime({env, secret?, clients?, now?})   tests and the local runtime (explicit parts)
 *   processRuntime()                                the Lambda process: env + its secrets
 *   rt.with({settings, now, wechat, clients, sender})  a variant (tests; the local hub's reconfigure)
 */
import type { ApplyDeps, CreditWrites } from '../port.ts';
import { loadConfig, wechatApp, type ConfigInput, type HubConfig } from '../config/index.ts';
import { NotFoundError } from '../errors.ts';
import { TopClient } from '../sources/tmall/top-client.ts';
import { YouzanClient } from '../sources/youzan/api-client.ts';
import { ddb, sqs, type Store } from '../store/client.ts';
import { sendOutboxRow, type QueueClient } from '../store/sqs.ts';
import { dynamoTokenCache } from '../store/entities/token.ts';
import { createWechatApi } from '../wechat/client.ts';
import type { WechatApi } from '../wechat/wire.ts';
import { DEFAULT_LEASE_MS } from '../engagement/send/flow.ts';
import { readSecrets, secretArns, SECRET_MAX_AGE_MS } from './secrets.ts';
import { noMetrics, type MetricsSink } from '../metrics.ts';
import { processMetrics } from './metrics.ts';
import { BufferedArchive, HubArchive, noArchive, type Archive } from '../archive/archive.ts';
import { firehoseSink, makeFirehose } from '../store/firehose.ts';

/** The SDK clients a runtime uses; unset ones are the process clients of lib/store/client.ts. */
export interface RuntimeClients {
  ddb?: Store['db'];
  sqs?: QueueClient;
}

export interface Runtime extends ApplyDeps {
  readonly cfg: HubConfig;
  /** The table and its client. */
  readonly store: Store;
  /** The SQS client for the hub's queues. */
  readonly queues: QueueClient;
  readonly now: () => number;
  /** The API client of a configured WeChat account (default: the official account); one per appId, token shared through the table. */
  wechat(appId?: string): WechatApi;
  /** A TOP client for the configured Tmall app (with the seller's session when TMALL_SESSION_KEY is set). */
  top(): TopClient;
  /** The Youzan Cloud API client of YOUZAN_KDT_ID (its token kept for this runtime), or undefined without a shop. */
  youzan(): YouzanClient | undefined;
  readonly sender: { readonly leaseMs: number };
  /** Where the business metrics go (lib/metrics.ts): Powertools EMF in Lambda, nothing unless given elsewhere. */
  readonly metrics: MetricsSink;
  /** The raw-request and event archive (lib/archive): Firehose in AWS, files locally, none unless given. */
  readonly archive: HubArchive;
  /** A runtime like this one with some parts replaced; `settings` re-parses the configuration. */
  with(overrides: RuntimeOverrides): Runtime;
}

export interface RuntimeOverrides {
  /** Configuration names, as the environment would give them (merged over this runtime's). */
  settings?: Readonly<Record<string, string | undefined>>;
  now?: () => number;
  wechat?: (appId: string) => WechatApi;
  clients?: RuntimeClients;
  sender?: { leaseMs?: number };
  metrics?: MetricsSink;
  archive?: Archive;
  /** How events write their credit differences (ApplyDeps.creditWrites; `inline` only to measure the design before the fold). */
  creditWrites?: CreditWrites;
}

export interface RuntimeInput extends ConfigInput {
  /** The Secrets Manager values (configuration names); they win over `env`. */
  secret?: Readonly<Record<string, string>>;
  clients?: RuntimeClients;
  now?: () => number;
  wechat?: (appId: string) => WechatApi;
  sender?: { leaseMs?: number };
  /** Default: none recorded. */
  metrics?: MetricsSink;
  /** Where archive records go (lib/archive); default: none kept. */
  archive?: Archive;
}

interface Parts {
  input: ConfigInput;
  cfg: HubConfig;
  clients: RuntimeClients;
  now: () => number;
  wechat?: ((appId: string) => WechatApi) | undefined;
  leaseMs: number;
  metrics?: MetricsSink | undefined;
  archive?: Archive | undefined;
  creditWrites?: CreditWrites | undefined;
}

/** Builds a runtime from explicit parts; the configuration is parsed once, here. */
export function createRuntime(input: RuntimeInput): Runtime {
  const { secret, clients, now, wechat, sender, metrics, archive, ...configInput } = input;
  const cfgInput: ConfigInput = secret ? { ...configInput, env: { ...configInput.env, ...secret } } : configInput;
  return build({ input: cfgInput, cfg: loadConfig(cfgInput), clients: clients ?? {}, now: now ?? Date.now, wechat, leaseMs: sender?.leaseMs ?? DEFAULT_LEASE_MS, metrics, archive });
}

function build(p: Parts): Runtime {
  const db = () => p.clients.ddb ?? ddb();
  const queues = () => p.clients.sqs ?? sqs();
  const wechatClients = new Map<string, WechatApi>();
  let youzanClient: YouzanClient | undefined;
  const archive = new HubArchive(p.archive ?? noArchive, p.metrics);
  const rt: Runtime = {
    cfg: p.cfg,
    get db() {
      return db();
    },
    table: p.cfg.HUB_TABLE,
    get store() {
      return { db: db(), table: p.cfg.HUB_TABLE };
    },
    get queues() {
      return queues();
    },
    // Outbox rows go to this runtime's SQS client (the process client when none was given).
    ...(p.clients.sqs ? { drainer: (row: Parameters<typeof sendOutboxRow>[1], url: string) => sendOutboxRow(queues(), row, url) } : {}),
    now: p.now,
    sender: { leaseMs: p.leaseMs },
    metrics: p.metrics ?? noMetrics,
    archive,
    ...(p.creditWrites ? { creditWrites: p.creditWrites } : {}),
    wechat(appId = p.cfg.WECHAT_APP_ID) {
      if (p.wechat) return p.wechat(appId);
      const app = wechatApp(p.cfg, appId);
      if (!app) throw new NotFoundError(`unknown WeChat account ${appId}`);
      // One client per app: its own AppSecret, its own cached stable_token (TOKEN#wechat#<appId>).
      let api = wechatClients.get(appId);
      if (!api) {
        api = createWechatApi({ appId, appSecret: app.appSecret, baseUrl: p.cfg.WECHAT_API_BASE, tokenCache: dynamoTokenCache({ db: db(), table: p.cfg.HUB_TABLE }), now: p.now });
        wechatClients.set(appId, api);
      }
      return api;
    },
    // A client per call: it holds nothing worth keeping (no token) and takes the process fetch as it is then.
    top() {
      return new TopClient({
        appKey: p.cfg.TMALL_APP_KEY,
        secret: p.cfg.TMALL_APP_SECRET,
        baseUrl: p.cfg.TOP_API_BASE,
        ...(p.cfg.TMALL_SESSION_KEY ? { session: p.cfg.TMALL_SESSION_KEY } : {}),
      });
    },
    youzan() {
      const kdtId = p.cfg.YOUZAN_KDT_ID;
      if (!kdtId) return undefined;
      youzanClient ??= new YouzanClient({ clientId: p.cfg.YOUZAN_CLIENT_ID, clientSecret: p.cfg.YOUZAN_CLIENT_SECRET, kdtId, baseUrl: p.cfg.YOUZAN_API_BASE, now: p.now });
      return youzanClient;
    },
    with(o: RuntimeOverrides): Runtime {
      let input = p.input;
      let cfg = p.cfg;
      if (o.settings) {
        input = { ...p.input, env: { ...p.input.env, ...o.settings } };
        cfg = loadConfig(input);
      }
      return build({
        input,
        cfg,
        clients: { ...p.clients, ...o.clients },
        now: o.now ?? p.now,
        wechat: o.wechat ?? p.wechat,
        leaseMs: o.sender?.leaseMs ?? p.leaseMs,
        metrics: o.metrics ?? p.metrics,
        archive: o.archive ?? p.archive,
        creditWrites: o.creditWrites ?? p.creditWrites,
      });
    },
  };
  return rt;
}

let processRt: { rt: Runtime; builtAt: number } | undefined;

/**
 * The runtime of this process, built from its environment (read, never written). Inside Lambda:
 * plus the secrets of the groups it is given (HUB_SECRET_ARNS / HUB_SECRET_ARN), rebuilt when
 * older than SECRET_MAX_AGE_MS so a rotated secret is picked up. Without secrets (a script, a
 * handler called without a runtime in its context): the environment alone, built once, and no business metrics outside Lambda (EMF lines
 * mean something only in a Lambda log group).
 */
export async function processRuntime(): Promise<Runtime> {
  const env = process.env;
  const arns = secretArns(env);
  if (arns.length) {
    if (!processRt || Date.now() - processRt.builtAt >= SECRET_MAX_AGE_MS) {
      processRt = { rt: createRuntime({ env, secret: await readSecrets(arns), metrics: processMetrics, archive: processArchive(env) }), builtAt: Date.now() };
    }
    return processRt.rt;
  }
  processRt ??= { rt: createRuntime({ env, metrics: env.AWS_LAMBDA_FUNCTION_NAME ? processMetrics : noMetrics, archive: processArchive(env) }), builtAt: Date.now() };
  return processRt.rt;
}

let firehoseArchive: Archive | undefined;

/**
 * The archive of a Lambda process: Firehose to the delivery streams the stack names
 * (HUB_ARCHIVE_REQUESTS_STREAM, HUB_ARCHIVE_EVENTS_STREAM), one per process so its buffer
 * outlives a runtime rebuilt for rotated secrets; none when the function has no stream.
 */
function processArchive(env: NodeJS.ProcessEnv): Archive {
  const requests = env.HUB_ARCHIVE_REQUESTS_STREAM;
  const events = env.HUB_ARCHIVE_EVENTS_STREAM;
  if (!requests && !events) return noArchive;
  firehoseArchive ??= new BufferedArchive(firehoseSink(makeFirehose(), { ...(requests ? { requests } : {}), ...(events ? { events } : {}) }), { metrics: processMetrics });
  return firehoseArchive;
}
