/**
 * Every cdk-nag (AwsSolutions) finding the stack keeps on purpose, acknowledged in this one place,
 * each on the narrowest construct that carries it and with its reason. Anything not listed here
 * fails the synth, so a new finding (or a new public route) needs a reviewed entry first.
 */
import { Validations, type CfnElement } from 'aws-cdk-lib';
import { FUNCTIONS } from '../lib/manifest.ts';
import type { NagTargets } from './types.ts';

/**
 * Why each function's routes may be called without the admin JWT (FunctionSpec.publicReason in
 * lib/manifest.ts; a webhook source's comes from its descriptor). A function that gains a public
 * route without one fails the synth with AwsSolutions-APIG4.
 */
export const PUBLIC_ROUTE_REASONS: Readonly<Record<string, string>> = Object.fromEntries(
  FUNCTIONS.flatMap((f) => (f.publicReason ? [[f.name, f.publicReason] as const] : [])),
);

const LAMBDA_RUNTIME =
  'nodejs22.x is the runtime the functions are built (esbuild target node22) and tested for; Lambda supports it until Node.js 22 reaches end of life (April 2027). Moving to nodejs24.x is a deliberate, tested upgrade, not an automatic one.';
const XRAY =
  'The only Resource::* statement is xray:PutTraceSegments/xray:PutTelemetryRecords, added by active tracing: X-Ray has no resource-level permissions.';
const TABLE_INDEXES = (fn: string) =>
  `${fn} queries the sparse GSI gsi1 (lib/store/keys.ts); the grant covers only the indexes of this one table, which has exactly that index.`;
const VPC_ACCESS =
  'In the fixed-egress VPC the function needs the ENI permissions of AWSLambdaVPCAccessExecutionRole (ec2:CreateNetworkInterface, Describe*, ... on *, which has no resource-level scoping); the AWS-managed policy is kept current by AWS.';
const SECRET_ROTATION =
  'The secret holds credentials issued by the WeChat, Tmall, JD, Youzan and Tencent Cloud consoles, or the hub signing/hashing keys whose rotation invalidates every printed code and stored phone hash; they are rotated by hand (npm run secrets, docs/deploy.md), which no rotation Lambda can do.';
const SCHEDULE_FAILURES =
  'This queue is itself the failure destination of the scheduled functions (a dead-letter queue in all but name): nothing consumes it, an alarm fires on its first message and it keeps 14 days for inspection.';
const CODEDEPLOY_ROLE =
  'The CodeDeploy service role uses AWSCodeDeployRoleForLambdaLimited, the AWS-managed policy for Lambda traffic shifting (update aliases, invoke hooks, read alarms); AWS keeps it current with the service.';

const ARCHIVE_PREFIXES =
  'Firehose writes objects it names itself (one per buffer, under the dynamic partitions source=/dt=): the grant is limited to its own stream prefix and that prefix under errors/, in the archive bucket only.';
const ARCHIVE_ANALYST =
  "Analysts read the archive's stream prefixes and the tables of the archive's own Glue database, and write query results under athena-results/; objects and tables are many and named by the data, so only those prefixes can be granted.";

const SNS_TO_ALIAS =
  "The alarm topic invokes alarm-forwarder through its `live` alias (a qualified function ARN, which SNS lambda subscriptions accept), so CodeDeploy shifts and rolls back the forwarder like every other function; the template validator only knows unqualified function ARNs.";

export function acknowledgeNagFindings(stack: NagTargets): void {
  const tableId = stack.resolve((stack.table.node.defaultChild as CfnElement).logicalId) as string;

  for (const { spec, fn, alias, role, routes, deploymentGroup } of stack.functions.values()) {
    if (spec.alarmTopic) Validations.of(alias).acknowledge({ id: 'CloudFormation-Validate::W3694', reason: SNS_TO_ALIAS });
    Validations.of(fn).acknowledge({ id: 'AwsSolutions-L1', reason: LAMBDA_RUNTIME });
    Validations.of(role).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: XRAY });
    if (spec.table !== 'none') {
      Validations.of(role).acknowledge({ id: `AwsSolutions-IAM5[Resource::<${tableId}.Arn>/index/*]`, reason: TABLE_INDEXES(spec.name) });
    }
    if (stack.vpc && spec.wechatApi) {
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        reason: VPC_ACCESS,
      });
    }
    if (deploymentGroup) {
      Validations.of(deploymentGroup.role).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]',
        reason: CODEDEPLOY_ROLE,
      });
    }
    const publicReason = PUBLIC_ROUTE_REASONS[spec.name];
    if (publicReason) {
      for (const route of routes) {
        if (!route.spec.admin) Validations.of(route.route).acknowledge({ id: 'AwsSolutions-APIG4', reason: publicReason });
      }
    }
  }

  const bucket = `<${stack.resolve((stack.archive.bucket.node.defaultChild as CfnElement).logicalId) as string}.Arn>`;
  for (const stream of ['requests', 'events']) {
    for (const prefix of [stream, `errors/${stream}`]) {
      Validations.of(stack.archive.firehoseRole).acknowledge({ id: `AwsSolutions-IAM5[Resource::${bucket}/${prefix}/*]`, reason: ARCHIVE_PREFIXES });
    }
    Validations.of(stack.archive.analystPolicy).acknowledge({ id: `AwsSolutions-IAM5[Resource::${bucket}/${stream}/*]`, reason: ARCHIVE_ANALYST });
  }
  Validations.of(stack.archive.analystPolicy).acknowledge({ id: `AwsSolutions-IAM5[Resource::${bucket}/athena-results/*]`, reason: ARCHIVE_ANALYST });
  Validations.of(stack.archive.analystPolicy).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${String(stack.resolve(stack.archive.tablesArn))}]`,
    reason: ARCHIVE_ANALYST,
  });

  for (const secret of Object.values(stack.secrets)) Validations.of(secret).acknowledge({ id: 'AwsSolutions-SMG4', reason: SECRET_ROTATION });
  Validations.of(stack.scheduleFailures).acknowledge({ id: 'AwsSolutions-SQS3', reason: SCHEDULE_FAILURES });
}
