import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { METRICS, METRICS_NAMESPACE, type MetricName, type MetricSpec, metricFields, RUNTIME_DIMENSION } from '../shared/metrics';
import { runtimeLogGroupName, runtimeNameFromArn } from './private/runtime-arn';
import { throwIfInvalid } from './validation';

/** What OabService watches: a dashboard (on by default) and alarms (off by default). */
export interface MonitoringOptions {
  /**
   * Create a CloudWatch dashboard: turns and their latency, errors by code, reattaches and
   * lost output, the OAB task's health, the runtime's microVM starts, busy time, key fetch
   * and state write-back.
   * @default true
   */
  readonly dashboard?: boolean;
  /**
   * @default - a name CloudFormation generates
   */
  readonly dashboardName?: string;
  /**
   * Create the alarms (no running OAB task, error rate, reattach storm, lost output,
   * key-fetch failure, state write-back failure), each notifying `alarmTopic`.
   * @default false
   */
  readonly alarms?: boolean;
  /**
   * Where the alarms notify (alarm and back to OK). Only with `alarms: true`.
   * @default - a new SNS topic, TLS-only, encrypted with a new KMS key CloudWatch may use; subscribe to it yourself
   */
  readonly alarmTopic?: sns.ITopic;
}

export interface OabMonitoringProps extends MonitoringOptions {
  readonly service: ecs.FargateService;
  /** Where the bridge's records land (the OAB task's log group). */
  readonly logGroup: logs.ILogGroup;
  /**
   * The runtime endpoint the bridge uses: its log group is the runtime's application log.
   * @default 'DEFAULT'
   */
  readonly qualifier?: string;
  /** The runtime's ARN; its name is the `Runtime` dimension of the metrics. */
  readonly runtimeArn: string;
  /**
   * The runtime's name when it is known at synth (a runtime created in this app).
   * @default - read from the ARN
   */
  readonly runtimeName?: string;
}

/** The alarms and their thresholds: the README's table states the same. */
export const ALARM_THRESHOLDS = {
  /** Container Insights' RunningTaskCount below this, 3 minutes in a row. */
  noRunningTask: 1,
  /** Percent of turns (prompts answered) that ended in an error, over 15 minutes, with at least 5 turns or errors. */
  errorRatePercent: 20,
  /** Reattaches in 5 minutes, twice in a row. */
  reattachStorm: 30,
  /** Bytes of output lost for good (plain mode) in 5 minutes. */
  lostOutputBytes: 1,
  /** Failed key fetches in 5 minutes. */
  keyFetchFailures: 1,
  /** Failed state write-backs in 15 minutes. */
  stateWriteBackFailures: 1,
} as const;

/**
 * Dashboards and alarms over the metrics the bridge and the runtime write into their logs
 * (embedded metric format, see shared/metrics.ts) and over the OAB service's own ECS and
 * Container Insights metrics. Measures are defined once ({@link OabMonitoring.metric});
 * the widgets and alarms only arrange them.
 */
export class OabMonitoring extends Construct {
  /** The `Runtime` dimension value of every metric. */
  readonly runtimeDimension: string;
  readonly dashboard?: cloudwatch.Dashboard;
  readonly alarmTopic?: sns.ITopic;
  readonly alarms: cloudwatch.IAlarm[] = [];
  private readonly service: ecs.FargateService;
  /** The log groups the metric records land in: the bridge's, then the runtime's. */
  private readonly logGroupNames: readonly string[];

  constructor(scope: Construct, id: string, props: OabMonitoringProps) {
    super(scope, id);
    this.service = props.service;
    this.logGroupNames = [props.logGroup.logGroupName, runtimeLogGroupName(props.runtimeArn, props.qualifier ?? 'DEFAULT')];
    this.runtimeDimension = props.runtimeName ?? runtimeNameFromArn(props.runtimeArn);
    if (props.dashboard ?? true) this.dashboard = this.createDashboard(props.dashboardName);
    if (props.alarms) {
      this.alarmTopic = props.alarmTopic ?? this.createTopic();
      this.createAlarms(this.alarmTopic);
    }
  }

  /**
   * One of this project's metrics (README, "Metrics"), for this runtime, optionally for one
   * value of its breakdown dimension (`Outcome`, `Reason`, `Code` or `Result`).
   */
  metric(name: MetricName, statistic: string, breakdown?: string, period: Duration = Duration.minutes(5), label?: string): cloudwatch.Metric {
    throwIfInvalid(this, Object.hasOwn(METRICS, name) ? [] : [`metric name must be one of ${Object.keys(METRICS).join(', ')}, got "${String(name)}"`]);
    const spec: MetricSpec = METRICS[name];
    throwIfInvalid(this, breakdown !== undefined && !spec.by ? [`${name} has no breakdown dimension, so it has no "${breakdown}"`] : []);
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: name,
      dimensionsMap: { [RUNTIME_DIMENSION]: this.runtimeDimension, ...(breakdown !== undefined && spec.by ? { [spec.by]: breakdown } : {}) },
      statistic,
      period,
      label,
    });
  }

  /** Every breakdown value of a metric present in the period, one line each (a search expression). */
  private byBreakdown(name: MetricName, statistic: string, label: string): cloudwatch.MathExpression {
    const spec: MetricSpec = METRICS[name];
    const by = spec.by!;
    return new cloudwatch.MathExpression({
      expression: `SEARCH('{${METRICS_NAMESPACE},${RUNTIME_DIMENSION},${by}} MetricName="${name}" ${RUNTIME_DIMENSION}="${this.runtimeDimension}"', '${statistic}', 300)`,
      label,
      period: Duration.minutes(5),
    });
  }

  private containerInsights(metricName: string): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'ECS/ContainerInsights',
      metricName,
      dimensionsMap: { ClusterName: this.service.cluster.clusterName, ServiceName: this.service.serviceName },
      statistic: 'Minimum',
      period: Duration.minutes(1),
    });
  }

  private createDashboard(dashboardName?: string): cloudwatch.Dashboard {
    const graph = (title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = [], width = 8) =>
      new cloudwatch.GraphWidget({ title, left, right, width, height: 6 });
    const d = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName, defaultInterval: Duration.hours(12) });
    d.addWidgets(
      graph('Turns by outcome', [this.byBreakdown('Turns', 'Sum', 'turns')]),
      graph('Turn latency (ms)', [
        this.metric('TurnDuration', 'p50', undefined, undefined, 'duration p50'),
        this.metric('TurnDuration', 'p90', undefined, undefined, 'duration p90'),
        this.metric('TurnTimeToFirstUpdate', 'p50', undefined, undefined, 'first update p50'),
        this.metric('TurnTimeToFirstUpdate', 'p90', undefined, undefined, 'first update p90'),
      ]),
      graph('Errors by code', [this.byBreakdown('Errors', 'Sum', 'errors')]),
    );
    d.addWidgets(
      graph('Reattaches by reason', [this.byBreakdown('Reattaches', 'Sum', 'reattaches')], [this.metric('ReattachDelay', 'p90', undefined, undefined, 'reattach delay p90 (ms)')]),
      graph('Output dropped and lost (bytes), frames paced', [
        this.metric('OutputBytesDropped', 'Sum', undefined, undefined, 'dropped by the service'),
        this.metric('OutputBytesLost', 'Sum', undefined, undefined, 'lost for good'),
      ], [this.metric('FramesPaced', 'Sum', undefined, undefined, 'frames paced')]),
      graph('Agent starts and restarts', [
        this.metric('AgentStarts', 'Sum', undefined, undefined, 'agent starts'),
        this.byBreakdown('AgentRestarts', 'Sum', 'restarts'),
        this.metric('ConversationsNotRestored', 'Sum', undefined, undefined, 'conversations not restored'),
      ]),
    );
    d.addWidgets(
      graph('OAB task: running, pending and started', [this.containerInsights('RunningTaskCount'), this.containerInsights('PendingTaskCount')],
        [this.metric('OabTaskStarts', 'Sum', undefined, undefined, 'tasks started')]),
      graph('OAB task: CPU and memory (%)', [this.service.metricCpuUtilization({ period: Duration.minutes(1) }), this.service.metricMemoryUtilization({ period: Duration.minutes(1) })]),
      graph('Runtime: microVMs started (key fetches) and busy time', [
        this.metric('ApiKeyFetches', 'Sum', undefined, undefined, 'microVMs started'),
        this.byBreakdown('ApiKeyFetches', 'Sum', 'key fetches'),
      ], [this.metric('BusyTime', 'Sum', undefined, undefined, 'busy seconds')]),
    );
    d.addWidgets(
      graph('Runtime: state write-backs', [this.byBreakdown('StateWriteBacks', 'Sum', 'write-backs')], [this.metric('StateWriteBackDuration', 'p90', undefined, undefined, 'duration p90 (ms)')], 12),
      graph('Metric records CloudWatch could not read (AWS/Logs): bridge, runtime', ['EMFParsingErrors', 'EMFValidationErrors'].flatMap((metricName) =>
        this.logGroupNames.map((logGroupName, i) => new cloudwatch.Metric({
          namespace: 'AWS/Logs', metricName, dimensionsMap: { LogGroupName: logGroupName }, statistic: 'Sum', period: Duration.minutes(5),
          label: `${metricName} (${i === 0 ? 'bridge' : 'runtime'})`,
        }))), [], 12),
    );
    return d;
  }

  /**
   * A topic under a key of its own: CloudWatch alarms cannot publish to one under the AWS
   * managed key (aws/sns), whose policy does not let CloudWatch use it.
   */
  private createTopic(): sns.Topic {
    const key = new kms.Key(this, 'AlarmTopicKey', {
      description: 'Encrypts the OAB alarm notifications; CloudWatch may use it to publish',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    key.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    return new sns.Topic(this, 'AlarmTopic', { masterKey: key, enforceSSL: true });
  }

  private createAlarms(topic: sns.ITopic): void {
    const t = ALARM_THRESHOLDS;
    const add = (id: string, metric: cloudwatch.Metric | cloudwatch.MathExpression, options: Omit<cloudwatch.CreateAlarmOptions, 'alarmDescription'>, description: string) => {
      const alarm = metric.createAlarm(this, id, { ...options, alarmDescription: `${description} See the README, "Alarms".` });
      alarm.addAlarmAction(new cwActions.SnsAction(topic));
      alarm.addOkAction(new cwActions.SnsAction(topic));
      this.alarms.push(alarm);
    };
    add('NoRunningTask', this.containerInsights('RunningTaskCount'), {
      threshold: t.noRunningTask,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 3,
      // Container Insights reports a service every minute; silence means it is not running.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    }, 'No OAB task has run for 3 minutes: the bot answers nobody.');

    const fifteen = Duration.minutes(15);
    // A 15-minute sum with no data read as 0; each under its own id, as one expression uses all three.
    const filled = (id: string, metric: cloudwatch.Metric) =>
      new cloudwatch.MathExpression({ expression: `FILL(${id}, 0)`, usingMetrics: { [id]: metric }, period: fifteen });
    const errors = filled('e', this.metric('Errors', 'Sum', undefined, fifteen));
    const turns = filled('t', this.metric('Turns', 'Sum', undefined, fifteen));
    const failedTurns = filled('f', this.metric('Turns', 'Sum', 'error', fifteen));
    // Failed turns, plus errors outside any turn (a session that could not start), over
    // everything attempted; nothing while there is too little traffic to judge.
    add('ErrorRate', new cloudwatch.MathExpression({
      // The larger of two series at each point, written with IF (documented for time series).
      expression: 'IF(turns + errors >= 5, 100 * IF(failed > errors, failed, errors) / IF(turns > errors, turns, errors), 0)',
      usingMetrics: { turns, errors, failed: failedTurns },
      period: fifteen,
      label: 'error rate (%)',
    }), {
      threshold: t.errorRatePercent,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }, `At least ${t.errorRatePercent}% of prompts or sessions failed in 15 minutes.`);

    add('ReattachStorm', this.metric('Reattaches', 'Sum'), {
      threshold: t.reattachStorm,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }, `At least ${t.reattachStorm} reattaches in each of two 5-minute periods: connections keep dropping.`);

    add('LostOutput', this.metric('OutputBytesLost', 'Sum'), {
      threshold: t.lostOutputBytes,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }, 'Agent output was lost for good while a connection was down (plain mode).');

    add('KeyFetchFailure', this.metric('ApiKeyFetches', 'Sum', 'failed'), {
      threshold: t.keyFetchFailures,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }, 'A runtime microVM could not fetch the agent API key from the Token Vault.');

    add('StateWriteBackFailure', this.metric('StateWriteBacks', 'Sum', 'failed', fifteen), {
      threshold: t.stateWriteBackFailures,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }, 'The agent state could not be saved to session storage.');
  }
}

/**
 * The record the OAB container prints when it starts, counting `OabTaskStarts`: a JSON
 * object whose last member is `_aws` and whose last value is `_aws.Timestamp`, cut just
 * before that value, which the container command appends with the closing braces.
 */
export function taskStartRecordPrefix(runtime: string): string {
  const { _aws: aws, ...values } = metricFields({ OabTaskStarts: 1 }, {}, 0) as { _aws: { CloudWatchMetrics: unknown } };
  const record = JSON.stringify({ event: 'oab-container-start', [RUNTIME_DIMENSION]: runtime, ...values, _aws: { CloudWatchMetrics: aws.CloudWatchMetrics, Timestamp: 0 } });
  return record.slice(0, -'0}}'.length);
}

/** Problems with the monitoring options, named as OabService's props. */
export function validateMonitoringOptions(options: MonitoringOptions | undefined): string[] {
  const problems: string[] = [];
  if (options?.alarmTopic && !options.alarms) problems.push('monitoring.alarmTopic requires monitoring.alarms: true');
  if (options?.dashboardName !== undefined && options.dashboard === false) problems.push('monitoring.dashboardName cannot be combined with monitoring.dashboard: false');
  if (options?.dashboardName !== undefined && !Token.isUnresolved(options.dashboardName) && !/^[A-Za-z0-9_-]{1,255}$/.test(options.dashboardName)) {
    problems.push(`monitoring.dashboardName must be 1 to 255 letters, digits, "-" or "_", got "${options.dashboardName}"`);
  }
  return problems;
}
