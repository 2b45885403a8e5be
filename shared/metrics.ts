/**
 * The metrics of the bridge and the runtime, and the one way they are written: as
 * CloudWatch embedded metric format (EMF) members added to an ordinary log record.
 * CloudWatch Logs extracts the metrics from any log event that is an EMF document, with
 * or without the `x-amzn-logs-format: json/emf` header (since January 2023), so the
 * records the bridge and the runtime already write become metrics where they land: the
 * OAB task's awslogs stream and the runtime's log group. No agent, no PutMetricData, no
 * new permission.
 *
 * A record carries the log fields and, beside them, `_aws` (the directive), the metric
 * values under their metric names and the dimension values under their dimension
 * names. Every metric has the dimension `Runtime` (the runtime's name, which the logger
 * puts on every record of a program) and, where a breakdown helps, one more: `Outcome`,
 * `Reason`, `Code` or `Result`, each from a short fixed list, so the number of metrics
 * stays bounded. Pure.
 *
 * Spec: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */

/** Where every metric of this project goes. */
export const METRICS_NAMESPACE = 'OpenabAgentCore';
/** The dimension every metric has: the runtime's name (its ARN's runtime id without AgentCore's suffix). */
export const RUNTIME_DIMENSION = 'Runtime';

export type MetricUnit = 'Count' | 'Milliseconds' | 'Seconds' | 'Bytes';
/** The second dimension a metric may be broken down by. */
export type BreakdownDimension = 'Outcome' | 'Reason' | 'Code' | 'Result';

export interface MetricSpec {
  readonly unit: MetricUnit;
  /** Also published per value of this dimension (besides per runtime). */
  readonly by?: BreakdownDimension;
  /** Which program writes it, and in which record. */
  readonly source: string;
  readonly description: string;
}

/** Every metric, by name: the README's table, the emitters and the dashboard all use this. */
export const METRICS = {
  Turns: {
    unit: 'Count', by: 'Outcome', source: 'bridge `turn`',
    description: 'Prompts answered; `Outcome` is `end_turn`, `cancelled`, `error` (a JSON-RPC error) or `other` (any other stop reason)',
  },
  TurnDuration: { unit: 'Milliseconds', by: 'Outcome', source: 'bridge `turn`', description: 'From the prompt reaching the bridge to its answer' },
  TurnTimeToFirstUpdate: {
    unit: 'Milliseconds', by: 'Outcome', source: 'bridge `turn`',
    description: 'From the prompt reaching the bridge to the first `session/update` the agent streams for it (absent when none came)',
  },
  Reattaches: {
    unit: 'Count', by: 'Reason', source: 'bridge `reattach` (first attempt)',
    description: 'Connections lost and reattached to the same shell; `Reason` is the close: `going_away` (1001), `dropped` (1006, also a peer silent for 60 s), `policy` (1008, including the hourly limit), `too_large` (1009), `server_error` (1011), `restarting` (1012–1014), `other`',
  },
  ReattachDelay: { unit: 'Milliseconds', source: 'bridge `reattached`', description: 'From the drop to the reattached connection' },
  OutputBytesDropped: {
    unit: 'Bytes', source: 'bridge `connect`',
    description: 'Output the service dropped while the bridge was away (`bytesDropped`); framed mode resends it, plain mode loses it',
  },
  OutputBytesLost: { unit: 'Bytes', source: 'bridge `output-lost`', description: 'Output lost for good (plain mode): pending requests got `BRIDGE_OUTPUT_LOST`' },
  FramesPaced: { unit: 'Count', source: 'bridge `frames-paced`', description: 'Frames held back to stay under 220 frames a second' },
  AgentStarts: { unit: 'Count', source: 'bridge `agent-start`', description: 'Agent commands typed into a shell (a new thread, a restart)' },
  AgentRestarts: {
    unit: 'Count', by: 'Result', source: 'bridge `agent-reattached`, `agent-restarted`',
    description: 'A message found the agent not running (idle detach, cancel); `Result` is `reattached` (still running) or `restarted` (started again and reloaded)',
  },
  ConversationsNotRestored: {
    unit: 'Count', source: 'bridge `conversation-not-restored`',
    description: 'A restarted agent could not load its conversation: the thread goes on in a new one',
  },
  Errors: {
    unit: 'Count', by: 'Code', source: 'bridge `request-failed`, `agent-gone`',
    description: 'Failures the bridge reported, by stable code (`BRIDGE_ACCESS_DENIED`, `BRIDGE_AGENT_EXITED`, …)',
  },
  ApiKeyFetches: {
    unit: 'Count', by: 'Outcome', source: 'runtime `api-key.*`',
    description: 'Boot-time key fetches from the Token Vault; `Outcome` is `fetched`, `failed` or `not_configured`',
  },
  StateWriteBacks: {
    unit: 'Count', by: 'Outcome', source: 'runtime `state-sync.write-back`',
    description: 'Saves of the agent state to session storage that did something (one that found nothing new is not counted); `Outcome` is `written`, `stale` (a newer save got there first) or `failed`',
  },
  StateWriteBackDuration: { unit: 'Milliseconds', by: 'Outcome', source: 'runtime `state-sync.write-back`', description: 'How long a save took' },
  OabTaskStarts: {
    unit: 'Count', source: 'OAB container command `oab-container-start`',
    description: 'OAB tasks started: a deploy, a task ECS replaced (failed health check, Spot interruption) or restarted',
  },
  BusyTime: {
    unit: 'Seconds', source: 'runtime `ping.status-changed`',
    description: 'Length of each busy stretch (`HealthyBusy`: a turn in flight or its state being saved); the sum is what keeps microVMs alive',
  },
} as const satisfies Record<string, MetricSpec>;

export type MetricName = keyof typeof METRICS;

/** Values of the metrics of one record (each must be a finite number). */
export type MetricValues = Partial<Record<MetricName, number>>;

/**
 * The members that make a log record an EMF document for `values`: the directive under
 * `_aws` and the values under their names, plus `breakdown`'s dimension values. The
 * record must also carry `Runtime` (the loggers put it on every record). One directive
 * per breakdown dimension used, so each metric is published per runtime and per runtime
 * and its own breakdown only.
 */
export function metricFields(
  values: MetricValues,
  breakdown: Partial<Record<BreakdownDimension, string>> = {},
  now: number = Date.now(),
): Record<string, unknown> {
  const groups = new Map<BreakdownDimension | undefined, Array<{ Name: string; Unit: MetricUnit }>>();
  const fields: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values) as Array<[MetricName, number | undefined]>) {
    if (value === undefined || !Number.isFinite(value)) continue;
    const spec: MetricSpec = METRICS[name];
    const by = spec.by !== undefined && breakdown[spec.by] !== undefined ? spec.by : undefined;
    const group = groups.get(by) ?? [];
    group.push({ Name: name, Unit: spec.unit });
    groups.set(by, group);
    fields[name] = value;
  }
  if (groups.size === 0) return {};
  const directives = [...groups].map(([by, metrics]) => ({
    Namespace: METRICS_NAMESPACE,
    Dimensions: by ? [[RUNTIME_DIMENSION], [RUNTIME_DIMENSION, by]] : [[RUNTIME_DIMENSION]],
    Metrics: metrics,
  }));
  for (const by of groups.keys()) if (by) fields[by] = breakdown[by];
  return { _aws: { Timestamp: now, CloudWatchMetrics: directives }, ...fields };
}

/**
 * The `Runtime` dimension value for a runtime id (`<name>-<10 characters>`, as in its
 * ARN): the name, which is what the constructs know at synth. Names have no hyphen.
 */
export function runtimeDimension(runtimeId: string): string {
  const dash = runtimeId.indexOf('-');
  return dash > 0 ? runtimeId.slice(0, dash) : runtimeId;
}
