/**
 * The CDK app: `npx cdk synth` (cdk.json runs this file with tsx). The stage comes from
 * `-c stage=<name>` (default dev) and its settings from cdk.json `context.stages.<name>`,
 * overlaid by `-c stageFile=<path>` when given (the operator's real account, app ids and alarm
 * subscription: docs/deploy.md). Outside dev a stage with a placeholder, no alarm subscription
 * or no pinned account fails here.
 * cdk-nag's AwsSolutions pack checks the whole app; acknowledged findings live in
 * stacks/nag-acknowledgements.ts.
 */
import { App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DEFAULT_STAGE, PLACEHOLDER_ACCOUNT, hubStackProps, mergeStageFile, stageConfig } from './config.ts';
import { HubStack } from './hub-stack.ts';

const app = new App();
const stage = String(app.node.tryGetContext('stage') ?? DEFAULT_STAGE);
const stageFile = app.node.tryGetContext('stageFile') as string | undefined;
const cfg = stageConfig(mergeStageFile(app.node.tryGetContext('stages'), stageFile), stage);

const stack = new HubStack(app, `ScrmHub-${stage}`, {
  ...hubStackProps(stage, cfg),
  stackName: `scrm-hub-${stage}`,
  description: `SCRM Hub (${stage}): social-CRM integration hub`,
  env: { account: cfg.account ?? process.env.CDK_DEFAULT_ACCOUNT ?? PLACEHOLDER_ACCOUNT, region: cfg.region },
  terminationProtection: cfg.removalPolicy === 'retain',
});
Tags.of(stack).add('project', 'scrm-hub');
Tags.of(stack).add('stage', stage);

Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
