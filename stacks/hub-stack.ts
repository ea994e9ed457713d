/**
 * The SCRM Hub stack: one HTTP API, one Lambda function per entry of lib/manifest.ts, the single
 * DynamoDB table of lib/store/table.ts, the SQS queues of lib/queues.ts with their dead-letter queues,
 * EventBridge schedules, one Secrets Manager secret, alarms, and optionally a fixed egress IP
 * for the WeChat API. Everything per function (routes, triggers, memory, timeout, table and
 * queue access, secret, VPC placement) is generated from the manifest; nothing here names a
 * function.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, Fn, Stack } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Alarm, ComparisonOperator, MathExpression, Metric, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
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
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption, RedrivePermission } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { SECRET_KEYS } from '../lib/config/index.ts';
import { FUNCTIONS, type FunctionSpec } from '../lib/manifest.ts';
import { isQueueName, QUEUE_URL_ENV, queueEntries, queueName, type QueueName } from '../lib/queues.ts';
import { TABLE, type KeyAttribute, type KeyAttributeType, type TableDefinition } from '../lib/store/table.ts';
import type { HubStackProps } from './config.ts';
import { acknowledgeNagFindings } from './nag-acknowledgements.ts';
import type { HubFunction, HubQueue } from './types.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** esbuild ESM output has no `require`; bundled CommonJS dependencies (the AWS SDK among them) need one. */
export const ESM_REQUIRE_BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

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
  readonly secret: Secret;
  readonly api: HttpApi;
  readonly apiStage: HttpStage;
  readonly adminAuthorizer: HttpJwtAuthorizer;
  readonly functions = new Map<string, HubFunction>();
  readonly alarmTopic: Topic;
  readonly vpc?: Vpc;
  readonly egressSecurityGroup?: SecurityGroup;
  readonly egressIp?: CfnEIP;
  readonly accessLogs: LogGroup;

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

    // --- The one secret: JSON with every SECRET_KEYS entry. Only placeholders are in the template;
    // CODE_SIGNING_SECRET is generated, the platform secrets are filled in after the first deploy.
    const placeholder: Record<string, string> = {};
    for (const key of SECRET_KEYS) if (key !== 'CODE_SIGNING_SECRET') placeholder[key] = 'REPLACE_ME';
    this.secret = new Secret(this, 'HubSecret', {
      description: `SCRM Hub ${props.stageName}: platform secrets as JSON (keys: ${SECRET_KEYS.join(', ')})`,
      generateSecretString: {
        secretStringTemplate: JSON.stringify(placeholder),
        generateStringKey: 'CODE_SIGNING_SECRET',
        passwordLength: 48,
        excludePunctuation: true,
      },
      removalPolicy,
    });

    // --- Optional fixed egress IP: WeChat's access-token API only answers whitelisted IPs.
    if (props.fixedEgressIp) {
      this.egressIp = new CfnEIP(this, 'EgressIp', { domain: 'vpc' });
      this.egressIp.applyRemovalPolicy(removalPolicy);
      const flowLogs = new LogGroup(this, 'VpcFlowLogs', { retention: props.logRetention, removalPolicy });
      this.vpc = new Vpc(this, 'Vpc', {
        maxAzs: 2,
        natGateways: 1,
        natGatewayProvider: NatProvider.gateway({ eipAllocationIds: [this.egressIp.attrAllocationId] }),
        subnetConfiguration: [
          { name: 'public', subnetType: SubnetType.PUBLIC, cidrMask: 24 },
          { name: 'private', subnetType: SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
        ],
        flowLogs: {
          all: { destination: FlowLogDestination.toCloudWatchLogs(flowLogs), trafficType: FlowLogTrafficType.ALL },
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
    this.adminAuthorizer = new HttpJwtAuthorizer('AdminJwt', props.jwt.issuer, {
      authorizerName: `${prefix}-admin`,
      jwtAudience: props.jwt.audience,
      identitySource: ['$request.header.Authorization'],
    });

    // --- Functions.
    const environmentBase: Record<string, string> = {
      HUB_TABLE: this.table.tableName,
      HUB_TIMEZONE: props.app.HUB_TIMEZONE,
      WECHAT_APP_ID: props.app.WECHAT_APP_ID,
      TMALL_APP_KEY: props.app.TMALL_APP_KEY,
      JD_APP_KEY: props.app.JD_APP_KEY,
      YOUZAN_CLIENT_ID: props.app.YOUZAN_CLIENT_ID,
      POWERTOOLS_SERVICE_NAME: 'scrm-hub',
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
      if (spec.secrets) environment.HUB_SECRET_ARN = this.secret.secretArn;

      const fn = new NodejsFunction(this, `${id}Function`, {
        entry: join(ROOT, 'functions', `${spec.name}.ts`),
        handler: 'handler',
        projectRoot: ROOT,
        depsLockFilePath: join(ROOT, 'package-lock.json'),
        description: spec.description.slice(0, 256),
        runtime: Runtime.NODEJS_22_X,
        architecture: Architecture.ARM_64,
        memorySize: spec.memoryMb,
        timeout: Duration.seconds(spec.timeoutSeconds),
        reservedConcurrentExecutions: spec.reservedConcurrency,
        tracing: Tracing.ACTIVE,
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
          banner: ESM_REQUIRE_BANNER,
          forceDockerBundling: false,
        },
      });

      // Least privilege, exactly as the manifest declares.
      if (spec.table === 'read') this.table.grantReadData(fn);
      else if (spec.table === 'readwrite') this.table.grantReadWriteData(fn);
      for (const q of spec.sends ?? []) this.queues[q].queue.grantSendMessages(fn);
      for (const q of spec.redrives ?? []) {
        const { queue, dlq } = this.queues[q];
        role.addToPolicy(new PolicyStatement({ actions: [...REDRIVE_DLQ_ACTIONS], resources: [dlq.queueArn] }));
        queue.grantSendMessages(fn);
      }
      if (spec.secrets) this.secret.grantRead(fn);

      // Triggers.
      if (spec.consumes) {
        fn.addEventSource(
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
          targets: [new LambdaFunction(fn)],
        });
      }
      const routes: HubFunction['routes'] = [];
      if (spec.routes?.length) {
        const integration = new HttpLambdaIntegration(`${id}Integration`, fn);
        for (const route of spec.routes) {
          const [added] = this.api.addRoutes({
            path: route.path,
            methods: [HttpMethod[route.method]],
            integration,
            ...(route.admin
              ? { authorizer: this.adminAuthorizer, ...(props.jwt.scopes?.length ? { authorizationScopes: props.jwt.scopes } : {}) }
              : {}),
          });
          if (added) routes.push({ spec: route, route: added });
        }
      }
      this.functions.set(spec.name, { spec, fn, role, logGroup, routes });
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
    for (const { spec, fn } of this.functions.values()) {
      const id = pascal(spec.name);
      alarm(
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
    }
    const apiDims = { ApiId: this.api.apiId, Stage: this.apiStage.stageName };
    alarm(
      'Api5xxRateAlarm',
      `HTTP API 5xx above ${props.alarms.api5xxRatePercent}% of requests`,
      new MathExpression({
        label: '5xx %',
        expression: 'IF(requests > 0, 100 * errors / requests, 0)',
        usingMetrics: {
          errors: new Metric({ namespace: 'AWS/ApiGateway', metricName: '5xx', dimensionsMap: apiDims, statistic: 'Sum', period: five }),
          requests: new Metric({ namespace: 'AWS/ApiGateway', metricName: 'Count', dimensionsMap: apiDims, statistic: 'Sum', period: five }),
        },
        period: five,
      }),
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

    // --- Outputs.
    new CfnOutput(this, 'ApiUrl', { value: this.apiStage.url, description: 'HTTP API base URL' });
    new CfnOutput(this, 'DashboardUrl', { value: `${this.apiStage.url}dashboard`, description: 'Marketing dashboard' });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'SecretArn', { value: this.secret.secretArn, description: 'Fill in the platform secrets here (JSON)' });
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
 * Fails the synth on a duplicate function name, or a queue name that lib/queues.ts does not
 * define (the types check that too, but specs may come from untyped code).
 */
function validateManifest(specs: readonly FunctionSpec[]): void {
  const problems: string[] = [];
  const names = new Set<string>();
  for (const f of specs) {
    if (names.has(f.name)) problems.push(`duplicate function ${f.name}`);
    names.add(f.name);
    for (const q of [...(f.sends ?? []), ...(f.redrives ?? []), ...(f.consumes ? [f.consumes] : [])]) {
      if (!isQueueName(q)) problems.push(`${f.name}: unknown queue ${q}`);
    }
  }
  if (problems.length) throw new Error(`lib/manifest.ts: ${problems.join('; ')}`);
}

