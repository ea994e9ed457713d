/**
 * The SCRM Hub stack: one HTTP API, one Lambda function per entry of lib/manifest.ts, the single
 * DynamoDB table of lib/store/table.ts, the SQS queues of lib/queues.ts with their dead-letter queues,
 * EventBridge schedules, one Secrets Manager secret per secret group, alarms, and optionally a
 * fixed egress IP for the WeChat API. Everything per function (routes, triggers, memory, timeout,
 * table actions and queue access, secret groups, VPC placement) is generated from the manifest;
 * nothing here names a function. Every function is published as a version behind a `live` alias
 * that routes, queues and schedules invoke, shifted by CodeDeploy and rolled back on its error
 * alarm (docs/deploy.md).
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, Fn, RemovalPolicy, SecretValue, Stack } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { ApiMapping, CorsHttpMethod, DomainName, HttpApi, HttpMethod, HttpStage, LogGroupLogDestination, type CfnStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Alarm, ComparisonOperator, MathExpression, Metric, TreatMissingData, type Dashboard, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { LambdaApplication, LambdaDeploymentConfig, LambdaDeploymentGroup } from 'aws-cdk-lib/aws-codedeploy';
import { AttributeType, Billing, ProjectionType, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import {
  CfnEIP,
  FlowLogDestination,
  FlowLogTrafficType,
  GatewayVpcEndpointAwsService,
  NatProvider,
  Peer,
  Port,
  SecurityGroup,
  SubnetType,
  Vpc,
} from 'aws-cdk-lib/aws-ec2';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { ManagedPolicy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Alias, Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription, LambdaSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption, RedrivePermission } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { SECRET_GROUP_NAMES, type SecretGroup } from '../lib/config/index.ts';
import { entryOf, FUNCTIONS, type FunctionSpec } from '../lib/manifest.ts';
import { lambdaAliases } from './bundling.ts';
import { isQueueName, QUEUE_URL_ENV, queueEntries, queueName, type QueueName } from '../lib/queues.ts';
import { TABLE, type KeyAttribute, type KeyAttributeType, type TableDefinition } from '../lib/store/table.ts';
import { METRICS_NAMESPACE, METRICS_SERVICE } from '../lib/metrics.ts';
import { DEFAULT_SECRET_GROUPS, type HubStackProps } from './config.ts';
import { acknowledgeNagFindings } from './nag-acknowledgements.ts';
import { ARCHIVE_WRITE_ACTIONS, HubArchiveStore } from './archive.ts';
import { opsDashboard } from './ops-dashboard.ts';
import { secretName } from './names.ts';
import type { HubFunction, HubQueue } from './types.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** esbuild ESM output has no `require`; bundled CommonJS dependencies (the AWS SDK among them) need one. */
export const ESM_REQUIRE_BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/** Table actions per access level (lib/manifest.ts); the index only ever needs Query. */
export const TABLE_ACTIONS = {
  none: [],
  read: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem'],
  readwrite: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
} as const;

/** The environment variable naming each archive stream's delivery stream (lib/config/schema.ts). */
export const ARCHIVE_STREAM_ENV = { requests: 'HUB_ARCHIVE_REQUESTS_STREAM', events: 'HUB_ARCHIVE_EVENTS_STREAM' } as const;

/** The name of every function's alias: what routes, queues and schedules invoke. */
export const LIVE_ALIAS = 'live';
/** A scheduled run not started within this age is dropped (the next tick comes anyway); the Lambda minimum. */
export const SCHEDULE_MAX_EVENT_AGE_SECONDS = 60;

/** SQS event source settings for every consumer. */
export const CONSUMER_BATCH = { batchSize: 10, maxBatchingWindowSeconds: 1 } as const;

/** Queue actions a redriving function needs on the dead-letter queue (StartMessageMoveTask and its checks). */
export const REDRIVE_DLQ_ACTIONS = [
  'sqs:StartMessageMoveTask',
  'sqs:ListMessageMoveTasks',
  'sqs:CancelMessageMoveTask',
  'sqs:ReceiveMessage',
  'sqs:DeleteMessage',
  'sqs:GetQueueAttributes',
] as const;

const ATTRIBUTE_TYPES: Record<KeyAttributeType, AttributeType> = { S: AttributeType.STRING, N: AttributeType.NUMBER, B: AttributeType.BINARY };
const BILLING: Record<TableDefinition['billingMode'], () => Billing> = { PAY_PER_REQUEST: () => Billing.onDemand() };
const keyAttribute = (a: KeyAttribute) => ({ name: a.name, type: ATTRIBUTE_TYPES[a.type] });

/** `codes-scan` → `CodesScan` (construct ids). */
export const pascal = (name: string): string =>
  name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join('');

export class HubStack extends Stack {
  readonly table: TableV2;
  readonly queues: Record<QueueName, HubQueue>;
  readonly secrets: Record<SecretGroup, Secret>;
  readonly scheduleFailures: Queue;
  readonly api: HttpApi;
  readonly apiStage: HttpStage;
  readonly adminAuthorizer: HttpJwtAuthorizer;
  readonly functions = new Map<string, HubFunction>();
  readonly alarmTopic: Topic;
  readonly dashboard: Dashboard;
  readonly vpc?: Vpc;
  readonly egressSecurityGroup?: SecurityGroup;
  readonly egressIp?: CfnEIP;
  readonly accessLogs: LogGroup;
  readonly archive: HubArchiveStore;

  constructor(scope: Construct, id: string, props: HubStackProps) {
    super(scope, id, props);
    const specs = props.functions ?? FUNCTIONS;
    validateManifest(specs);
    const prefix = `scrm-hub-${props.stageName}`;
    const removalPolicy = props.removalPolicy;

    // --- Table: as lib/store/table.ts defines it (pk/sk, sparse GSI gsi1 on gsi1pk/gsi1sk, TTL).
    this.table = new TableV2(this, 'Table', {
      partitionKey: keyAttribute(TABLE.partitionKey),
      sortKey: keyAttribute(TABLE.sortKey),
      billing: BILLING[TABLE.billingMode](),
      globalSecondaryIndexes: TABLE.globalSecondaryIndexes.map((g) => ({
        indexName: g.indexName,
        partitionKey: keyAttribute(g.partitionKey),
        sortKey: keyAttribute(g.sortKey),
        projectionType: ProjectionType[g.projection],
      })),
      timeToLiveAttribute: TABLE.timeToLiveAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: props.deletionProtection,
      encryption: TableEncryptionV2.awsManagedKey(),
      contributorInsightsSpecification: { enabled: true },
      removalPolicy,
    });

    // --- Queues and their dead-letter queues.
    const consumersOf = (q: QueueName) => specs.filter((f) => f.consumes === q);
    this.queues = {} as Record<QueueName, HubQueue>;
    for (const [logical, spec] of queueEntries()) {
      const name = queueName(prefix, spec.name);
      const longestConsumer = Math.max(0, ...consumersOf(logical).map((f) => f.timeoutSeconds));
      // AWS guidance for Lambda consumers: at least 6 × the function timeout plus the batching window.
      const visibility = Math.max(spec.visibilityTimeoutSeconds ?? 30, 6 * longestConsumer + (longestConsumer ? CONSUMER_BATCH.maxBatchingWindowSeconds : 0));
      // The DLQ names its source by ARN (built from the fixed name): a reference would be circular.
      const source = Queue.fromQueueArn(this, `${pascal(logical)}SourceRef`, this.formatArn({ service: 'sqs', resource: name }));
      const dlq = new Queue(this, `${pascal(logical)}Dlq`, {
        queueName: `${name}-dlq`,
        retentionPeriod: Duration.seconds(spec.dlqRetentionSeconds),
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        redriveAllowPolicy: { redrivePermission: RedrivePermission.BY_QUEUE, sourceQueues: [source] },
        removalPolicy,
      });
      const queue = new Queue(this, `${pascal(logical)}Queue`, {
        queueName: name,
        visibilityTimeout: Duration.seconds(visibility),
        deadLetterQueue: { queue: dlq, maxReceiveCount: spec.maxReceiveCount },
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        removalPolicy,
      });
      this.queues[logical] = { spec, queue, dlq };
    }

    // --- One secret per group, created as an empty JSON object and filled by `npm run secrets`.
    // Nothing in a secret's definition depends on the key list, so no stack update ever
    // regenerates or resets a value; the fixed name makes a replacement fail instead of creating
    // a fresh secret. `keys` (code signing, phone hashing, OTP) is retained in every stage: losing
    // it makes every printed code and stored phone hash unverifiable.
    const secretGroups = props.secretGroups ?? DEFAULT_SECRET_GROUPS;
    this.secrets = {} as Record<SecretGroup, Secret>;
    for (const group of SECRET_GROUP_NAMES) {
      this.secrets[group] = new Secret(this, `${pascal(group)}Secret`, {
        secretName: secretName(props.stageName, group),
        description: `SCRM Hub ${props.stageName}: ${group} secrets as JSON, filled with npm run secrets (docs/deploy.md)`,
        secretStringValue: SecretValue.unsafePlainText('{}'),
        removalPolicy: group === 'keys' ? RemovalPolicy.RETAIN : removalPolicy,
      });
    }

    // --- Failed scheduled runs (after 0 retries, or older than the maximum event age) land here.
    this.scheduleFailures = new Queue(this, 'ScheduleFailures', {
      queueName: `${prefix}-schedule-failures`,
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      removalPolicy,
    });

    // --- Optional fixed egress IP: WeChat's access-token API only answers whitelisted IPs.
    if (props.fixedEgressIp) {
      this.egressIp = new CfnEIP(this, 'EgressIp', { domain: 'vpc' });
      this.egressIp.applyRemovalPolicy(removalPolicy);
      const flowLogs = new LogGroup(this, 'VpcFlowLogs', { retention: props.logRetention, removalPolicy });
      // Own role: the flow-log destination grants it CreateLogStream/PutLogEvents/DescribeLogStreams on this log group only.
      const flowLogRole = new Role(this, 'VpcFlowLogsRole', {
        assumedBy: new ServicePrincipal('vpc-flow-logs.amazonaws.com'),
        description: `SCRM Hub ${props.stageName}: VPC flow logs to their log group`,
      });
      this.vpc = new Vpc(this, 'Vpc', {
        maxAzs: 2,
        natGateways: 1,
        natGatewayProvider: NatProvider.gateway({ eipAllocationIds: [this.egressIp.attrAllocationId] }),
        subnetConfiguration: [
          { name: 'public', subnetType: SubnetType.PUBLIC, cidrMask: 24 },
          { name: 'private', subnetType: SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
        ],
        flowLogs: {
          all: { destination: FlowLogDestination.toCloudWatchLogs(flowLogs, flowLogRole), trafficType: FlowLogTrafficType.ALL },
        },
      });
      // DynamoDB traffic stays off the NAT gateway (free gateway endpoint).
      this.vpc.addGatewayEndpoint('DynamoDbEndpoint', { service: GatewayVpcEndpointAwsService.DYNAMODB });
      this.egressSecurityGroup = new SecurityGroup(this, 'EgressSecurityGroup', {
        vpc: this.vpc,
        description: 'SCRM Hub functions calling the WeChat API: HTTPS out only, nothing in',
        allowAllOutbound: false,
      });
      this.egressSecurityGroup.addEgressRule(Peer.anyIpv4(), Port.tcp(443), 'HTTPS to the WeChat API and AWS endpoints');
    }

    // --- HTTP API: $default stage with throttling, access logs and route metrics.
    this.api = new HttpApi(this, 'Api', {
      apiName: prefix,
      description: `SCRM Hub ${props.stageName}: platform webhooks, H5, admin and dashboard`,
      createDefaultStage: false,
      // CORS is one setting of the whole HTTP API: API Gateway answers the preflight of every route
      // and adds the headers. Only the member-facing routes are called from other origins; the
      // admin routes still need the JWT, which those pages never hold.
      ...(props.corsOrigins?.length
        ? {
            corsPreflight: {
              allowOrigins: props.corsOrigins,
              allowMethods: memberMethods(specs),
              // authorization: the member session token of GET /me (lib/members/session.ts).
              allowHeaders: ['authorization', 'content-type'],
              allowCredentials: false,
              maxAge: Duration.hours(1),
            },
          }
        : {}),
    });
    this.accessLogs = new LogGroup(this, 'ApiAccessLogs', { retention: props.logRetention, removalPolicy });
    this.apiStage = new HttpStage(this, 'ApiStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.throttle.rateLimit, burstLimit: props.throttle.burstLimit },
      detailedMetricsEnabled: true,
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        // Route keys, not paths: query strings (signatures, openids) stay out of the logs.
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            requestTime: '$context.requestTime',
            ip: '$context.identity.sourceIp',
            userAgent: '$context.identity.userAgent',
            routeKey: '$context.routeKey',
            status: '$context.status',
            protocol: '$context.protocol',
            responseLength: '$context.responseLength',
            responseLatency: '$context.responseLatency',
            integrationLatency: '$context.integrationLatency',
            integrationStatus: '$context.integrationStatus',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
          }),
        ),
      },
    });
    // Custom domain (ICP-filed in the China regions) with a regional ACM certificate.
    if (props.domain) {
      const domain = new DomainName(this, 'ApiDomain', {
        domainName: props.domain.name,
        certificate: Certificate.fromCertificateArn(this, 'ApiCertificate', props.domain.certificateArn),
      });
      new ApiMapping(this, 'ApiDomainMapping', { api: this.api, domainName: domain, stage: this.apiStage });
      new CfnOutput(this, 'ApiDomainTarget', { value: domain.regionalDomainName, description: `CNAME ${props.domain.name} to this` });
    }
    // Per-route throttles (the L2 stage has no route settings: set on the CloudFormation stage).
    const routeThrottles = Object.entries(props.routeThrottles ?? {});
    if (routeThrottles.length) {
      (this.apiStage.node.defaultChild as CfnStage).routeSettings = Object.fromEntries(
        routeThrottles.map(([key, t]) => [key, { ThrottlingRateLimit: t.rateLimit, ThrottlingBurstLimit: t.burstLimit, DetailedMetricsEnabled: true }]),
      );
    }
    this.adminAuthorizer = new HttpJwtAuthorizer('AdminJwt', props.jwt.issuer, {
      authorizerName: `${prefix}-admin`,
      jwtAudience: props.jwt.audience,
      identitySource: ['$request.header.Authorization'],
    });

    // --- The archive: bucket, Firehose delivery streams, Glue tables, Athena workgroup (stacks/archive.ts).
    this.archive = new HubArchiveStore(this, 'Archive', { prefix, stageName: props.stageName, settings: props.archive, removalPolicy, logRetention: props.logRetention });

    // --- Functions.
    const environmentBase: Record<string, string> = {
      HUB_TABLE: this.table.tableName,
      // Every non-secret setting of the stage (validated by the runtime schema in stacks/config.ts).
      ...props.app,
      POWERTOOLS_SERVICE_NAME: METRICS_SERVICE,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      // The tracer follows the function's X-Ray setting; responses (member data) never go into a trace.
      POWERTOOLS_TRACE_ENABLED: String(props.tracing !== false),
      POWERTOOLS_TRACER_CAPTURE_RESPONSE: 'false',
      NODE_OPTIONS: '--enable-source-maps',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };

    for (const spec of specs) {
      const id = pascal(spec.name);
      const logGroup = new LogGroup(this, `${id}Logs`, { retention: props.logRetention, removalPolicy });
      // Own role instead of the managed basic-execution policy: logs go to this log group only.
      const role = new Role(this, `${id}Role`, {
        assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
        description: `SCRM Hub ${props.stageName} function ${spec.name}`,
      });
      role.addToPolicy(new PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }));
      const inVpc = Boolean(this.vpc && spec.wechatApi);
      if (inVpc) role.addManagedPolicy(ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'));

      const environment: Record<string, string> = { ...environmentBase };
      for (const q of spec.sends ?? []) environment[QUEUE_URL_ENV[q]] = this.queues[q].queue.queueUrl;
      for (const stream of spec.archives ?? []) environment[ARCHIVE_STREAM_ENV[stream]] = this.archive.deliveryStreams[stream].ref;
      if (spec.secrets.length) {
        environment.HUB_SECRET_ARNS = this.toJsonString(Object.fromEntries(spec.secrets.map((g) => [g, this.secrets[g].secretArn])));
      }

      const fn = new NodejsFunction(this, `${id}Function`, {
        entry: join(ROOT, entryOf(spec)),
        handler: 'handler',
        projectRoot: ROOT,
        depsLockFilePath: join(ROOT, 'package-lock.json'),
        description: spec.description.slice(0, 256),
        runtime: props.runtime === 'nodejs20.x' ? Runtime.NODEJS_20_X : Runtime.NODEJS_22_X,
        architecture: props.architecture === 'x86_64' ? Architecture.X86_64 : Architecture.ARM_64,
        memorySize: spec.memoryMb,
        timeout: Duration.seconds(spec.timeoutSeconds),
        reservedConcurrentExecutions: props.reservedConcurrency?.[spec.name] ?? spec.reservedConcurrency,
        tracing: props.tracing === false ? Tracing.DISABLED : Tracing.ACTIVE,
        role,
        logGroup,
        environment,
        ...(inVpc && this.vpc && this.egressSecurityGroup
          ? { vpc: this.vpc, vpcSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS }, securityGroups: [this.egressSecurityGroup] }
          : {}),
        bundling: {
          format: OutputFormat.ESM,
          target: 'node22',
          mainFields: ['module', 'main'],
          minify: true,
          sourceMap: true,
          sourcesContent: false,
          // The SDK is bundled (pinned by package-lock.json, tree-shaken) rather than taken from the runtime.
          bundleAwsSDK: true,
          externalModules: [],
          // The SDK's default credential chain replaced by the environment only, and without X-Ray
          // the Powertools tracer by a module that does nothing (stacks/bundling.ts).
          esbuildArgs: Object.fromEntries(Object.entries(lambdaAliases(props.tracing !== false)).map(([from, to]) => [`--alias:${from}`, join(ROOT, to)])),
          banner: ESM_REQUIRE_BANNER,
          forceDockerBundling: false,
        },
      });

      // Least privilege, exactly as the manifest declares.
      const tableActions = [...TABLE_ACTIONS[spec.table], ...(spec.tableActions ?? []).map((a) => `dynamodb:${a}`)];
      if (tableActions.length) {
        role.addToPolicy(new PolicyStatement({ actions: tableActions, resources: [this.table.tableArn] }));
        role.addToPolicy(new PolicyStatement({ actions: ['dynamodb:Query'], resources: [`${this.table.tableArn}/index/*`] }));
      }
      for (const q of spec.sends ?? []) this.queues[q].queue.grantSendMessages(fn);
      for (const q of spec.redrives ?? []) {
        const { queue, dlq } = this.queues[q];
        role.addToPolicy(new PolicyStatement({ actions: [...REDRIVE_DLQ_ACTIONS], resources: [dlq.queueArn] }));
        queue.grantSendMessages(fn);
      }
      for (const group of spec.secrets) this.secrets[group].grantRead(fn);
      if (spec.archives?.length) {
        role.addToPolicy(new PolicyStatement({ actions: [...ARCHIVE_WRITE_ACTIONS], resources: spec.archives.map((s) => this.archive.streamArn(s)) }));
      }

      // The published version behind `live`; a scheduled run is never retried or replayed late.
      const alias = new Alias(this, `${id}Live`, {
        aliasName: LIVE_ALIAS,
        version: fn.currentVersion,
        ...(spec.schedule
          ? { retryAttempts: 0, maxEventAge: Duration.seconds(SCHEDULE_MAX_EVENT_AGE_SECONDS), onFailure: new SqsDestination(this.scheduleFailures) }
          : {}),
      });

      // Triggers: all on the alias.
      if (spec.consumes) {
        alias.addEventSource(
          new SqsEventSource(this.queues[spec.consumes].queue, {
            batchSize: CONSUMER_BATCH.batchSize,
            maxBatchingWindow: Duration.seconds(CONSUMER_BATCH.maxBatchingWindowSeconds),
            reportBatchItemFailures: true,
            // Never more pollers than reserved instances: throttled batches would burn receive counts.
            ...(spec.reservedConcurrency ? { maxConcurrency: Math.max(2, spec.reservedConcurrency) } : {}),
          }),
        );
      }
      if (spec.schedule) {
        new Rule(this, `${id}Schedule`, {
          description: `SCRM Hub ${props.stageName}: ${spec.name} (${spec.schedule.expression})`,
          schedule: Schedule.expression(spec.schedule.expression),
          targets: [new LambdaFunction(alias)],
        });
      }
      const routes: HubFunction['routes'] = [];
      if (spec.routes?.length) {
        // One invoke permission per function, scoped to this API (`<api>/*/*/*`), instead of one per
        // route: the routes of a function differ only in path, and CloudFormation's 500-resource limit
        // per stack is near (docs/deploy.md#stack-size).
        const integration = new HttpLambdaIntegration(`${id}Integration`, alias, { scopePermissionToRoute: false });
        for (const route of spec.routes) {
          const [added] = this.api.addRoutes({
            path: route.path,
            methods: [HttpMethod[route.method]],
            integration,
            // The route's own scope (the manifest gives every admin route one); the token needs it.
            ...(route.admin ? { authorizer: this.adminAuthorizer, authorizationScopes: route.scope ? [route.scope] : (props.jwt.scopes ?? []) } : {}),
          });
          if (added) routes.push({ spec: route, route: added });
        }
      }
      this.functions.set(spec.name, { spec, fn, alias, role, logGroup, routes });
    }

    // --- Alarms → SNS (encrypted with a key CloudWatch may use).
    const alarmKey = new Key(this, 'AlarmTopicKey', {
      description: `SCRM Hub ${props.stageName}: alarm topic encryption`,
      enableKeyRotation: true,
      removalPolicy,
    });
    alarmKey.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    );
    this.alarmTopic = new Topic(this, 'AlarmTopic', { displayName: `SCRM Hub ${props.stageName} alarms`, masterKey: alarmKey, enforceSSL: true });
    if (props.alarms.email) this.alarmTopic.addSubscription(new EmailSubscription(props.alarms.email));
    if (props.alarms.wecomRobot) {
      const forwarder = [...this.functions.values()].find((h) => h.spec.alarmTopic);
      if (!forwarder) throw new Error('alarms.wecomRobot needs a function with alarmTopic in lib/manifest.ts (alarm-forwarder)');
      this.alarmTopic.addSubscription(new LambdaSubscription(forwarder.alias));
    }
    const notify = new SnsAction(this.alarmTopic);
    const alarm = (alarmId: string, description: string, metric: IMetric, threshold: number, comparison: ComparisonOperator) => {
      const a = new Alarm(this, alarmId, {
        alarmDescription: `SCRM Hub ${props.stageName}: ${description}`,
        metric,
        threshold,
        comparisonOperator: comparison,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      a.addAlarmAction(notify);
      a.addOkAction(notify);
      return a;
    };
    const five = Duration.minutes(5);
    const one = Duration.minutes(1);

    for (const [logical, spec] of queueEntries()) {
      const { dlq } = this.queues[logical];
      const id = pascal(logical);
      alarm(
        `${id}DlqMessagesAlarm`,
        `messages dead-lettered from ${logical} (inspect, then redrive)`,
        dlq.metricApproximateNumberOfMessagesVisible({ period: one, statistic: 'Maximum' }),
        0,
        ComparisonOperator.GREATER_THAN_THRESHOLD,
      );
      alarm(
        `${id}DlqAgeAlarm`,
        `oldest dead-lettered ${logical} message older than ${props.alarms.dlqMaxAgeSeconds} s (DLQ keeps ${spec.dlqRetentionSeconds} s)`,
        dlq.metricApproximateAgeOfOldestMessage({ period: five, statistic: 'Maximum' }),
        props.alarms.dlqMaxAgeSeconds,
        ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      );
    }
    const application = new LambdaApplication(this, 'Deployments', { applicationName: prefix });
    const deploymentConfig = LambdaDeploymentConfig[props.deployment];
    for (const hub of this.functions.values()) {
      const { spec, fn, alias } = hub;
      const id = pascal(spec.name);
      hub.errorsAlarm = alarm(
        `${id}ErrorsAlarm`,
        `${spec.name} errors`,
        fn.metricErrors({ period: five, statistic: 'Sum' }),
        props.alarms.functionErrors,
        ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      );
      alarm(
        `${id}ThrottlesAlarm`,
        `${spec.name} throttles`,
        fn.metricThrottles({ period: five, statistic: 'Sum' }),
        props.alarms.functionThrottles,
        ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      );
      // Traffic shifts to a new version as the stage says; its error alarm rolls it back.
      hub.deploymentGroup = new LambdaDeploymentGroup(this, `${id}Deployment`, {
        application,
        alias,
        deploymentConfig,
        alarms: [hub.errorsAlarm],
        autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
      });
      // A schedule that stops running: fewer invocations than half the expected ticks, no data counting as none.
      if (spec.schedule) {
        const { periodSeconds, expected } = heartbeatWindow(spec.schedule.expression);
        const threshold = Math.ceil(expected / 2);
        const heartbeat = new Alarm(this, `${id}HeartbeatAlarm`, {
          alarmDescription: `SCRM Hub ${props.stageName}: ${spec.name} ran fewer than ${threshold} times in ${periodSeconds} s (schedule ${spec.schedule.expression})`,
          metric: fn.metricInvocations({ period: Duration.seconds(periodSeconds), statistic: 'Sum' }),
          threshold,
          comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: TreatMissingData.BREACHING,
        });
        heartbeat.addAlarmAction(notify);
        heartbeat.addOkAction(notify);
      }
    }
    alarm(
      'ScheduleFailuresAlarm',
      'scheduled runs failed or expired (messages in the schedule failure queue)',
      this.scheduleFailures.metricApproximateNumberOfMessagesVisible({ period: one, statistic: 'Maximum' }),
      0,
      ComparisonOperator.GREATER_THAN_THRESHOLD,
    );
    // Work queues: a consumer that stopped (age) or cannot keep up (backlog).
    for (const [logical] of queueEntries()) {
      const { queue } = this.queues[logical];
      const id = pascal(logical);
      alarm(
        `${id}QueueAgeAlarm`,
        `oldest ${logical} message older than ${props.alarms.queueMaxAgeSeconds} s (consumer stopped or failing)`,
        queue.metricApproximateAgeOfOldestMessage({ period: five, statistic: 'Maximum' }),
        props.alarms.queueMaxAgeSeconds,
        ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      );
      alarm(
        `${id}QueueBacklogAlarm`,
        `${logical} backlog of ${props.alarms.queueMaxVisible} or more messages`,
        queue.metricApproximateNumberOfMessagesVisible({ period: five, statistic: 'Maximum' }),
        props.alarms.queueMaxVisible,
        ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      );
    }
    const apiDims = { ApiId: this.api.apiId, Stage: this.apiStage.stageName };
    /** `4xx` or `5xx` as a percentage of the requests (API or one route), 0 below `minRequests` in the period. */
    const apiErrorRate = (metricName: '4xx' | '5xx', dims: Record<string, string>, minRequests: number) =>
      new MathExpression({
        label: `${metricName} %`,
        expression: `IF(requests >= ${minRequests}, 100 * errors / requests, 0)`,
        usingMetrics: {
          errors: new Metric({ namespace: 'AWS/ApiGateway', metricName, dimensionsMap: dims, statistic: 'Sum', period: five }),
          requests: new Metric({ namespace: 'AWS/ApiGateway', metricName: 'Count', dimensionsMap: dims, statistic: 'Sum', period: five }),
        },
        period: five,
      });
    // 4xx rate per platform webhook route (per-route metrics: detailedMetricsEnabled on the stage).
    // A mistyped secret answers every push 401: the platform retries and gives up, nobody sees it.
    for (const { spec } of this.functions.values()) {
      for (const route of spec.routes ?? []) {
        if (!route.webhook) continue;
        const routeDims = { ...apiDims, Method: route.method, Resource: route.path };
        alarm(
          `${pascal(spec.name)}${route.method}${pascal(route.path)}4xxRateAlarm`,
          `${route.method} ${route.path} answered 4xx to more than ${props.alarms.webhook4xxRatePercent}% of at least ${props.alarms.webhook4xxMinRequests} requests (check the ${spec.name} secret and the platform console)`,
          apiErrorRate('4xx', routeDims, props.alarms.webhook4xxMinRequests),
          props.alarms.webhook4xxRatePercent,
          ComparisonOperator.GREATER_THAN_THRESHOLD,
        );
      }
    }
    alarm(
      'Api5xxRateAlarm',
      `HTTP API 5xx above ${props.alarms.api5xxRatePercent}% of requests`,
      apiErrorRate('5xx', apiDims, 1),
      props.alarms.api5xxRatePercent,
      ComparisonOperator.GREATER_THAN_THRESHOLD,
    );
    // p99 latency of every public route (the platforms' webhooks and the H5 endpoints).
    for (const { spec } of this.functions.values()) {
      for (const route of spec.routes ?? []) {
        if (route.admin) continue;
        const budget = props.alarms.latencyP99Ms[spec.name] ?? props.alarms.latencyP99Ms.default ?? 3000;
        alarm(
          `${pascal(spec.name)}${route.method}${pascal(route.path)}LatencyAlarm`,
          `p99 latency of ${route.method} ${route.path} above ${budget} ms`,
          new Metric({
            namespace: 'AWS/ApiGateway',
            metricName: 'Latency',
            dimensionsMap: { ...apiDims, Method: route.method, Resource: route.path },
            statistic: 'p99',
            period: five,
          }),
          budget,
          ComparisonOperator.GREATER_THAN_THRESHOLD,
        );
      }
    }

    this.dashboard = opsDashboard(this, 'OpsDashboard', {
      dashboardName: prefix,
      apiDimensions: apiDims,
      functions: [...this.functions.values()],
      queues: queueEntries().map(([logical]) => [logical, this.queues[logical]] as [string, HubQueue]),
    });

    // --- Outputs.
    new CfnOutput(this, 'ApiUrl', { value: this.apiStage.url, description: 'HTTP API base URL' });
    new CfnOutput(this, 'DashboardUrl', { value: `${this.apiStage.url}dashboard`, description: 'Marketing dashboard' });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    for (const group of SECRET_GROUP_NAMES) {
      new CfnOutput(this, `${pascal(group)}SecretArn`, {
        value: this.secrets[group].secretArn,
        description: `Secret group ${group} (keys: ${secretGroups[group].join(', ')}): fill with npm run secrets`,
      });
    }
    new CfnOutput(this, 'ArchiveBucketName', { value: this.archive.bucket.bucketName, description: 'Raw requests and events (requests/, events/): aws s3 sync for npm run rebuild' });
    new CfnOutput(this, 'ArchiveWorkgroup', { value: this.archive.workgroup.ref, description: 'Athena workgroup of the archive (queries/)' });
    new CfnOutput(this, 'ArchiveDatabase', { value: this.archive.database.ref, description: 'Glue database of the archive tables requests and events' });
    new CfnOutput(this, 'ArchiveAnalystPolicyArn', { value: this.archive.analystPolicy.managedPolicyArn, description: 'Attach to the roles of analysts who query the archive' });
    new CfnOutput(this, 'ScheduleFailuresQueueUrl', { value: this.scheduleFailures.queueUrl });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn });
    for (const [logical] of queueEntries()) {
      const { queue, dlq } = this.queues[logical];
      new CfnOutput(this, `${pascal(logical)}QueueUrl`, { value: queue.queueUrl });
      new CfnOutput(this, `${pascal(logical)}DlqUrl`, { value: dlq.queueUrl });
    }
    if (this.egressIp) {
      new CfnOutput(this, 'EgressIpAddress', { value: this.egressIp.ref, description: 'Whitelist this IP in the WeChat official account (IP白名单)' });
    }

    acknowledgeNagFindings(this);
  }

  /**
   * The first two AZs of the region, resolved by CloudFormation (Fn::GetAZs): synth never needs
   * an availability-zones lookup (works offline, without credentials) and no AZ name is hard-coded.
   */
  override get availabilityZones(): string[] {
    return [Fn.select(0, Fn.getAzs()), Fn.select(1, Fn.getAzs())];
  }
}

/**
 * The alarm window of a schedule and how many runs it should see in it: three ticks (at least five
 * minutes, at most a day) for `rate(...)`; a day for a daily `cron(...)`. Throws for a cron this
 * cannot reason about, so a new schedule gets a deliberate heartbeat.
 */
export function heartbeatWindow(expression: string): { periodSeconds: number; expected: number } {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (rate) {
    const unit = { minute: 60, hour: 3600, day: 86_400 }[rate[2]!.replace(/s$/, '') as 'minute' | 'hour' | 'day'];
    const every = Number(rate[1]) * unit;
    const periodSeconds = Math.min(86_400, Math.max(300, 3 * every));
    return { periodSeconds, expected: Math.floor(periodSeconds / every) };
  }
  const cron = /^cron\((\S+) (\S+) (\S+) (\S+) (\S+)(?: (\S+))?\)$/.exec(expression);
  if (cron && /^\d+$/.test(cron[1]!) && /^\d+$/.test(cron[2]!) && cron[3] === '*' && cron[4] === '*' && cron[5] === '?') {
    return { periodSeconds: 86_400, expected: 1 };
  }
  throw new Error(`no heartbeat rule for schedule ${expression}: extend heartbeatWindow in stacks/hub-stack.ts`);
}

/** The methods of the member-facing routes (CORS preflight). */
function memberMethods(specs: readonly FunctionSpec[]): CorsHttpMethod[] {
  const methods = new Set(specs.flatMap((f) => (f.routes ?? []).filter((r) => r.member).map((r) => r.method)));
  return [...methods].sort().map((m) => CorsHttpMethod[m]);
}

/**
 * Fails the synth on a duplicate function name, or a queue name that lib/queues.ts does not
 * define (the types check that too, but specs may come from untyped code).
 */
function validateManifest(specs: readonly FunctionSpec[]): void {
  const problems: string[] = [];
  const names = new Set<string>();
  for (const f of specs) {
    if (names.has(f.name)) problems.push(`duplicate function ${f.name}`);
    for (const r of f.routes ?? []) if (r.admin && !r.scope) problems.push(`${f.name}: admin route ${r.method} ${r.path} has no scope`);
    names.add(f.name);
    for (const q of [...(f.sends ?? []), ...(f.redrives ?? []), ...(f.consumes ? [f.consumes] : [])]) {
      if (!isQueueName(q)) problems.push(`${f.name}: unknown queue ${q}`);
    }
  }
  if (problems.length) throw new Error(`lib/manifest.ts: ${problems.join('; ')}`);
}

