/**
 * CDK assertions on the synthesized HubStack, every expectation derived from lib/manifest.ts,
 * lib/queues.ts, the table definition (lib/store/table.ts) and the stage settings in cdk.json. One app holds the dev stack,
 * the prod stack (fixed egress IP) and a tiny canary stack that cdk-nag must flag; it is
 * synthesized once, with bundling skipped, and the validation report is read from the assembly.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, describe, expect, it } from 'vitest';
import { LOCAL_DEFAULTS, SECRET_GROUP_NAMES, SECRET_GROUPS, SECRET_KEYS } from '../../lib/config/index.ts';
import { FUNCTIONS } from '../../lib/manifest.ts';
import { QUEUE_URL_ENV, QUEUES, queueEntries, type QueueName } from '../../lib/queues.ts';
import { TABLE, tableSchema } from '../../lib/store/table.ts';
import { hubStackProps, mergeStageFile, stageConfig, type StageConfig } from '../../stacks/config.ts';
import { CONSUMER_BATCH, HubStack, LIVE_ALIAS, SCHEDULE_MAX_EVENT_AGE_SECONDS } from '../../stacks/hub-stack.ts';
import { secretName } from '../../stacks/names.ts';
import { PUBLIC_ROUTE_REASONS } from '../../stacks/nag-acknowledgements.ts';

/** Synthesized CloudFormation, navigated freely in assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { app: string; context: Json };
const stages = cdkJson.context.stages as Json;
const devCfg = stageConfig(stages, 'dev');
/** cdk.json's prod stage holds placeholders on purpose; a stage file gives it deployable values (docs/deploy.md). */
export const PROD_STAGE_FILE = new URL('./fixtures/prod-stage.json', import.meta.url).pathname;
const prodCfg = stageConfig(mergeStageFile(stages, PROD_STAGE_FILE), 'prod');

// --- The one app of this file: same feature flags as `cdk synth`, bundling skipped, and the
// validation report written instead of thrown so the nag test can read it.
const app = new App({
  context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], '@aws-cdk/core:failSynthOnValidationErrors': false },
});
const env = (cfg: StageConfig) => ({ account: cfg.account ?? '111111111111', region: cfg.region });
const dev = new HubStack(app, 'HubDev', { ...hubStackProps('dev', devCfg), env: env(devCfg) });
const prod = new HubStack(app, 'HubProd', { ...hubStackProps('prod', prodCfg), env: env(prodCfg) });
// A queue without DLQ, SSE or TLS policy: proves cdk-nag really ran over this app.
const canary = new Stack(app, 'NagCanary', { env: env(devCfg) });
new Queue(canary, 'Plain');
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
const assembly = app.synth();
afterAll(() => rmSync(assembly.directory, { recursive: true, force: true }));

const templates = { dev: Template.fromStack(dev), prod: Template.fromStack(prod) };
const stacks = { dev, prod };
const cfgs = { dev: devCfg, prod: prodCfg };

// --- Helpers.
const logicalId = (stack: Stack, construct: { node: { defaultChild?: unknown } }) =>
  stack.resolve((construct.node.defaultChild as CfnElement).logicalId) as string;
const resourcesOf = (t: Template, type: string) => t.findResources(type) as Record<string, Json>;
const asArray = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
const allRoutes = FUNCTIONS.flatMap((f) => (f.routes ?? []).map((r) => ({ fn: f, route: r, key: `${r.method} ${r.path}` })));
const refersTo = (value: unknown, id: string) => JSON.stringify(value).includes(`"${id}"`);

// What the store code sends (lib/store: Get, BatchGet, Query, TransactWrite with condition checks; Put, Update).
const DDB_READ = ['dynamodb:BatchGetItem', 'dynamodb:ConditionCheckItem', 'dynamodb:GetItem', 'dynamodb:Query'];
const DDB_WRITE = ['dynamodb:PutItem', 'dynamodb:UpdateItem'];
const SQS_CONSUME = ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:ReceiveMessage'];

/** action → resources (as JSON) granted to a role through its inline policies. */
function grantsOf(t: Template, roleId: string): Map<string, Set<string>> {
  const grants = new Map<string, Set<string>>();
  for (const policy of Object.values(resourcesOf(t, 'AWS::IAM::Policy'))) {
    if (!asArray(policy.Properties.Roles).some((r: Json) => r.Ref === roleId)) continue;
    for (const st of policy.Properties.PolicyDocument.Statement as Json[]) {
      expect(st.Effect).toBe('Allow');
      for (const action of asArray<string>(st.Action)) {
        const set = grants.get(action) ?? new Set<string>();
        for (const r of asArray(st.Resource)) set.add(JSON.stringify(r));
        grants.set(action, set);
      }
    }
  }
  return grants;
}
const arnOf = (id: string) => JSON.stringify({ 'Fn::GetAtt': [id, 'Arn'] });
/** HUB_SECRET_ARNS as synthesized (Fn::Join of JSON text and secret refs) → `{group: ref}`. */
function secretArnsOf(value: Json): Record<string, unknown> {
  const parts = (value['Fn::Join'] as [string, unknown[]])[1];
  const tokens: unknown[] = [];
  const text = parts.map((p) => (typeof p === 'string' ? p : `@@${tokens.push(p) - 1}@@`)).join('');
  const parsed = JSON.parse(text) as Record<string, string>;
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, tokens[Number(/^@@(\d+)@@$/.exec(v)![1])]]));
}

describe('stage settings (cdk.json)', () => {
  it('cdk.json runs the app with tsx and defines dev and prod', () => {
    expect(cdkJson.app).toBe('npx tsx stacks/app.ts');
    expect(Object.keys(stages)).toEqual(expect.arrayContaining(['dev', 'prod']));
  });
  it('rejects unknown stages and bad settings with a clear message', () => {
    expect(() => stageConfig(stages, 'qa')).toThrow(/no settings for stage "qa"/);
    expect(() => stageConfig({ dev: { ...stages.dev, throttle: { rateLimit: -1, burstLimit: 1 } } }, 'dev')).toThrow(/stages\.dev\.throttle\.rateLimit/);
    expect(() => stageConfig({ dev: { ...stages.dev, alarms: { ...stages.dev.alarms, latencyP99Ms: { default: 1, nope: 2 } } } }, 'dev')).toThrow(
      /latencyP99Ms/,
    );
  });
  it('prod keeps data and uses the fixed egress IP; dev does not', () => {
    expect(prodCfg).toMatchObject({ removalPolicy: 'retain', deletionProtection: true, fixedEgressIp: true });
    expect(devCfg).toMatchObject({ removalPolicy: 'destroy', deletionProtection: false, fixedEgressIp: false });
  });
});

describe('HTTP API', () => {
  const t = templates.dev;
  it('has exactly the manifest routes', () => {
    const routes = Object.values(resourcesOf(t, 'AWS::ApiGatewayV2::Route'));
    expect(routes).toHaveLength(allRoutes.length);
    expect(routes.map((r) => r.Properties.RouteKey).sort()).toEqual(allRoutes.map((r) => r.key).sort());
  });
  it('has none of the local runtime\'s /_local routes (the controllable clock, the scheduled-function runner)', () => {
    const keys = Object.values(resourcesOf(t, 'AWS::ApiGatewayV2::Route')).map((r) => String(r.Properties.RouteKey));
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter((k) => k.includes('/_local'))).toEqual([]);
  });
  it('routes each key to its own function', () => {
    const integrations = resourcesOf(t, 'AWS::ApiGatewayV2::Integration');
    const routes = Object.values(resourcesOf(t, 'AWS::ApiGatewayV2::Route'));
    for (const { fn, key } of allRoutes) {
      const route = routes.find((r) => r.Properties.RouteKey === key)!;
      const integrationId = (route.Properties.Target['Fn::Join'][1] as Json[])[1]!.Ref as string;
      const aliasId = logicalId(dev, dev.functions.get(fn.name)!.alias);
      expect(integrations[integrationId]!.Properties.IntegrationUri).toEqual({ Ref: aliasId });
    }
  });
  it('gives each routed function one invoke permission for this API, not one per route', () => {
    const apiId = logicalId(dev, dev.api);
    const apiPermissions = Object.values(resourcesOf(t, 'AWS::Lambda::Permission')).filter((p) => p.Properties.Principal === 'apigateway.amazonaws.com');
    const routed = FUNCTIONS.filter((f) => f.routes?.length);
    expect(apiPermissions).toHaveLength(routed.length);
    for (const f of routed) {
      const aliasId = logicalId(dev, dev.functions.get(f.name)!.alias);
      const mine = apiPermissions.filter((p) => JSON.stringify(p.Properties.FunctionName) === JSON.stringify({ Ref: aliasId }));
      expect(mine, f.name).toHaveLength(1);
      const source = JSON.stringify(mine[0]!.Properties.SourceArn);
      // Scoped to this API (its id in the ARN), any stage, method and path.
      expect(source).toContain(JSON.stringify({ Ref: apiId }));
      expect(source.endsWith('/*/*/*"]]}')).toBe(true);
    }
  });
  it('puts the JWT authorizer on admin routes and on no other', () => {
    const [authorizerId] = Object.keys(t.findResources('AWS::ApiGatewayV2::Authorizer'));
    const routes = Object.values(resourcesOf(t, 'AWS::ApiGatewayV2::Route'));
    for (const { route, key } of allRoutes) {
      const props = routes.find((r) => r.Properties.RouteKey === key)!.Properties;
      if (route.admin) {
        expect(props.AuthorizationType, key).toBe('JWT');
        expect(props.AuthorizerId, key).toEqual({ Ref: authorizerId });
      } else {
        expect(props.AuthorizationType, key).toBe('NONE');
        expect(props.AuthorizerId, key).toBeUndefined();
      }
    }
  });
  it('JWT issuer and audience come from the stage settings', () => {
    for (const stage of ['dev', 'prod'] as const) {
      templates[stage].hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
        AuthorizerType: 'JWT',
        IdentitySource: ['$request.header.Authorization'],
        JwtConfiguration: { Issuer: cfgs[stage].jwt.issuer, Audience: cfgs[stage].jwt.audience },
      });
    }
  });
  it('$default stage throttles from the stage settings and writes access logs', () => {
    for (const stage of ['dev', 'prod'] as const) {
      templates[stage].hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        StageName: '$default',
        AutoDeploy: true,
        DefaultRouteSettings: {
          ThrottlingRateLimit: cfgs[stage].throttle.rateLimit,
          ThrottlingBurstLimit: cfgs[stage].throttle.burstLimit,
          DetailedMetricsEnabled: true,
        },
        AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [logicalId(stacks[stage], stacks[stage].accessLogs), 'Arn'] }, Format: Match.stringLikeRegexp('\\$context\\.requestId') },
      });
    }
  });
});

describe.each(['dev', 'prod'] as const)('functions (%s)', (stage) => {
  const t = templates[stage];
  const stack = stacks[stage];
  const functions = resourcesOf(t, 'AWS::Lambda::Function');

  it('one function per manifest entry', () => {
    expect([...stack.functions.keys()]).toEqual(FUNCTIONS.map((f) => f.name));
    const ours = new Set([...stack.functions.values()].map(({ fn }) => logicalId(stack, fn)));
    expect(ours.size).toBe(FUNCTIONS.length);
    for (const id of ours) expect(functions[id], id).toBeDefined();
    // Besides ours, CDK's own custom-resource handlers: emptying the archive buckets on delete
    // (removalPolicy destroy) and the default security group lock-down in the VPC.
    const others = Object.keys(functions).filter((id) => !ours.has(id));
    expect(others.length).toBe((cfgs[stage].fixedEgressIp ? 1 : 0) + (cfgs[stage].removalPolicy === 'destroy' ? 1 : 0));
  });

  it.each(FUNCTIONS.map((f) => [f.name, f] as const))('%s: runtime, architecture, sizing, tracing, logs', (_name, spec) => {
    const { fn, logGroup } = stack.functions.get(spec.name)!;
    const props = functions[logicalId(stack, fn)]!.Properties;
    expect(props.Runtime).toBe('nodejs22.x');
    expect(props.Architectures).toEqual(['arm64']);
    expect(props.Handler).toBe('index.handler');
    expect(props.MemorySize).toBe(spec.memoryMb);
    expect(props.Timeout).toBe(spec.timeoutSeconds);
    expect(props.ReservedConcurrentExecutions).toBe(cfgs[stage].reservedConcurrency[spec.name] ?? spec.reservedConcurrency);
    expect(props.TracingConfig).toEqual({ Mode: 'Active' });
    // The Powertools tracer follows X-Ray; responses never go into a trace.
    expect(props.Environment.Variables).toMatchObject({ POWERTOOLS_TRACE_ENABLED: 'true', POWERTOOLS_TRACER_CAPTURE_RESPONSE: 'false', POWERTOOLS_METRICS_NAMESPACE: 'ScrmHub', POWERTOOLS_SERVICE_NAME: 'scrm-hub' });
    expect(props.LoggingConfig.LogGroup).toEqual({ Ref: logicalId(stack, logGroup) });
    expect(resourcesOf(t, 'AWS::Logs::LogGroup')[logicalId(stack, logGroup)]!.Properties.RetentionInDays).toBe(cfgs[stage].logRetentionDays);
    // In a VPC exactly when the stage has a fixed egress IP and the function calls WeChat.
    expect(Boolean(props.VpcConfig), 'VpcConfig').toBe(Boolean(cfgs[stage].fixedEgressIp && spec.wechatApi));
  });

  it.each(FUNCTIONS.map((f) => [f.name, f] as const))('%s: environment', (_name, spec) => {
    const vars = functions[logicalId(stack, stack.functions.get(spec.name)!.fn)]!.Properties.Environment.Variables as Json;
    expect(vars).toMatchObject({
      HUB_TABLE: { Ref: logicalId(stack, stack.table) },
      ...cfgs[stage].app,
      POWERTOOLS_SERVICE_NAME: 'scrm-hub',
      NODE_OPTIONS: '--enable-source-maps',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
    for (const [q] of queueEntries()) {
      const name = QUEUE_URL_ENV[q];
      if (spec.sends?.includes(q)) expect(vars[name], name).toEqual({ Ref: logicalId(stack, stack.queues[q].queue) });
      else expect(vars[name], name).toBeUndefined();
    }
    // HUB_SECRET_ARNS: exactly the manifest's groups, each the ARN of its own secret.
    expect(vars.HUB_SECRET_ARN).toBeUndefined();
    if (!spec.secrets.length) expect(vars.HUB_SECRET_ARNS).toBeUndefined();
    else expect(secretArnsOf(vars.HUB_SECRET_ARNS)).toEqual(Object.fromEntries(spec.secrets.map((g) => [g, { Ref: logicalId(stack, stack.secrets[g]) }])));
    for (const key of SECRET_KEYS) expect(vars[key], `secret ${key} in env`).toBeUndefined();
  });

  it.each(FUNCTIONS.map((f) => [f.name, f] as const))('%s: IAM grants exactly what the manifest declares', (_name, spec) => {
    const { role, logGroup } = stack.functions.get(spec.name)!;
    const grants = grantsOf(t, logicalId(stack, role));
    const tableArn = arnOf(logicalId(stack, stack.table));
    const tableIndexes = JSON.stringify({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(stack, stack.table), 'Arn'] }, '/index/*']] });
    const queueArn = (q: QueueName) => arnOf(logicalId(stack, stack.queues[q].queue));
    const dlqArn = (q: QueueName) => arnOf(logicalId(stack, stack.queues[q].dlq));
    const resources = (action: string) => [...(grants.get(action) ?? [])].sort();

    // Logs: only its own log group. X-Ray: the only wildcard resource.
    expect(resources('logs:CreateLogStream')).toEqual([arnOf(logicalId(stack, logGroup))]);
    expect(resources('logs:PutLogEvents')).toEqual([arnOf(logicalId(stack, logGroup))]);
    expect(resources('xray:PutTraceSegments')).toEqual(['"*"']);
    for (const [action, res] of grants) if (res.has('"*"')) expect(action, `${action} on *`).toMatch(/^xray:/);

    // Table.
    // Table: the access level's actions plus the declared extras, never Scan/BatchWriteItem/DeleteItem otherwise.
    const tableActions = [...grants.keys()].filter((a) => a.startsWith('dynamodb:')).sort();
    const extras = (spec.tableActions ?? []).map((a) => `dynamodb:${a}`);
    const expectedTable = { none: [], read: DDB_READ, readwrite: [...DDB_READ, ...DDB_WRITE] }[spec.table];
    expect(tableActions).toEqual([...expectedTable, ...extras].sort());
    for (const a of ['dynamodb:Scan', 'dynamodb:BatchWriteItem', 'dynamodb:DeleteItem']) expect(grants.has(a), a).toBe(extras.includes(a));
    for (const a of tableActions) expect(resources(a), a).toEqual(a === 'dynamodb:Query' ? [tableArn, tableIndexes].sort() : [tableArn]);

    // Queues: send only to `sends` (and the source queues it redrives into); consume only `consumes`.
    // A scheduled function also sends (as its failure destination) to the schedule failure queue.
    const sendTo = [
      ...[...new Set([...(spec.sends ?? []), ...(spec.redrives ?? [])])].map(queueArn),
      ...(spec.schedule ? [arnOf(logicalId(stack, stack.scheduleFailures))] : []),
    ].sort();
    expect(resources('sqs:SendMessage')).toEqual(sendTo);
    for (const a of SQS_CONSUME) {
      const expected = [...(spec.consumes ? [queueArn(spec.consumes)] : []), ...(a === 'sqs:ChangeMessageVisibility' ? [] : (spec.redrives ?? []).map(dlqArn))];
      expect(resources(a), a).toEqual(expected.sort());
    }
    expect(resources('sqs:StartMessageMoveTask')).toEqual((spec.redrives ?? []).map(dlqArn).sort());

    // Secrets: exactly the manifest's groups (so attribution-api and the webhooks cannot read the
    // WeChat app secret or the signing keys unless their entry lists the group).
    const secretRefs = spec.secrets.map((g) => JSON.stringify({ Ref: logicalId(stack, stack.secrets[g]) })).sort();
    expect(resources('secretsmanager:GetSecretValue')).toEqual(secretRefs);
    expect(resources('secretsmanager:DescribeSecret')).toEqual(secretRefs);

    // Archive: PutRecordBatch on exactly the delivery streams of the manifest's `archives`.
    const streamRefs = (spec.archives ?? []).map((s) => JSON.stringify({ 'Fn::GetAtt': [logicalId(stack, { node: { defaultChild: stack.archive.deliveryStreams[s] } }), 'Arn'] })).sort();
    expect(resources('firehose:PutRecordBatch')).toEqual(streamRefs);

    // Nothing else at all.
    const allowed = /^(logs:(CreateLogStream|PutLogEvents)|xray:(PutTraceSegments|PutTelemetryRecords)|dynamodb:\w+|sqs:\w+|secretsmanager:(GetSecretValue|DescribeSecret)|firehose:PutRecordBatch)$/;
    for (const action of grants.keys()) expect(action).toMatch(allowed);

    // Managed policies: only the VPC ENI policy, only inside the VPC.
    const managed = (resourcesOf(t, 'AWS::IAM::Role')[logicalId(stack, role)]!.Properties.ManagedPolicyArns ?? []) as Json[];
    const inVpc = cfgs[stage].fixedEgressIp && spec.wechatApi;
    expect(JSON.stringify(managed)).toBe(inVpc ? JSON.stringify([{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole']] }]) : '[]');
  });
});

describe('table', () => {
  it.each(['dev', 'prod'] as const)('%s: GlobalTable with pk/sk, gsi1, TTL, PITR, encryption, insights', (stage) => {
    const t = templates[stage];
    t.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    t.resourceCountIs('AWS::DynamoDB::Table', 0);
    t.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      // The same table the emulator creates (local/emulators.ts createTable).
      ...tableSchema(),
      TimeToLiveSpecification: { AttributeName: TABLE.timeToLiveAttribute, Enabled: true },
      SSESpecification: { SSEEnabled: true },
      Replicas: [
        Match.objectLike({
          Region: cfgs[stage].region,
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          DeletionProtectionEnabled: cfgs[stage].deletionProtection,
          ContributorInsightsSpecification: { Enabled: true },
        }),
      ],
    });
    const [table] = Object.values(resourcesOf(t, 'AWS::DynamoDB::GlobalTable'));
    expect(table!.DeletionPolicy).toBe(stage === 'prod' ? 'Retain' : 'Delete');
  });
});

describe('queues', () => {
  const t = templates.dev;
  const queues = resourcesOf(t, 'AWS::SQS::Queue');
  it('one queue and one DLQ per QUEUES entry, the schedule failure queue, nothing else', () => {
    expect(Object.keys(queues)).toHaveLength(2 * Object.keys(QUEUES).length + 1);
    expect(queues[logicalId(dev, dev.scheduleFailures)]!.Properties).toMatchObject({ QueueName: 'scrm-hub-dev-schedule-failures', SqsManagedSseEnabled: true });
  });
  it.each(queueEntries())('%s: DLQ, redrive policy, retention, encryption, TLS', (name, spec) => {
    const { queue, dlq } = dev.queues[name];
    const [qId, dId] = [logicalId(dev, queue), logicalId(dev, dlq)];
    const q = queues[qId]!.Properties;
    const d = queues[dId]!.Properties;
    expect(q.QueueName).toBe(`scrm-hub-dev-${spec.name}`);
    expect(d.QueueName).toBe(`scrm-hub-dev-${spec.name}-dlq`);
    expect(q.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': [dId, 'Arn'] }, maxReceiveCount: spec.maxReceiveCount });
    expect(d.MessageRetentionPeriod).toBe(spec.dlqRetentionSeconds);
    expect(d.RedriveAllowPolicy).toEqual({
      redrivePermission: 'byQueue',
      sourceQueueArns: [`arn:aws:sqs:${devCfg.region}:111111111111:${q.QueueName}`],
    });
    expect(q.SqsManagedSseEnabled).toBe(true);
    expect(d.SqsManagedSseEnabled).toBe(true);
    for (const id of [qId, dId]) {
      t.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
        },
      });
    }
    // Visibility timeout at least 6 × the timeout of every consumer.
    for (const f of FUNCTIONS.filter((f) => f.consumes === name)) expect(q.VisibilityTimeout).toBeGreaterThanOrEqual(6 * f.timeoutSeconds);
  });
  it('every consumer has an event source mapping that reports batch item failures', () => {
    const consumers = FUNCTIONS.filter((f) => f.consumes);
    const mappings = Object.values(resourcesOf(t, 'AWS::Lambda::EventSourceMapping'));
    expect(mappings).toHaveLength(consumers.length);
    for (const f of consumers) {
      const aliasId = logicalId(dev, dev.functions.get(f.name)!.alias);
      const m = mappings.find((x) => refersTo(x.Properties.FunctionName, aliasId))!;
      expect(m.Properties).toMatchObject({
        EventSourceArn: { 'Fn::GetAtt': [logicalId(dev, dev.queues[f.consumes!].queue), 'Arn'] },
        BatchSize: CONSUMER_BATCH.batchSize,
        MaximumBatchingWindowInSeconds: CONSUMER_BATCH.maxBatchingWindowSeconds,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
      if (f.reservedConcurrency) expect(m.Properties.ScalingConfig.MaximumConcurrency).toBeLessThanOrEqual(Math.max(2, f.reservedConcurrency));
    }
  });
});

describe('schedules', () => {
  it('one EventBridge rule per scheduled function, targeting it', () => {
    const scheduled = FUNCTIONS.filter((f) => f.schedule);
    const rules = Object.values(resourcesOf(templates.dev, 'AWS::Events::Rule'));
    expect(rules).toHaveLength(scheduled.length);
    for (const f of scheduled) {
      const aliasId = logicalId(dev, dev.functions.get(f.name)!.alias);
      const rule = rules.find((r) => refersTo(r.Properties.Targets, aliasId));
      expect(rule?.Properties.ScheduleExpression, f.name).toBe(f.schedule!.expression);
    }
  });
});

describe('secrets', () => {
  const t = templates.dev;
  it('every secret key belongs to exactly one group', () => {
    const grouped = Object.values(SECRET_GROUPS).flat();
    expect([...grouped].sort()).toEqual([...SECRET_KEYS].sort());
    expect(new Set(grouped).size).toBe(grouped.length);
  });
  it.each(['dev', 'prod'] as const)('%s: one secret per group, named by convention, created as {} (nothing generated)', (stage) => {
    const stack = stacks[stage];
    const secrets = resourcesOf(templates[stage], 'AWS::SecretsManager::Secret');
    expect(Object.keys(secrets)).toHaveLength(SECRET_GROUP_NAMES.length);
    for (const g of SECRET_GROUP_NAMES) {
      const res = secrets[logicalId(stack, stack.secrets[g])]!;
      expect(res.Properties.Name).toBe(secretName(stage, g));
      expect(res.Properties.SecretString).toBe('{}');
      expect(res.Properties.GenerateSecretString).toBeUndefined();
      // The keys secret survives the stack in every stage; the others follow the stage.
      const kept = g === 'keys' || cfgs[stage].removalPolicy === 'retain';
      expect(res.DeletionPolicy, g).toBe(kept ? 'Retain' : 'Delete');
      expect(res.UpdateReplacePolicy, g).toBe(kept ? 'Retain' : 'Delete');
    }
  });
  it('a changed key list changes the outputs but not one secret resource (no value is ever regenerated)', () => {
    const other = new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] } });
    const changed = { ...SECRET_GROUPS, wechat: ['WECHAT_TOKEN'], keys: ['CODE_SIGNING_SECRET', 'PHONE_HASH_SECRET', 'HUB_OTP_SECRET', 'HUB_ADMIN_TOKEN'] } as const;
    const again = Template.fromStack(new HubStack(other, 'HubDev', { ...hubStackProps('dev', devCfg), env: env(devCfg), secretGroups: changed }));
    expect(again.findResources('AWS::SecretsManager::Secret')).toEqual(t.findResources('AWS::SecretsManager::Secret'));
    // The key list did reach the template (the outputs name it): the equality above is not vacuous.
    expect(again.findOutputs('WechatSecretArn')).not.toEqual(t.findOutputs('WechatSecretArn'));
  });
  it('no local default secret value appears anywhere in the templates', () => {
    for (const stage of ['dev', 'prod'] as const) {
      const text = JSON.stringify(templates[stage].toJSON());
      for (const key of SECRET_KEYS) {
        const local = (LOCAL_DEFAULTS as Record<string, string>)[key];
        if (local) expect(text.includes(local), `${key} default in ${stage} template`).toBe(false);
      }
    }
  });
});

describe('fixed egress IP', () => {
  it('prod: VPC with one NAT gateway on the Elastic IP, IP in the outputs, HTTPS-only egress', () => {
    const t = templates.prod;
    t.resourceCountIs('AWS::EC2::VPC', 1);
    t.resourceCountIs('AWS::EC2::NatGateway', 1);
    t.resourceCountIs('AWS::EC2::EIP', 1);
    const eipId = logicalId(prod, { node: { defaultChild: prod.egressIp } });
    t.hasResourceProperties('AWS::EC2::NatGateway', { AllocationId: { 'Fn::GetAtt': [eipId, 'AllocationId'] } });
    t.hasOutput('EgressIpAddress', { Value: { Ref: eipId } });
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupEgress: [Match.objectLike({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 })],
    });
    t.resourceCountIs('AWS::EC2::FlowLog', 1);
  });
  it('dev: no VPC, no NAT, no Elastic IP', () => {
    const t = templates.dev;
    for (const type of ['AWS::EC2::VPC', 'AWS::EC2::NatGateway', 'AWS::EC2::EIP']) t.resourceCountIs(type, 0);
    expect(Object.keys(t.findOutputs('EgressIpAddress'))).toHaveLength(0);
  });
});

describe.each(['dev', 'prod'] as const)('alarms (%s)', (stage) => {
  const t = templates[stage];
  const stack = stacks[stage];
  const alarms = Object.values(resourcesOf(t, 'AWS::CloudWatch::Alarm'));
  const topicId = logicalId(stack, stack.alarmTopic);
  const metricAlarm = (metric: string, dimensionValue: unknown) =>
    alarms.filter((a) => a.Properties.MetricName === metric && JSON.stringify(a.Properties.Dimensions).includes(JSON.stringify(dimensionValue)));

  it('every alarm notifies the SNS topic', () => {
    for (const a of alarms) expect(a.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
  });
  it('every DLQ: messages visible > 0 and age of the oldest message', () => {
    for (const { dlq } of Object.values(stack.queues)) {
      const name = { 'Fn::GetAtt': [logicalId(stack, dlq), 'QueueName'] };
      const visible = metricAlarm('ApproximateNumberOfMessagesVisible', name);
      expect(visible).toHaveLength(1);
      expect(visible[0]!.Properties).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
      const age = metricAlarm('ApproximateAgeOfOldestMessage', name);
      expect(age).toHaveLength(1);
      expect(age[0]!.Properties.Threshold).toBe(cfgs[stage].alarms.dlqMaxAgeSeconds);
    }
  });
  it('every function: Errors and Throttles', () => {
    for (const { fn } of stack.functions.values()) {
      const ref = { Ref: logicalId(stack, fn) };
      expect(metricAlarm('Errors', ref)).toHaveLength(1);
      expect(metricAlarm('Errors', ref)[0]!.Properties.Threshold).toBe(cfgs[stage].alarms.functionErrors);
      expect(metricAlarm('Throttles', ref)).toHaveLength(1);
    }
  });
  it('API 5xx rate', () => {
    const rate = alarms.filter((a) => (a.Properties.Metrics as Json[] | undefined)?.some((m) => m.MetricStat?.Metric.MetricName === '5xx'));
    expect(rate).toHaveLength(1);
    expect(rate[0]!.Properties.Threshold).toBe(cfgs[stage].alarms.api5xxRatePercent);
  });
  it('p99 latency of every public route (WeChat tighter than 3 s)', () => {
    const budgets = cfgs[stage].alarms.latencyP99Ms;
    for (const { fn, route } of allRoutes.filter((r) => !r.route.admin)) {
      const found = alarms.filter(
        (a) =>
          a.Properties.MetricName === 'Latency' &&
          (a.Properties.Dimensions as Json[]).some((d) => d.Name === 'Resource' && d.Value === route.path) &&
          (a.Properties.Dimensions as Json[]).some((d) => d.Name === 'Method' && d.Value === route.method),
      );
      expect(found, `${route.method} ${route.path}`).toHaveLength(1);
      expect(found[0]!.Properties.ExtendedStatistic).toBe('p99');
      expect(found[0]!.Properties.Threshold).toBe(budgets[fn.name] ?? budgets.default);
    }
    expect(budgets.wechat ?? budgets.default).toBeLessThanOrEqual(3000);
  });
});

describe('outputs', () => {
  it('API URL, dashboard URL, table name, queue URLs', () => {
    const outputs = templates.dev.toJSON().Outputs as Json;
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining(['ApiUrl', 'DashboardUrl', 'TableName', 'EngagementQueueUrl', 'StaffAlertsQueueUrl']));
    expect(JSON.stringify(outputs.DashboardUrl.Value)).toContain('/dashboard');
    expect(outputs.TableName.Value).toEqual({ Ref: logicalId(dev, dev.table) });
  });
});

describe('cdk-nag (AwsSolutions)', () => {
  const report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as {
    pluginReports: { pluginName: string; violations: { ruleName: string; severity: string; violatingConstructs: { constructPath: string }[] }[] }[];
  };
  const findings = report.pluginReports.flatMap((p) =>
    p.violations.flatMap((v) => v.violatingConstructs.map((c) => ({ plugin: p.pluginName, rule: v.ruleName, severity: v.severity, path: c.constructPath }))),
  );
  it('ran: the canary stack is flagged', () => {
    const canaryRules = findings.filter((f) => f.path.startsWith('NagCanary/')).map((f) => f.rule);
    expect(canaryRules).toEqual(expect.arrayContaining(['AwsSolutions-SQS3', 'AwsSolutions-SQS4']));
  });
  it('leaves no unacknowledged finding (nor any other validation error) in the hub stacks', () => {
    const hub = findings.filter((f) => !f.path.startsWith('NagCanary/'));
    expect(hub).toEqual([]);
  });
  it('no error annotations', () => {
    for (const stack of [dev, prod]) {
      const errors = assembly.getStackArtifact(stack.artifactId).messages.filter((m) => m.level === 'error');
      expect(errors.map((m) => `${m.id}: ${String(m.entry.data)}`)).toEqual([]);
    }
  });
  it('public-route reasons cover exactly the functions with public routes', () => {
    const publicFns = FUNCTIONS.filter((f) => f.routes?.some((r) => !r.admin)).map((f) => f.name);
    expect(Object.keys(PUBLIC_ROUTE_REASONS).sort()).toEqual(publicFns.sort());
  });
});

describe('stages that cannot ship broken', () => {
  const deployable = mergeStageFile(stages, PROD_STAGE_FILE) as Json;
  const prodWith = (change: (p: Json) => void) => {
    const p = structuredClone(deployable.prod) as Json;
    change(p);
    return () => stageConfig({ prod: p }, 'prod');
  };
  it('the fixture stage file makes prod deployable; cdk.json alone does not', () => {
    expect(prodCfg.account).toBe('123456789012');
    expect(() => stageConfig(stages, 'prod')).toThrow(/stage prod cannot be deployed/);
  });
  it('a placeholder left in prod fails the synth, naming the setting', () => {
    expect(prodWith((p) => (p.app.WECHAT_APP_ID = 'REPLACE_WITH_WECHAT_APP_ID'))).toThrow(/stages\.prod\.app\.WECHAT_APP_ID is a placeholder/);
    expect(prodWith((p) => (p.app.HUB_MEMBER_CENTRE_URL = 'https://www.example.com/member'))).toThrow(/stages\.prod\.app\.HUB_MEMBER_CENTRE_URL is a placeholder/);
    expect(prodWith((p) => (p.jwt.issuer = 'https://cognito-idp.ap-southeast-1.amazonaws.com/ap-southeast-1_REPLACEME'))).toThrow(/stages\.prod\.jwt\.issuer is a placeholder/);
    expect(prodWith((p) => (p.alarms.email = 'oncall@example.com'))).toThrow(/stages\.prod\.alarms\.email is a placeholder/);
  });
  it('prod without an alarm subscription fails the synth', () => {
    expect(prodWith((p) => delete p.alarms.email)).toThrow(/stages\.prod\.alarms\.email: no alarm subscription configured/);
  });
  it('prod without a pinned account fails the synth', () => {
    expect(prodWith((p) => delete p.account)).toThrow(/stages\.prod\.account: the account is not pinned/);
    expect(prodWith((p) => (p.account = '12345'))).toThrow(/stages\.prod\.account: 12 digits/);
  });
  it('dev may keep placeholders and go without subscription or account', () => {
    expect(devCfg.account).toBeUndefined();
    expect(devCfg.alarms.email).toBeUndefined();
    expect(devCfg.jwt.issuer).toMatch(/REPLACEME/);
  });
  it('app settings are checked by the runtime schema: no secrets, no stack-owned names, valid values', () => {
    expect(prodWith((p) => (p.app.CODE_SIGNING_SECRET = 'x'.repeat(32)))).toThrow(/app\.CODE_SIGNING_SECRET: is a secret/);
    expect(prodWith((p) => (p.app.HUB_TABLE = 'other'))).toThrow(/app\.HUB_TABLE: is set by the stack/);
    expect(prodWith((p) => (p.app.SMS_PROVIDER = 'carrier-pigeon'))).toThrow(/app\.SMS_PROVIDER/);
    expect(prodWith((p) => (p.app.NOT_A_SETTING = '1'))).toThrow(/NOT_A_SETTING is not a configuration name/);
    expect(prodWith((p) => (p.app.HUB_SCAN_DAILY_LIMIT = '50'))()).toMatchObject({ app: { HUB_SCAN_DAILY_LIMIT: '50' } });
  });
  it('the prod stack is pinned to the stage account and its functions get HUB_MEMBER_CENTRE_URL', () => {
    expect(prod.account).toBe('123456789012');
    const fn = resourcesOf(templates.prod, 'AWS::Lambda::Function')[logicalId(prod, prod.functions.get('wechat')!.fn)]!;
    expect(fn.Properties.Environment.Variables.HUB_MEMBER_CENTRE_URL).toBe('https://member.scrm-hub.test/member');
  });
  it('prod alarms reach the configured email', () => {
    templates.prod.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@scrm-hub.test', TopicArn: { Ref: logicalId(prod, prod.alarmTopic) } });
  });
});

describe('VPC flow logs (prod)', () => {
  it('write to their own log group only: no logs:* and no wildcard resource', () => {
    const t = templates.prod;
    const flowLog = Object.values(resourcesOf(t, 'AWS::EC2::FlowLog'))[0]!;
    const roleId = (flowLog.Properties.DeliverLogsPermissionArn as Json)['Fn::GetAtt'][0] as string;
    const grants = grantsOf(t, roleId);
    expect([...grants.keys()].sort()).toEqual(['logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents']);
    const logGroupArn = JSON.stringify(flowLog.Properties.LogDestination ?? { 'Fn::GetAtt': [flowLog.Properties.LogGroupName.Ref, 'Arn'] });
    for (const a of ['logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents']) expect([...grants.get(a)!]).toEqual([logGroupArn]);
    expect(JSON.stringify(t.toJSON())).not.toContain('"logs:*"');
  });
});

describe.each(['dev', 'prod'] as const)('rollback and schedules (%s)', (stage) => {
  const t = templates[stage];
  const stack = stacks[stage];
  const aliases = resourcesOf(t, 'AWS::Lambda::Alias');
  const groups = resourcesOf(t, 'AWS::CodeDeploy::DeploymentGroup');
  const expectedConfig = { dev: 'CodeDeployDefault.LambdaAllAtOnce', prod: 'CodeDeployDefault.LambdaCanary10Percent5Minutes' }[stage];

  it.each(FUNCTIONS.map((f) => [f.name, f] as const))('%s: a published version behind `live`, shifted by CodeDeploy, rolled back on its error alarm', (_n, spec) => {
    const { fn, alias, errorsAlarm } = stack.functions.get(spec.name)!;
    const a = aliases[logicalId(stack, alias)]!.Properties;
    expect(a.Name).toBe(LIVE_ALIAS);
    expect(a.FunctionName).toEqual({ Ref: logicalId(stack, fn) });
    const versionId = (a.FunctionVersion as Json)['Fn::GetAtt'][0] as string;
    expect(resourcesOf(t, 'AWS::Lambda::Version')[versionId]!.Properties.FunctionName).toEqual({ Ref: logicalId(stack, fn) });
    expect(aliases[logicalId(stack, alias)]!.UpdatePolicy.CodeDeployLambdaAliasUpdate).toBeDefined();
    const groupId = logicalId(stack, stack.functions.get(spec.name)!.deploymentGroup!);
    expect(refersTo(aliases[logicalId(stack, alias)]!.UpdatePolicy, groupId)).toBe(true);
    const group = groups[groupId]!;
    expect(group.Properties.DeploymentConfigName).toBe(expectedConfig);
    expect(group.Properties.AlarmConfiguration).toEqual({ Alarms: [{ Name: { Ref: logicalId(stack, { node: { defaultChild: errorsAlarm!.node.defaultChild } }) } }], Enabled: true });
    expect(group.Properties.AutoRollbackConfiguration).toEqual({ Enabled: true, Events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST', 'DEPLOYMENT_STOP_ON_ALARM'] });
  });

  it('nothing invokes an unpublished function: permissions, event sources and rule targets all name the alias', () => {
    for (const p of Object.values(resourcesOf(t, 'AWS::Lambda::Permission'))) {
      const target = JSON.stringify(p.Properties.FunctionName);
      const fnIds = [...stack.functions.values()].map((h) => logicalId(stack, h.fn));
      if (fnIds.some((id) => target === JSON.stringify({ 'Fn::GetAtt': [id, 'Arn'] }))) throw new Error(`permission on the bare function: ${target}`);
    }
  });

  const scheduled = FUNCTIONS.filter((f) => f.schedule);
  it.each(scheduled.map((f) => [f.name, f] as const))('%s: no retries, short event age, failure queue, heartbeat alarm', (_n, spec) => {
    const { fn, alias } = stack.functions.get(spec.name)!;
    const configs = Object.values(resourcesOf(t, 'AWS::Lambda::EventInvokeConfig')).filter((c) => c.Properties.FunctionName.Ref === logicalId(stack, fn));
    expect(configs).toHaveLength(1);
    // On the alias (its qualifier is taken from the alias ARN), not on $LATEST.
    expect(refersTo(configs[0]!.Properties.Qualifier, logicalId(stack, alias))).toBe(true);
    expect(configs[0]!.Properties).toMatchObject({
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: SCHEDULE_MAX_EVENT_AGE_SECONDS,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(stack, stack.scheduleFailures), 'Arn'] } } },
    });
    const heartbeat = Object.values(resourcesOf(t, 'AWS::CloudWatch::Alarm')).filter(
      (a) => a.Properties.MetricName === 'Invocations' && JSON.stringify(a.Properties.Dimensions) === JSON.stringify([{ Name: 'FunctionName', Value: { Ref: logicalId(stack, fn) } }]),
    );
    expect(heartbeat).toHaveLength(1);
    // Hand-computed windows: three ticks (at least 5 min) for rates, a day for the nightly cron.
    const expected = { 'outbox-sweep': [300, 3], 'tmc-pull': [300, 3], 'nudge-sweep': [2700, 2], reconcile: [2700, 2], 'counter-fold': [300, 3], nightly: [86400, 1], privacy: [900, 2] }[spec.name as string];
    expect(expected, `hand-computed window for ${spec.name}`).toBeDefined();
    expect(heartbeat[0]!.Properties).toMatchObject({
      Period: expected![0],
      Threshold: expected![1],
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      Statistic: 'Sum',
      AlarmActions: [{ Ref: logicalId(stack, stack.alarmTopic) }],
    });
  });
  it('no overlapping runs: tmc-pull, outbox-sweep, reconcile, counter-fold, nightly and privacy reserve exactly one instance', () => {
    const fns = resourcesOf(t, 'AWS::Lambda::Function');
    for (const name of ['tmc-pull', 'outbox-sweep', 'reconcile', 'counter-fold', 'nightly', 'privacy']) {
      expect(fns[logicalId(stack, stack.functions.get(name)!.fn)]!.Properties.ReservedConcurrentExecutions, name).toBe(1);
    }
  });
});

describe('who can read the WeChat app secret and the signing keys', () => {
  it('attribution-api and the commerce webhooks cannot read the wechat or keys secret unless their entry lists it', () => {
    const t = templates.prod;
    for (const name of ['attribution-api', 'wechat', 'tmall', 'jd', 'youzan']) {
      const spec = FUNCTIONS.find((f) => f.name === name)!;
      const readable = [...(grantsOf(t, logicalId(prod, prod.functions.get(name)!.role)).get('secretsmanager:GetSecretValue') ?? [])];
      for (const g of ['wechat', 'keys'] as const) {
        const ref = JSON.stringify({ Ref: logicalId(prod, prod.secrets[g]) });
        expect(readable.includes(ref), `${name} reads ${g}`).toBe(spec.secrets.includes(g));
      }
    }
    // As declared today: the commerce webhooks and attribution-api never see the WeChat app secret.
    for (const name of ['attribution-api', 'tmall', 'jd', 'youzan']) expect(FUNCTIONS.find((f) => f.name === name)!.secrets).not.toContain('wechat');
  });
});

describe.each(['dev', 'prod'] as const)('alarms that reach someone, and the dashboard (%s)', (stage) => {
  const t = templates[stage];
  const stack = stacks[stage];
  const alarms = Object.values(resourcesOf(t, 'AWS::CloudWatch::Alarm'));
  const apiId = { Ref: logicalId(stack, stack.api) };

  it('the platform webhooks are exactly the signed routes of wechat, tmall (TMC and the 会员通 SPI), jd, youzan and wecom', () => {
    const webhooks = allRoutes.filter((r) => r.route.webhook).map((r) => r.key);
    expect(webhooks.sort()).toEqual(['GET /wechat/{appId}', 'GET /wecom/{corpId}', 'POST /jd/{appKey}', 'POST /tmall/mei/{appKey}', 'POST /tmall/{appKey}', 'POST /wechat/{appId}', 'POST /wecom/{corpId}', 'POST /youzan/{clientId}']);
  });
  it('per-route metrics are on (needed for the per-webhook alarms)', () => {
    t.hasResourceProperties('AWS::ApiGatewayV2::Stage', { DefaultRouteSettings: Match.objectLike({ DetailedMetricsEnabled: true }) });
  });
  it('every webhook route: a 4xx-rate alarm over its own route metrics, with a minimum request count', () => {
    const { webhook4xxRatePercent, webhook4xxMinRequests } = cfgs[stage].alarms;
    for (const { route, key } of allRoutes.filter((r) => r.route.webhook)) {
      const found = alarms.filter((a) =>
        (a.Properties.Metrics as Json[] | undefined)?.some(
          (m) =>
            m.MetricStat?.Metric.MetricName === '4xx' &&
            JSON.stringify(m.MetricStat.Metric.Dimensions) ===
              JSON.stringify([
                { Name: 'ApiId', Value: apiId },
                { Name: 'Method', Value: route.method },
                { Name: 'Resource', Value: route.path },
                { Name: 'Stage', Value: '$default' },
              ]),
        ),
      );
      expect(found, key).toHaveLength(1);
      const p = found[0]!.Properties;
      expect(p.Threshold).toBe(webhook4xxRatePercent);
      expect(p.ComparisonOperator).toBe('GreaterThanThreshold');
      const expr = (p.Metrics as Json[]).find((m) => m.Expression)!.Expression as string;
      expect(expr).toBe(`IF(requests >= ${webhook4xxMinRequests}, 100 * errors / requests, 0)`);
      expect(p.AlarmActions).toEqual([{ Ref: logicalId(stack, stack.alarmTopic) }]);
    }
    // No 4xx alarm on H5 or admin routes (a shopper's bad input is not an outage).
    expect(alarms.filter((a) => JSON.stringify(a.Properties.Metrics ?? []).includes('"4xx"'))).toHaveLength(allRoutes.filter((r) => r.route.webhook).length);
  });
  it('every work queue: age of the oldest message and backlog', () => {
    for (const [name, { queue }] of Object.entries(stack.queues)) {
      const dims = JSON.stringify([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack, queue), 'QueueName'] } }]);
      const of = (metric: string) => alarms.filter((a) => a.Properties.MetricName === metric && JSON.stringify(a.Properties.Dimensions) === dims);
      expect(of('ApproximateAgeOfOldestMessage'), name).toHaveLength(1);
      expect(of('ApproximateAgeOfOldestMessage')[0]!.Properties.Threshold).toBe(cfgs[stage].alarms.queueMaxAgeSeconds);
      expect(of('ApproximateNumberOfMessagesVisible'), name).toHaveLength(1);
      expect(of('ApproximateNumberOfMessagesVisible')[0]!.Properties.Threshold).toBe(cfgs[stage].alarms.queueMaxVisible);
    }
    expect(Object.keys(stack.queues).sort()).toEqual(['engagement', 'staff-alerts']);
  });
  it('one dashboard: API, webhook 4xx/5xx per route, queues, DLQs, function errors and durations, business metrics by name', () => {
    const dashboards = Object.values(resourcesOf(t, 'AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    expect(dashboards[0]!.Properties.DashboardName).toBe(`scrm-hub-${stage}`);
    const body = JSON.stringify(dashboards[0]!.Properties.DashboardBody);
    for (const title of ['API requests and errors', 'Webhook 4xx', 'Webhook 5xx', 'Queue age of oldest message', 'Dead-letter queues', 'Function errors and throttles', 'Function duration p99']) {
      expect(body, title).toContain(title);
    }
    for (const { key } of allRoutes.filter((r) => r.route.webhook)) expect(body, key).toContain(key);
    for (const { fn } of stack.functions.values()) expect(body).toContain(logicalId(stack, fn));
    for (const { queue, dlq } of Object.values(stack.queues)) {
      expect(body).toContain(logicalId(stack, queue));
      expect(body).toContain(logicalId(stack, dlq));
    }
    // The business metrics the functions emit (hand-listed names, namespace ScrmHub, by their dimensions).
    const expected: [string, string][] = [
      ['EventsApplied', 'ScrmHub,service,source'],
      ['Duplicates', 'ScrmHub,service,source'],
      ['Refused', 'ScrmHub,service,source,reason'],
      ['MessagesSent', 'ScrmHub,service'],
      ['MessagesSuppressed', 'ScrmHub,service,reason'],
      ['ReconcileGaps', 'ScrmHub,service'],
      ['FoldLagSeconds', 'ScrmHub,service'],
      ['CodeScans', 'ScrmHub,service,result'],
    ];
    for (const [name, schema] of expected) expect(body, name).toContain(`SEARCH('{${schema}} MetricName=\\\\\\"${name}\\\\\\"`);
  });
});

describe('alarm subscription: e-mail or a WeCom group robot', () => {
  const deployable = mergeStageFile(stages, PROD_STAGE_FILE) as Json;
  it('a stage with alarms.wecomRobot and no e-mail is deployable; with neither it is not', () => {
    const robot = structuredClone(deployable.prod) as Json;
    delete robot.alarms.email;
    robot.alarms.wecomRobot = true;
    expect(stageConfig({ prod: robot }, 'prod').alarms.wecomRobot).toBe(true);
    robot.alarms.wecomRobot = false;
    expect(() => stageConfig({ prod: robot }, 'prod')).toThrow(/no alarm subscription configured/);
  });
  it('e-mail only (prod fixture): no Lambda subscription; the forwarder exists but nothing invokes it', () => {
    templates.prod.resourceCountIs('AWS::SNS::Subscription', 1);
    expect(Object.values(resourcesOf(templates.prod, 'AWS::SNS::Subscription'))[0]!.Properties.Protocol).toBe('email');
  });
  it('wecomRobot: the topic invokes the live alias of alarm-forwarder, which reads only the alerts secret', () => {
    const robotApp = new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] } });
    const cfg: StageConfig = { ...prodCfg, alarms: { ...prodCfg.alarms, email: undefined, wecomRobot: true } };
    const stack = new HubStack(robotApp, 'HubRobot', { ...hubStackProps('prod', cfg), env: env(cfg) });
    const t = Template.fromStack(stack);
    const forwarder = stack.functions.get('alarm-forwarder')!;
    const subs = Object.values(resourcesOf(t, 'AWS::SNS::Subscription'));
    expect(subs).toHaveLength(1);
    expect(subs[0]!.Properties).toMatchObject({ Protocol: 'lambda', Endpoint: { Ref: logicalId(stack, forwarder.alias) }, TopicArn: { Ref: logicalId(stack, stack.alarmTopic) } });
    t.hasResourceProperties('AWS::Lambda::Permission', { Principal: 'sns.amazonaws.com', FunctionName: { Ref: logicalId(stack, forwarder.alias) } });
    const readable = [...(grantsOf(t, logicalId(stack, forwarder.role)).get('secretsmanager:GetSecretValue') ?? [])];
    expect(readable).toEqual([JSON.stringify({ Ref: logicalId(stack, stack.secrets.alerts) })]);
    expect(SECRET_GROUPS.alerts).toEqual(['WECOM_ALERT_WEBHOOK_URL']);
  });
});

describe('public route protection', () => {
  const stageResource = (stage: 'dev' | 'prod') => Object.values(resourcesOf(templates[stage], 'AWS::ApiGatewayV2::Stage'))[0]!.Properties;
  it('per-route throttles of the stage settings, on public routes only', () => {
    for (const stage of ['dev', 'prod'] as const) {
      const expected = Object.fromEntries(
        Object.entries(cfgs[stage].routeThrottles).map(([k, v]) => [k, { ThrottlingRateLimit: v.rateLimit, ThrottlingBurstLimit: v.burstLimit, DetailedMetricsEnabled: true }]),
      );
      expect(Object.keys(expected).length, stage).toBeGreaterThan(0);
      expect(stageResource(stage).RouteSettings).toEqual(expected);
    }
    // prod, as cdk.json sets it: the scan door is throttled well below the stage.
    expect(stageResource('prod').RouteSettings['POST /codes/scan']).toEqual({ ThrottlingRateLimit: 200, ThrottlingBurstLimit: 400, DetailedMetricsEnabled: true });
    expect(() => stageConfig({ dev: { ...stages.dev, routeThrottles: { 'GET /channels': { rateLimit: 1, burstLimit: 1 } } } }, 'dev')).toThrow(/routeThrottles\.GET \/channels: not a public route/);
  });
  it('prod reserves concurrency for the WeChat webhook; an unknown function name is refused', () => {
    const fns = resourcesOf(templates.prod, 'AWS::Lambda::Function');
    expect(fns[logicalId(prod, prod.functions.get('wechat')!.fn)]!.Properties.ReservedConcurrentExecutions).toBe(50);
    expect(() => stageConfig({ dev: { ...stages.dev, reservedConcurrency: { nope: 5 } } }, 'dev')).toThrow(/reservedConcurrency\.nope: not a function/);
  });
  it('CORS: the stage origins, the member routes\' methods, no credentials', () => {
    for (const stage of ['dev', 'prod'] as const) {
      const api = Object.values(resourcesOf(templates[stage], 'AWS::ApiGatewayV2::Api'))[0]!.Properties;
      expect(api.CorsConfiguration).toEqual({
        AllowOrigins: cfgs[stage].corsOrigins,
        AllowMethods: ['DELETE', 'GET', 'POST'],
        AllowHeaders: ['authorization', 'content-type'],
        AllowCredentials: false,
        MaxAge: 3600,
      });
    }
    expect(prodCfg.corsOrigins).toEqual(['https://member.scrm-hub.test']);
    expect(allRoutes.filter((r) => r.route.member).map((r) => r.key).sort()).toEqual([
      'DELETE /me',
      'GET /me',
      'GET /me/coupons',
      'GET /me/data',
      'GET /me/orders',
      'GET /me/points',
      'GET /me/referral',
      'GET /me/rewards',
      'POST /codes/scan',
      'POST /me/consent',
      'POST /me/redemptions',
      'POST /members',
      'POST /members/sms-code',
      'POST /sessions',
    ]);
  });
  it('no * (and no http) origin outside dev', () => {
    const deployable = mergeStageFile(stages, PROD_STAGE_FILE) as Json;
    for (const origin of ['*', 'http://localhost:5173']) {
      const p = structuredClone(deployable.prod) as Json;
      p.corsOrigins = [origin];
      expect(() => stageConfig({ prod: p }, 'prod'), origin).toThrow(/corsOrigins: only https:\/\/ origins outside dev/);
    }
    expect(() => stageConfig({ dev: { ...stages.dev, corsOrigins: ['https://a.test/path'] } }, 'dev')).toThrow(/corsOrigins/);
  });
});

describe('admin scopes', () => {
  it.each(['dev', 'prod'] as const)('%s: every admin route requires its own manifest scope; public routes none', (stage) => {
    const routes = Object.values(resourcesOf(templates[stage], 'AWS::ApiGatewayV2::Route'));
    // Hand-written: what each admin route requires.
    const expected: Record<string, string> = {
      'GET /members/{id}': 'members:read',
      'GET /members/{id}/export': 'members:export',
      'POST /members/{id}/erase': 'members:erase',
      'POST /channels': 'channels:write',
      'GET /channels': 'channels:read',
      'POST /codes/batches': 'codes:write',
      'POST /codes/batches/{id}/status': 'codes:write',
      'GET /codes/batches/{id}/codes.csv': 'codes:export',
      'GET /attribution/channels': 'attribution:read',
      'GET /attribution/channels/{id}/daily': 'attribution:read',
      'GET /attribution/channels.csv': 'attribution:read',
      'GET /attribution/accounts': 'attribution:read',
      'GET /insight/lift': 'insight:read',
      'GET /attribution/cohorts': 'attribution:read',
      'GET /attribution/cohorts.csv': 'attribution:read',
      'POST /rewards': 'rewards:write',
      'GET /rewards': 'rewards:read',
      'POST /redemptions/{id}/reverse': 'rewards:write',
      'POST /coupons/{code}/redeem': 'coupons:redeem',
      'GET /insight/menus': 'insight:read',
      'GET /insight/keywords': 'insight:read',
      'GET /keywords/{appId}': 'insight:read',
      'PUT /keywords/{appId}': 'keywords:write',
      'POST /audiences': 'audiences:write',
      'GET /audiences/{id}': 'insight:read',
      'GET /audiences/{id}/count': 'insight:read',
      'GET /audiences/{id}/members.csv': 'insight:read',
      'POST /campaigns': 'campaigns:write',
      'GET /campaigns/{id}': 'insight:read',
    };
    for (const { route, key } of allRoutes) {
      const props = routes.find((r) => r.Properties.RouteKey === key)!.Properties;
      if (route.admin) expect(props.AuthorizationScopes, key).toEqual([expected[key]]);
      else expect(props.AuthorizationScopes, key).toBeUndefined();
    }
    expect(allRoutes.filter((r) => r.route.admin)).toHaveLength(Object.keys(expected).length);
  });
});

describe('AWS China stage (cn-north-1, cn-northwest-1)', () => {
  const CHINA_STAGE_FILE = new URL('./fixtures/china-stage.json', import.meta.url).pathname;
  const chinaCfg = stageConfig(mergeStageFile(stages, CHINA_STAGE_FILE), 'china');
  it('cdk.json alone does not deploy (placeholders); the fixture does', () => {
    expect(() => stageConfig(stages, 'china')).toThrow(/stage china cannot be deployed/);
    expect(chinaCfg).toMatchObject({ region: 'cn-north-1', tracing: false, architecture: 'x86_64' });
  });
  it.each(['cn-north-1', 'cn-northwest-1'])('%s: synthesises with X-Ray off, no aws-partition ARN literal, the custom domain', (region) => {
    const chinaApp = new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] } });
    const cfg = { ...chinaCfg, region };
    const stack = new HubStack(chinaApp, `HubChina${pascalRegion(region)}`, { ...hubStackProps('china', cfg), env: { account: cfg.account!, region } });
    const t = Template.fromStack(stack);
    const text = JSON.stringify(t.toJSON());
    expect(text).not.toMatch(/arn:aws:/);
    expect(text).not.toContain('xray:');
    for (const { fn } of stack.functions.values()) {
      const props = resourcesOf(t, 'AWS::Lambda::Function')[logicalId(stack, fn)]!.Properties;
      expect(props.TracingConfig?.Mode ?? 'PassThrough').toBe('PassThrough');
      expect(props.Environment.Variables).toMatchObject({ POWERTOOLS_TRACE_ENABLED: 'false', POWERTOOLS_TRACER_CAPTURE_RESPONSE: 'false' });
      expect(props.Architectures).toEqual(['x86_64']);
      expect(props.Runtime).toBe('nodejs22.x');
    }
    t.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
      DomainName: 'api.scrm-hub.test',
      DomainNameConfigurations: [Match.objectLike({ CertificateArn: chinaCfg.domain!.certificateArn, EndpointType: 'REGIONAL' })],
    });
    t.resourceCountIs('AWS::ApiGatewayV2::ApiMapping', 1);
    // The issuer is the stage's parameter (no Cognito in the China regions).
    t.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', { JwtConfiguration: { Issuer: 'https://login.scrm-hub.test/realms/admin', Audience: ['scrm-hub-admin'] } });
    expect(text).not.toContain('cognito');
  });
});

function pascalRegion(region: string): string {
  return region.split('-').map((p) => p[0]!.toUpperCase() + p.slice(1)).join('');
}
