/**
 * Types the stack modules share: the constructs HubStack builds per queue and per function, and
 * the narrow view of the stack that stacks/nag-acknowledgements.ts needs (so that module does
 * not import the stack it is applied to).
 */
import type { Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { HttpRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import type { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { IVpc } from 'aws-cdk-lib/aws-ec2';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { LambdaDeploymentGroup } from 'aws-cdk-lib/aws-codedeploy';
import type { Role } from 'aws-cdk-lib/aws-iam';
import type { Alias } from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { SecretGroup } from '../lib/config/index.ts';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import type { FunctionSpec, RouteSpec } from '../lib/manifest.ts';
import type { QueueSpec } from '../lib/queues.ts';

export interface HubQueue {
  spec: QueueSpec;
  queue: Queue;
  dlq: Queue;
}

export interface HubFunction {
  spec: FunctionSpec;
  fn: NodejsFunction;
  /** `live`: the published version every trigger invokes. */
  alias: Alias;
  role: Role;
  /** Set once the alarms exist: the function's error alarm and the CodeDeploy group it rolls back. */
  errorsAlarm?: Alarm;
  deploymentGroup?: LambdaDeploymentGroup;
  logGroup: LogGroup;
  routes: { spec: RouteSpec; route: HttpRoute }[];
}

/** What the cdk-nag acknowledgements are attached to; HubStack is one. */
export interface NagTargets extends Pick<Stack, 'resolve'> {
  readonly table: TableV2;
  readonly functions: ReadonlyMap<string, HubFunction>;
  /** Present when functions calling the WeChat API run in the fixed-egress VPC. */
  readonly vpc?: IVpc;
  readonly secrets: Readonly<Record<SecretGroup, ISecret>>;
  /** Failure destination of the scheduled functions. */
  readonly scheduleFailures: Queue;
  /** The archive's bucket, Firehose role and analyst policy (stacks/archive.ts). */
  readonly archive: { readonly bucket: IConstruct; readonly firehoseRole: IConstruct; readonly analystPolicy: IConstruct; readonly tablesArn: string };
}
