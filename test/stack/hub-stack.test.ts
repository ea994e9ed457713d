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
import { LOCAL_DEFAULTS, SECRET_KEYS } from '../../lib/config/index.ts';
import { FUNCTIONS } from '../../lib/manifest.ts';
import { QUEUE_URL_ENV, QUEUES, queueEntries, type QueueName } from '../../lib/queues.ts';
import { TABLE, tableSchema } from '../../lib/store/table.ts';
import { hubStackProps, stageConfig, type StageConfig } from '../../stacks/config.ts';
import { CONSUMER_BATCH, HubStack } from '../../stacks/hub-stack.ts';
import { PUBLIC_ROUTE_REASONS } from '../../stacks/nag-acknowledgements.ts';

/** Synthesized CloudFormation, navigated freely in assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { app: string; context: Json };
const stages = cdkJson.context.stages as Json;
const devCfg = stageConfig(stages, 'dev');
const prodCfg = stageConfig(stages, 'prod');

// --- The one app of this file: same feature flags as `cdk synth`, bundling skipped, and the
// validation report written instead of thrown so the nag test can read it.
const app = new App({
  context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], '@aws-cdk/core:failSynthOnValidationErrors': false },
});
const env = (cfg: StageConfig) => ({ account: '111111111111', region: cfg.region });
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

const DDB_READ = [
  'dynamodb:BatchGetItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DescribeTable',
  'dynamodb:GetItem',
  'dynamodb:GetRecords',
  'dynamodb:GetShardIterator',
  'dynamodb:Query',
  'dynamodb:Scan',
];
const DDB_WRITE = ['dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'];
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
  it('routes each key to its own function', () => {
    const integrations = resourcesOf(t, 'AWS::ApiGatewayV2::Integration');
    const routes = Object.values(resourcesOf(t, 'AWS::ApiGatewayV2::Route'));
    for (const { fn, key } of allRoutes) {
      const route = routes.find((r) => r.Properties.RouteKey === key)!;
      const integrationId = (route.Properties.Target['Fn::Join'][1] as Json[])[1]!.Ref as string;
      const fnId = logicalId(dev, dev.functions.get(fn.name)!.fn);
      expect(integrations[integrationId]!.Properties.IntegrationUri).toEqual({ 'Fn::GetAtt': [fnId, 'Arn'] });
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
    // Besides ours, at most CDK's own custom-resource handler (default security group lock-down in the VPC).
    const others = Object.keys(functions).filter((id) => !ours.has(id));
    expect(others.length).toBe(cfgs[stage].fixedEgressIp ? 1 : 0);
  });

  it.each(FUNCTIONS.map((f) => [f.name, f] as const))('%s: runtime, architecture, sizing, tracing, logs', (_name, spec) => {
    const { fn, logGroup } = stack.functions.get(spec.name)!;
    const props = functions[logicalId(stack, fn)]!.Properties;
    expect(props.Runtime).toBe('nodejs22.x');
    expect(props.Architectures).toEqual(['arm64']);
    expect(props.Handler).toBe('index.handler');
    expect(props.MemorySize).toBe(spec.memoryMb);
    expect(props.Timeout).toBe(spec.timeoutSeconds);
    expect(props.ReservedConcurrentExecutions).toBe(spec.reservedConcurrency);
    expect(props.TracingConfig).toEqual({ Mode: 'Active' });
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
    if (spec.secrets) expect(vars.HUB_SECRET_ARN).toEqual({ Ref: logicalId(stack, stack.secret) });
    else expect(vars.HUB_SECRET_ARN).toBeUndefined();
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
    const tableActions = [...grants.keys()].filter((a) => a.startsWith('dynamodb:')).sort();
    if (spec.table === 'none') expect(tableActions).toEqual([]);
    if (spec.table === 'read') expect(tableActions).toEqual([...DDB_READ].sort());
    if (spec.table === 'readwrite') expect(tableActions).toEqual([...DDB_READ, ...DDB_WRITE].sort());
    for (const a of tableActions) expect(resources(a), a).toEqual([tableArn, tableIndexes].sort());

    // Queues: send only to `sends` (and the source queues it redrives into); consume only `consumes`.
    const sendTo = [...new Set([...(spec.sends ?? []), ...(spec.redrives ?? [])])].map(queueArn).sort();
    expect(resources('sqs:SendMessage')).toEqual(sendTo);
    for (const a of SQS_CONSUME) {
      const expected = [...(spec.consumes ? [queueArn(spec.consumes)] : []), ...(a === 'sqs:ChangeMessageVisibility' ? [] : (spec.redrives ?? []).map(dlqArn))];
      expect(resources(a), a).toEqual(expected.sort());
    }
    expect(resources('sqs:StartMessageMoveTask')).toEqual((spec.redrives ?? []).map(dlqArn).sort());

    // Secret.
    const secretRef = JSON.stringify({ Ref: logicalId(stack, stack.secret) });
    expect(resources('secretsmanager:GetSecretValue')).toEqual(spec.secrets ? [secretRef] : []);

    // Nothing else at all.
    const allowed = /^(logs:(CreateLogStream|PutLogEvents)|xray:(PutTraceSegments|PutTelemetryRecords)|dynamodb:\w+|sqs:\w+|secretsmanager:(GetSecretValue|DescribeSecret))$/;
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
  it('one queue and one DLQ per QUEUES entry, nothing else', () => {
    expect(Object.keys(queues)).toHaveLength(2 * Object.keys(QUEUES).length);
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
      const fnId = logicalId(dev, dev.functions.get(f.name)!.fn);
      const m = mappings.find((x) => x.Properties.FunctionName.Ref === fnId)!;
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
      const fnId = logicalId(dev, dev.functions.get(f.name)!.fn);
      const rule = rules.find((r) => refersTo(r.Properties.Targets, fnId));
      expect(rule?.Properties.ScheduleExpression, f.name).toBe(f.schedule!.expression);
    }
  });
});

describe('secret', () => {
  const t = templates.dev;
  it('one secret holding every SECRET_KEYS entry, placeholders only', () => {
    const secrets = Object.values(resourcesOf(t, 'AWS::SecretsManager::Secret'));
    expect(secrets).toHaveLength(1);
    const gen = secrets[0]!.Properties.GenerateSecretString;
    const keys = [...Object.keys(JSON.parse(gen.SecretStringTemplate)), gen.GenerateStringKey];
    expect(keys.sort()).toEqual([...SECRET_KEYS].sort());
    for (const v of Object.values(JSON.parse(gen.SecretStringTemplate))) expect(v).toBe('REPLACE_ME');
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
