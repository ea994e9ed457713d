/**
 * The function manifest: every Lambda entry point, its routes, triggers and what it may touch.
 * The local runtime (local/) and the CDK stack (stacks/) both read this one list, so what runs
 * on a laptop is wired exactly as what is deployed, and least privilege is declared here.
 */
import type { SecretGroup } from './config/index.ts';
import type { QueueName } from './queues.ts';
import type { AdminScope, RouteSpec, SourceDescriptor } from './sources/descriptor-types.ts';
import { wechat } from './sources/wechat/descriptor.ts';
import { tmall } from './sources/tmall/descriptor.ts';
import { jd } from './sources/jd/descriptor.ts';
import { youzan } from './sources/youzan/descriptor.ts';
import { wecom } from './sources/wecom/descriptor.ts';

/** `read`: GetItem, BatchGetItem, Query (table and index), ConditionCheckItem; `readwrite` adds PutItem and UpdateItem. */
export type TableAccess = 'none' | 'read' | 'readwrite';
/** Table actions beyond the access level, granted only to a function that declares them. */
export type ExtraTableAction = 'DeleteItem' | 'BatchWriteItem' | 'Scan';

export { ADMIN_SCOPES, type AdminScope, type RouteSpec } from './sources/descriptor-types.ts';

export interface FunctionSpec {
  /** Logical name: also `POST /_local/run/<name>` for schedules. */
  name: string;
  /** The module exporting `handler`, from the repository root; default `functions/<name>.ts` (entryOf). */
  entry?: string;
  description: string;
  routes?: RouteSpec[];
  /** SQS consumer of the named queue (lib/queues.ts). */
  consumes?: QueueName;
  /** EventBridge schedule expression (AWS) and the local interval in seconds. */
  schedule?: { expression: string; localEverySeconds: number };
  memoryMb: number;
  timeoutSeconds: number;
  table: TableAccess;
  /** Extra table actions it uses (deleting a row, batch writes, scans): none unless listed. */
  tableActions?: ExtraTableAction[];
  /** Queues it sends to. */
  sends?: QueueName[];
  /** Queues whose messages it moves (redrive). */
  redrives?: QueueName[];
  /** The secret groups it reads (lib/config/schema.ts SECRET_GROUPS): it can read no other. */
  secrets: SecretGroup[];
  /** Calls the WeChat API (needs egress, and the fixed IP when configured). */
  wechatApi?: boolean;
  reservedConcurrency?: number;
  /** Invoked by the alarm topic (SNS) when the stage forwards alarms to a WeCom group robot. */
  alarmTopic?: boolean;
  /**
   * The archive streams it writes (lib/archive/streams.ts): `requests` (a webhook's verified
   * requests), `events` (what it applies). The stack grants PutRecordBatch on exactly those.
   */
  archives?: ('requests' | 'events')[];
  /**
   * Why its routes may be called without the admin JWT: every function with a non-admin route
   * needs one (the cdk-nag AwsSolutions-APIG4 acknowledgement, stacks/nag-acknowledgements.ts).
   */
  publicReason?: string;
}

/**
 * The webhook sources, one line each (docs/architecture.md#add-a-source). Their functions come
 * first in FUNCTIONS, in this order; lib/sources/platforms.ts derives the platforms and the
 * built-in channels from this list.
 */
export const SOURCES = [wechat, tmall, jd, youzan, wecom] as const satisfies readonly SourceDescriptor[];

function sourceFunction(s: SourceDescriptor): FunctionSpec {
  return {
    name: s.id,
    entry: `lib/sources/${s.id}/handler.ts`,
    description: s.description,
    routes: s.routes.map((r): RouteSpec => ({ ...r })),
    memoryMb: s.lambda.memoryMb,
    timeoutSeconds: s.lambda.timeoutSeconds,
    table: 'readwrite',
    sends: ['engagement'],
    secrets: [...s.secretGroups],
    archives: ['requests', 'events'],
    publicReason: s.publicReason,
  };
}

export const FUNCTIONS: FunctionSpec[] = [
  ...SOURCES.map(sourceFunction),
  {
    name: 'tmall-mei',
    description: 'Tmall 会员通 SPI (bind query, bind, register, member query) through 奇门; off unless TMALL_MEI_SPI_ENABLED=true',
    routes: [{ method: 'POST', path: '/tmall/mei/{appKey}', webhook: true }],
    memoryMb: 512,
    // The member centre waits about 1.2 s; one transaction, no outbound call.
    timeoutSeconds: 3,
    table: 'readwrite',
    sends: ['engagement'],
    secrets: ['tmall', 'keys'],
    archives: ['events'],
    publicReason:
      'Called by the Tmall member centre through 奇门, which cannot hold a hub JWT; the function verifies the TOP/奇门 SPI signature (md5/hmac over the sorted parameters and body with the app secret) and its timestamp, and answers 401 otherwise; 404 while TMALL_MEI_SPI_ENABLED is off.',
  },
  {
    name: 'codes-scan',
    description: 'One-code-per-item scan from the H5 page',
    routes: [{ method: 'POST', path: '/codes/scan', member: true }],
    memoryMb: 512,
    timeoutSeconds: 6,
    table: 'readwrite',
    sends: ['engagement'],
    secrets: ['wechat', 'keys'],
    wechatApi: true,
    archives: ['events'],
    publicReason:
      'Called by shoppers from the H5 scan page, who have no hub account; the function identifies the person by exchanging the WeChat OAuth code with WeChat server-side, codes are signed, and scans are rate-limited per person and day.',
  },
  {
    name: 'members',
    description: 'Member centre: registration with phone proof, SMS codes, sessions, points, orders, coupons, the points mall, referrals',
    routes: [
      { method: 'POST', path: '/members', member: true },
      { method: 'POST', path: '/members/sms-code', member: true },
      { method: 'POST', path: '/sessions', member: true },
      { method: 'GET', path: '/me', member: true },
      { method: 'GET', path: '/me/data', member: true },
      { method: 'POST', path: '/me/consent', member: true },
      { method: 'DELETE', path: '/me', member: true },
      { method: 'GET', path: '/me/points', member: true },
      { method: 'GET', path: '/me/orders', member: true },
      { method: 'GET', path: '/me/coupons', member: true },
      { method: 'GET', path: '/me/rewards', member: true },
      { method: 'POST', path: '/me/redemptions', member: true },
      { method: 'GET', path: '/me/referral', member: true },
    ],
    memoryMb: 512,
    // GET /me/data reads every partition of the person (lib/privacy/export.ts).
    timeoutSeconds: 15,
    table: 'readwrite',
    // A used SMS code is deleted (lib/store/entities/otp.ts).
    tableActions: ['DeleteItem'],
    sends: ['engagement'],
    secrets: ['wechat', 'sms', 'keys'],
    wechatApi: true,
    archives: ['events'],
    publicReason:
      'Member-centre registration from the H5 page by consumers without a hub account; the function identifies the person by exchanging the WeChat OAuth code with WeChat server-side.',
  },
  {
    name: 'admin',
    description: 'Admin API: members (view, export, erase), channels, code batches, rewards, redemption reversals, coupon redemption at tills',
    routes: [
      { method: 'GET', path: '/members/{id}', admin: true, scope: 'members:read' },
      { method: 'GET', path: '/members/{id}/export', admin: true, scope: 'members:export' },
      { method: 'POST', path: '/members/{id}/erase', admin: true, scope: 'members:erase' },
      { method: 'POST', path: '/channels', admin: true, scope: 'channels:write' },
      { method: 'GET', path: '/channels', admin: true, scope: 'channels:read' },
      { method: 'POST', path: '/codes/batches', admin: true, scope: 'codes:write' },
      { method: 'POST', path: '/codes/batches/{id}/status', admin: true, scope: 'codes:write' },
      { method: 'GET', path: '/codes/batches/{id}/codes.csv', admin: true, scope: 'codes:export' },
      { method: 'POST', path: '/rewards', admin: true, scope: 'rewards:write' },
      { method: 'GET', path: '/rewards', admin: true, scope: 'rewards:read' },
      { method: 'POST', path: '/redemptions/{id}/reverse', admin: true, scope: 'rewards:write' },
      { method: 'POST', path: '/coupons/{code}/redeem', admin: true, scope: 'coupons:redeem' },
    ],
    memoryMb: 1024,
    timeoutSeconds: 29,
    table: 'readwrite',
    // wecom: a wecom_contact channel's contact way (externalcontact/add_contact_way).
    secrets: ['wechat', 'keys', 'admin', 'wecom'],
    wechatApi: true,
  },
  {
    name: 'attribution-api',
    description: 'Attribution metrics per channel (JSON, daily, CSV), value by acquisition cohort, and the lift of marketing rules against the holdout',
    routes: [
      { method: 'GET', path: '/attribution/channels', admin: true, scope: 'attribution:read' },
      { method: 'GET', path: '/attribution/channels/{id}/daily', admin: true, scope: 'attribution:read' },
      { method: 'GET', path: '/attribution/channels.csv', admin: true, scope: 'attribution:read' },
      { method: 'GET', path: '/attribution/accounts', admin: true, scope: 'attribution:read' },
      { method: 'GET', path: '/insight/lift', admin: true, scope: 'insight:read' },
      { method: 'GET', path: '/attribution/cohorts', admin: true, scope: 'attribution:read' },
      { method: 'GET', path: '/attribution/cohorts.csv', admin: true, scope: 'attribution:read' },
    ],
    memoryMb: 1024,
    timeoutSeconds: 29,
    table: 'read',
    secrets: ['admin'],
  },
  {
    name: 'keywords',
    description: 'Menus and keywords: menu and keyword counts, top unanswered words, keyword auto-reply rules per official account',
    routes: [
      { method: 'GET', path: '/insight/menus', admin: true, scope: 'insight:read' },
      { method: 'GET', path: '/insight/keywords', admin: true, scope: 'insight:read' },
      { method: 'GET', path: '/keywords/{appId}', admin: true, scope: 'insight:read' },
      { method: 'PUT', path: '/keywords/{appId}', admin: true, scope: 'keywords:write' },
    ],
    memoryMb: 512,
    timeoutSeconds: 29,
    table: 'readwrite',
    secrets: ['admin'],
  },
  {
    name: 'audiences',
    description: 'Audiences (saved member filters: counts, member CSV pages) and campaigns sent to them through the engagement sender',
    routes: [
      { method: 'POST', path: '/audiences', admin: true, scope: 'audiences:write' },
      { method: 'GET', path: '/audiences/{id}', admin: true, scope: 'insight:read' },
      { method: 'GET', path: '/audiences/{id}/count', admin: true, scope: 'insight:read' },
      { method: 'GET', path: '/audiences/{id}/members.csv', admin: true, scope: 'insight:read' },
      { method: 'POST', path: '/campaigns', admin: true, scope: 'campaigns:write' },
      { method: 'GET', path: '/campaigns/{id}', admin: true, scope: 'insight:read' },
    ],
    memoryMb: 1024,
    timeoutSeconds: 29,
    table: 'readwrite',
    // The estimate and the CSV pages read bounded pages of a scan of the profiles (lib/audiences/api.ts).
    tableActions: ['Scan'],
    // A count run's and a campaign's first pages go to the engagement queue (lib/audiences/pages.ts).
    sends: ['engagement'],
    secrets: ['admin'],
  },
  {
    name: 'dashboard',
    description: 'The marketing dashboard page',
    routes: [{ method: 'GET', path: '/dashboard' }],
    memoryMb: 256,
    timeoutSeconds: 5,
    table: 'none',
    secrets: [],
    publicReason:
      'Serves the static dashboard page only (no table access, no secret); every number it shows is fetched from the /attribution admin routes, which require the JWT.',
  },
  {
    name: 'engagement-sender',
    description: 'Sends planned messages through the WeChat API under caps, quiet hours, windows and holdout; WeCom welcomes on add',
    consumes: 'engagement',
    memoryMb: 512,
    timeoutSeconds: 30,
    table: 'readwrite',
    // tmall: the seller's session for a Tmall trade's detail (lib/apply/tmall-detail.ts);
    // wecom: the customer-contact secret of externalcontact/get (lib/apply/unionid.ts).
    secrets: ['wechat', 'tmall', 'wecom'],
    wechatApi: true,
    // Audience and campaign pages (lib/audiences/pages.ts): one bounded page of a parallel scan of
    // the profiles each, the campaign's messages and the next page planned and sent to the queue.
    tableActions: ['Scan'],
    sends: ['engagement'],
    reservedConcurrency: 5,
  },
  {
    name: 'staff-alerts-sender',
    description: "Sends staff alerts (the lapse alert) as WeCom app messages to each member's guide, batched and rate-limited per staff member",
    consumes: 'staff-alerts',
    memoryMb: 256,
    timeoutSeconds: 30,
    table: 'readwrite',
    // wecom: the staff app's secret (message/send, WECOM_AGENT_SECRET).
    secrets: ['wecom'],
    wechatApi: true,
    // WeCom drops what one staff member receives beyond 30 a minute: few concurrent batches, each budgeted (lib/store/entities/staff-rate.ts).
    reservedConcurrency: 2,
  },
  {
    name: 'outbox-sweep',
    description: 'Enqueues outbox rows left pending after a commit',
    schedule: { expression: 'rate(1 minute)', localEverySeconds: 30 },
    memoryMb: 256,
    timeoutSeconds: 60,
    table: 'readwrite',
    sends: ['engagement', 'staff-alerts'],
    secrets: [],
    // One sweep at a time: a run still going when the next minute starts is not joined by another.
    reservedConcurrency: 1,
  },
  {
    name: 'counter-fold',
    description: 'Folds the credit deltas of committed events into the attribution counters and rollups',
    // A run folds for its whole minute (lib/attribution/fold.ts runFold): the fold lag is a pause of
    // 0.5 s plus the moment between two runs. Locally one pass every 2 s (functions/counter-fold.ts).
    schedule: { expression: 'rate(1 minute)', localEverySeconds: 2 },
    memoryMb: 512,
    timeoutSeconds: 60,
    table: 'readwrite',
    // A fold deletes the deltas it folded, in its transaction.
    tableActions: ['DeleteItem'],
    secrets: [],
    // One run at a time: each run's workers own disjoint counter shards, so folds never conflict.
    reservedConcurrency: 1,
  },
  {
    name: 'tmc-pull',
    description: 'Consumes Tmall TMC messages through TOP (taobao.tmc.messages.consume), applies them, confirms only what committed',
    schedule: { expression: 'rate(1 minute)', localEverySeconds: 10 },
    memoryMb: 512,
    // Under the one-minute schedule, so runs never overlap (reserved concurrency 1).
    timeoutSeconds: 50,
    table: 'readwrite',
    sends: ['engagement'],
    secrets: ['tmall'],
    archives: ['events'],
    reservedConcurrency: 1,
  },
  {
    name: 'reconcile',
    description: 'Catch-up polls of Tmall and Youzan orders by modified time from stored cursors, through the same apply path as the pushes; reports what no push delivered',
    // TMC keeps a message about 24 h and Youzan re-pushes for about 2.5 h: every 15 minutes finds a gap long before either gives up.
    schedule: { expression: 'rate(15 minutes)', localEverySeconds: 300 },
    memoryMb: 512,
    timeoutSeconds: 300,
    table: 'readwrite',
    sends: ['engagement'],
    secrets: ['tmall', 'youzan', 'keys'],
    reservedConcurrency: 1,
  },
  {
    name: 'nightly',
    description: 'Recomputes tiers (downgrades), lifecycle stages and RFM scores',
    schedule: { expression: 'cron(30 18 * * ? *)', localEverySeconds: 3600 },
    memoryMb: 1024,
    timeoutSeconds: 900,
    table: 'readwrite',
    secrets: [],
    reservedConcurrency: 1,
  },
  {
    name: 'privacy',
    description: 'Runs the erasures not done yet (identities, member partitions, a table sweep, archive tombstones), resuming each where it stopped',
    schedule: { expression: 'rate(5 minutes)', localEverySeconds: 60 },
    memoryMb: 512,
    timeoutSeconds: 300,
    table: 'readwrite',
    // Erasure deletes items and sweeps the table once per erasure for items holding the person's identifiers (lib/privacy/erase.ts).
    tableActions: ['DeleteItem', 'Scan'],
    secrets: [],
    // The erasure tombstone goes into the events stream (lib/archive/erase.ts).
    archives: ['events'],
    // One run at a time: a job is saved under its version, a second runner would only bounce off it.
    reservedConcurrency: 1,
  },
  {
    name: 'nudge-sweep',
    description: 'Plans due repurchase nudges, points-expiry reminders, birthdays and lapse alerts',
    schedule: { expression: 'rate(15 minutes)', localEverySeconds: 300 },
    memoryMb: 512,
    timeoutSeconds: 300,
    table: 'readwrite',
    sends: ['engagement', 'staff-alerts'],
    secrets: [],
  },
  {
    name: 'alarm-forwarder',
    description: 'Posts CloudWatch alarm notifications from the alarm topic to a WeCom group robot',
    // Subscribed to the alarm topic when the stage sets alarms.wecomRobot (stacks/hub-stack.ts).
    alarmTopic: true,
    memoryMb: 256,
    timeoutSeconds: 15,
    table: 'none',
    secrets: ['alerts'],
  },
];

/** The module (path from the repository root) whose `handler` a function runs. */
export const entryOf = (spec: Pick<FunctionSpec, 'name' | 'entry'>): string => spec.entry ?? `functions/${spec.name}.ts`;

export const functionByName = (name: string): FunctionSpec | undefined => FUNCTIONS.find((f) => f.name === name);

/** The scope of an admin route by its route key (`GET /channels`), as API Gateway names it in `requestContext.routeKey`. */
export function routeScope(routeKey: string): AdminScope | undefined {
  for (const f of FUNCTIONS) for (const r of f.routes ?? []) if (r.admin && `${r.method} ${r.path}` === routeKey) return r.scope;
  return undefined;
}
