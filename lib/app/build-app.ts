import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { OabAgentCoreStack } from './oab-agent-core-stack';
import { parseStages, selectStages, STAGE_CONTEXT_KEY, STAGES_CONTEXT_KEY } from './stage-settings';

/** The stack name of a stage. */
export function stageStackName(stage: string): string {
  return `OpenabAgentCore-${stage}`;
}

/**
 * The example app: cdk-nag's AwsSolutions checks on everything, and one stack per stage
 * from cdk.json (`-c stage=dev` picks one; without it every stage is synthesized and the
 * CLI asks which to deploy).
 */
export function buildApp(app: App): OabAgentCoreStack[] {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  const stages = parseStages(app.node.tryGetContext(STAGES_CONTEXT_KEY));
  return selectStages(stages, app.node.tryGetContext(STAGE_CONTEXT_KEY)).map((stage) => {
    const settings = stages[stage];
    const account = settings.account ?? process.env.CDK_DEFAULT_ACCOUNT;
    const region = settings.region ?? process.env.CDK_DEFAULT_REGION;
    return new OabAgentCoreStack(app, stageStackName(stage), {
      stage,
      settings,
      env: account || region ? { account, region } : undefined,
      description: `OpenAB on ECS Fargate driving a coding agent on Amazon Bedrock AgentCore Runtime (${stage})`,
    });
  });
}
