import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CodingAgentRuntime, type MonitoringOptions, OabService } from '../../lib';
import { runtimeLogGroupName, runtimeNameFromArn } from '../../lib/private/runtime-arn';
import { ALARM_THRESHOLDS, taskStartRecordPrefix } from '../../lib/oab-monitoring';
import { OAB_CONFIG_PATH } from '../../lib/render/oab-command';
import { emfProblems } from '../support/emf-spec';
import { METRICS, METRICS_NAMESPACE } from '../../shared/metrics';
import { importedRuntime, newStack, RUNTIME_ARN, secretNamed } from './support';

function oab(monitoring?: MonitoringOptions, runtime?: 'created') {
  const stack = newStack();
  const service = new OabService(stack, 'Oab', {
    runtime: runtime === 'created' ? new CodingAgentRuntime(stack, 'Runtime', { runtimeName: 'kiro_agent' }) : importedRuntime(stack),
    discord: { botToken: { secret: secretNamed(stack, 'openab/discord'), field: 'botToken' }, allowedChannels: ['123456789012345678'] },
    monitoring,
  });
  return { stack, service, template: Template.fromStack(stack) };
}

/** The dashboard's body with its tokens flattened, as one string. */
function dashboardBody(template: Template): string {
  const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  const body = dashboard.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] };
  return body['Fn::Join'][1].map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join('');
}

function alarm(template: Template, id: string): Record<string, any> {
  const alarms = template.findResources('AWS::CloudWatch::Alarm');
  const key = Object.keys(alarms).find((k) => k.startsWith(`OabMonitoring${id}`));
  if (!key) throw new Error(`no alarm ${id} among ${Object.keys(alarms).join(', ')}`);
  return alarms[key].Properties;
}

describe('OabService monitoring', () => {
  test('by default a dashboard over every metric of the bridge and the runtime and the OAB task, and no alarm', () => {
    const { template } = oab();
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    template.resourceCountIs('AWS::SNS::Topic', 0);
    const body = dashboardBody(template);
    for (const name of Object.keys(METRICS)) expect({ name, shown: body.includes(`"${name}"`) || body.includes(`MetricName=\\"${name}\\"`) }).toEqual({ name, shown: true });
    expect(body).toContain(METRICS_NAMESPACE);
    // The imported runtime's name, read from its ARN, is the Runtime dimension.
    expect(body).toContain('"Runtime","my_agent"');
    for (const ecsMetric of ['RunningTaskCount', 'PendingTaskCount', 'CPUUtilization', 'MemoryUtilization', 'EMFValidationErrors']) expect(body).toContain(ecsMetric);
    // EMF records CloudWatch could not read, in the two log groups they land in.
    expect(body).toContain('"LogGroupName","/aws/bedrock-agentcore/runtimes/my_agent-a1b2c3d4e5-DEFAULT"');
    expect(body).toMatch(/"LogGroupName","\{"Ref":"OabLogGroup[0-9A-F]+"\}"/);
  });

  test('the dashboard can be left out', () => {
    oab({ dashboard: false }).template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
  });

  test('alarms, when asked for, each with its threshold and missing-data rule, notifying a new encrypted TLS-only topic', () => {
    const { template, stack } = oab({ alarms: true });
    template.resourceCountIs('AWS::CloudWatch::Alarm', 6);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] })]) },
    });

    expect(alarm(template, 'NoRunningTask')).toMatchObject({
      MetricName: 'RunningTaskCount', Namespace: 'ECS/ContainerInsights', Threshold: 1, ComparisonOperator: 'LessThanThreshold', EvaluationPeriods: 3, TreatMissingData: 'breaching',
    });
    const rate = alarm(template, 'ErrorRate');
    expect(rate).toMatchObject({ Threshold: ALARM_THRESHOLDS.errorRatePercent, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching' });
    const queries = rate.Metrics as Array<{ Id: string; Expression?: string; ReturnData?: boolean; MetricStat?: { Metric: { MetricName: string; Dimensions: unknown[] }; Period: number } }>;
    expect(queries.find((q) => q.ReturnData !== false)?.Expression).toBe('IF(turns + errors >= 5, 100 * IF(failed > errors, failed, errors) / IF(turns > errors, turns, errors), 0)');
    const stats = queries.filter((q) => q.MetricStat).map((q) => [q.MetricStat!.Metric.MetricName, q.MetricStat!.Metric.Dimensions.length, q.MetricStat!.Period]);
    expect(stats.sort()).toEqual([['Errors', 1, 900], ['Turns', 1, 900], ['Turns', 2, 900]]);
    expect(alarm(template, 'ReattachStorm')).toMatchObject({ MetricName: 'Reattaches', Namespace: METRICS_NAMESPACE, Threshold: 30, EvaluationPeriods: 2, TreatMissingData: 'notBreaching' });
    expect(alarm(template, 'LostOutput')).toMatchObject({ MetricName: 'OutputBytesLost', Threshold: 1, TreatMissingData: 'notBreaching' });
    expect(alarm(template, 'KeyFetchFailure')).toMatchObject({
      MetricName: 'ApiKeyFetches', Threshold: 1, Dimensions: expect.arrayContaining([{ Name: 'Outcome', Value: 'failed' }]),
    });
    expect(alarm(template, 'StateWriteBackFailure')).toMatchObject({
      MetricName: 'StateWriteBacks', Period: 900, Dimensions: expect.arrayContaining([{ Name: 'Outcome', Value: 'failed' }]),
    });
    for (const props of Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties)) {
      expect(props.AlarmActions).toHaveLength(1);
      expect(props.OKActions).toEqual(props.AlarmActions);
    }
    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
  });

  test('alarms notify a topic passed in, and no topic or key is created', () => {
    const stack = newStack();
    const topic = sns.Topic.fromTopicArn(stack, 'Ops', 'arn:aws:sns:us-east-1:123456789012:ops');
    const service = new OabService(stack, 'Oab', {
      runtime: importedRuntime(stack),
      discord: { botToken: { secret: secretNamed(stack, 'openab/discord'), field: 'botToken' }, allowedChannels: ['123456789012345678'] },
      monitoring: { alarms: true, alarmTopic: topic },
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SNS::Topic', 0);
    template.resourceCountIs('AWS::KMS::Key', 0);
    expect(service.monitoring.alarmTopic).toBe(topic);
    expect(alarm(template, 'LostOutput').AlarmActions).toEqual(['arn:aws:sns:us-east-1:123456789012:ops']);
  });

  test('a runtime created here is named by its name, which its programs also get', () => {
    const { template } = oab(undefined, 'created');
    expect(dashboardBody(template)).toContain('"Runtime","kiro_agent"');
    template.hasResourceProperties('AWS::BedrockAgentCore::Runtime', { EnvironmentVariables: Match.objectLike({ OPENAB_RUNTIME_NAME: 'kiro_agent' }) });
  });

  test('bad monitoring options fail the synth, named', () => {
    const stack = newStack();
    const topic = sns.Topic.fromTopicArn(stack, 'Ops', 'arn:aws:sns:us-east-1:123456789012:ops');
    expect(() => new OabService(stack, 'Oab', {
      runtime: importedRuntime(stack),
      discord: { botToken: { secret: secretNamed(stack, 'openab/discord'), field: 'botToken' }, allowedChannels: ['123456789012345678'] },
      monitoring: { alarmTopic: topic, dashboard: false, dashboardName: 'has spaces' },
    })).toThrow(/monitoring\.alarmTopic requires monitoring\.alarms: true[\s\S]*monitoring\.dashboardName cannot be combined with monitoring\.dashboard: false[\s\S]*monitoring\.dashboardName must be/);
  });

  test('metric() gives any metric for alarms of one\'s own, and refuses a name or breakdown that does not exist', () => {
    const { service, stack } = oab();
    const m = service.monitoring.metric('Errors', 'Sum', 'BRIDGE_ACCESS_DENIED');
    expect(m.dimensions).toEqual({ Runtime: 'my_agent', Code: 'BRIDGE_ACCESS_DENIED' });
    expect(stack.resolve(service.monitoring.metric('BusyTime', 'Sum').namespace)).toBe(METRICS_NAMESPACE);
    expect(() => service.monitoring.metric('Turn' as never, 'Sum')).toThrow(/metric name must be one of Turns, TurnDuration/);
    expect(() => service.monitoring.metric('BusyTime', 'Sum', 'x')).toThrow('BusyTime has no breakdown dimension, so it has no "x"');
  });

  test('the OAB container prints a task-start record, valid EMF, before it becomes OAB', async () => {
    const { template } = oab();
    const [task] = Object.values(template.findResources('AWS::ECS::TaskDefinition'));
    const command = task.Properties.ContainerDefinitions[0].Command as string[];
    expect(command[5]).toBe(taskStartRecordPrefix('my_agent'));
    const bin = mkdtempSync(join(tmpdir(), 'fake-openab-'));
    try {
      writeFileSync(join(bin, 'openab'), '#!/bin/sh\necho openab-ran\n');
      chmodSync(join(bin, 'openab'), 0o755);
      const before = Date.now();
      const child = spawn(command[0], command.slice(1), { env: { PATH: `${bin}:/usr/bin:/bin` }, detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      const deadline = Date.now() + 10_000;
      while (!out.includes('openab-ran') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      process.kill(-child.pid!, 'SIGKILL'); // the log copier loop outlives the fake OAB
      const [first, second] = out.split('\n');
      expect(emfProblems(first)).toEqual([]);
      const record = JSON.parse(first);
      expect(record).toMatchObject({ event: 'oab-container-start', Runtime: 'my_agent', OabTaskStarts: 1 });
      expect(record._aws.Timestamp).toBeGreaterThanOrEqual(before - 1_000);
      expect(record._aws.Timestamp).toBeLessThanOrEqual(Date.now());
      expect(second).toBe('openab-ran');
    } finally {
      rmSync(bin, { recursive: true, force: true });
      rmSync(dirname(OAB_CONFIG_PATH), { recursive: true, force: true });
    }
  });

  test('the runtime name comes from a runtime ARN, literal or a token', () => {
    expect(runtimeNameFromArn(RUNTIME_ARN)).toBe('my_agent');
    const stack = newStack();
    const token = new CodingAgentRuntime(stack, 'R', { runtimeName: 'x_agent' }).agentRuntimeArn;
    expect(stack.resolve(runtimeNameFromArn(token))).toEqual({
      'Fn::Select': [0, { 'Fn::Split': ['-', { 'Fn::Select': [1, { 'Fn::Split': ['runtime/', expect.anything()] }] }] }],
    });
  });

  test('the runtime log group is named by the runtime id in its ARN, literal or a token', () => {
    expect(runtimeLogGroupName(RUNTIME_ARN, 'prod')).toBe('/aws/bedrock-agentcore/runtimes/my_agent-a1b2c3d4e5-prod');
    const stack = newStack();
    const token = new CodingAgentRuntime(stack, 'R', { runtimeName: 'x_agent' }).agentRuntimeArn;
    expect(JSON.stringify(stack.resolve(runtimeLogGroupName(token, 'prod')))).toMatch(
      /^\{"Fn::Join":\["",\["\/aws\/bedrock-agentcore\/runtimes\/",\{"Fn::Select":\[1,\{"Fn::Split":\["runtime\/",.*\]\}\]\},"-prod"\]\]\}$/,
    );
  });
});
