/**
 * A checker for CloudWatch embedded metric format documents, written from the published
 * specification (CloudWatch_Embedded_Metric_Format_Specification, and the JSON schema on
 * that page). Where the current page and the original one differ, the stricter rule is
 * kept: at most 9 dimension keys per DimensionSet (now 30) and 256 KB per event (now 1 MB).
 * Returns every problem found, empty for a valid document.
 */

const UNITS = new Set([
  'Seconds', 'Microseconds', 'Milliseconds', 'Bytes', 'Kilobytes', 'Megabytes', 'Gigabytes', 'Terabytes',
  'Bits', 'Kilobits', 'Megabits', 'Gigabits', 'Terabits', 'Percent', 'Count', 'Bytes/Second', 'Kilobytes/Second',
  'Megabytes/Second', 'Gigabytes/Second', 'Terabytes/Second', 'Bits/Second', 'Kilobits/Second', 'Megabits/Second',
  'Gigabits/Second', 'Terabits/Second', 'Count/Second', 'None',
]);
const MAX_EVENT_BYTES = 256 * 1024;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function nameProblem(where: string, v: unknown): string | undefined {
  if (typeof v !== 'string' || v.length < 1 || v.length > 255) return `${where} must be a string of 1 to 255 characters`;
  return undefined;
}

/** Problems with one log event's message as an EMF document. */
export function emfProblems(message: string): string[] {
  const problems: string[] = [];
  if (Buffer.byteLength(message) > MAX_EVENT_BYTES) problems.push(`the event is larger than ${MAX_EVENT_BYTES} bytes`);
  // "a valid JSON object with no additional data at the beginning or end"
  if (message.trim() !== message.replace(/\n$/, '')) problems.push('the event has data around its JSON object');
  let root: unknown;
  try {
    root = JSON.parse(message);
  } catch {
    return [...problems, 'the event is not valid JSON'];
  }
  if (!isObject(root)) return [...problems, 'the root is not a JSON object'];
  const aws = root._aws;
  if (!isObject(aws)) return [...problems, '_aws must be an object'];
  if (!Number.isInteger(aws.Timestamp) || (aws.Timestamp as number) < 0) problems.push('_aws.Timestamp must be a whole number of milliseconds since 1970');
  const directives = aws.CloudWatchMetrics;
  if (!Array.isArray(directives)) return [...problems, '_aws.CloudWatchMetrics must be an array'];
  directives.forEach((d: unknown, i) => {
    const at = `_aws.CloudWatchMetrics[${i}]`;
    if (!isObject(d)) {
      problems.push(`${at} must be an object`);
      return;
    }
    for (const k of Object.keys(d)) if (!['Namespace', 'Dimensions', 'Metrics'].includes(k)) problems.push(`${at} has a member the specification does not define: ${k}`);
    const ns = nameProblem(`${at}.Namespace`, d.Namespace);
    if (ns) problems.push(ns);
    else if (!/[^:]/.test(d.Namespace as string) || (d.Namespace as string).startsWith(':')) problems.push(`${at}.Namespace must not start with a colon`);
    if (!Array.isArray(d.Dimensions) || d.Dimensions.length < 1) {
      problems.push(`${at}.Dimensions must be a non-empty array of DimensionSets`);
    } else {
      d.Dimensions.forEach((set: unknown, j) => {
        const sat = `${at}.Dimensions[${j}]`;
        if (!Array.isArray(set)) return problems.push(`${sat} must be an array`);
        if (set.length > 9) problems.push(`${sat} has more than 9 dimension keys`);
        for (const key of set) {
          const p = nameProblem(`${sat} key`, key);
          if (p) problems.push(p);
          else if (typeof root[key as string] !== 'string') problems.push(`${sat}: the target member "${String(key)}" must be a string on the root`);
          else if (!/^[\x20-\x7e]*[^\s][\x20-\x7e]*$/.test(root[key as string] as string) || (root[key as string] as string).length > 1024) {
            problems.push(`${sat}: the value of "${String(key)}" must be 1 to 1024 printable ASCII characters, not all blank`);
          }
        }
        return undefined;
      });
    }
    if (!Array.isArray(d.Metrics)) {
      problems.push(`${at}.Metrics must be an array`);
    } else {
      if (d.Metrics.length > 100) problems.push(`${at}.Metrics has more than 100 MetricDefinitions`);
      d.Metrics.forEach((m: unknown, j) => {
        const mat = `${at}.Metrics[${j}]`;
        if (!isObject(m)) return problems.push(`${mat} must be an object`);
        for (const k of Object.keys(m)) if (!['Name', 'Unit', 'StorageResolution'].includes(k)) problems.push(`${mat} has a member the specification does not define: ${k}`);
        const np = nameProblem(`${mat}.Name`, m.Name);
        if (np) problems.push(np);
        if (m.Unit !== undefined && !UNITS.has(m.Unit as string)) problems.push(`${mat}.Unit ${JSON.stringify(m.Unit)} is not a CloudWatch unit`);
        if (m.StorageResolution !== undefined && m.StorageResolution !== 1 && m.StorageResolution !== 60) problems.push(`${mat}.StorageResolution must be 1 or 60`);
        if (np) return undefined;
        const target = root[m.Name as string];
        const numeric = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
        if (Array.isArray(target)) {
          if (target.length > 100 || !target.every(numeric)) problems.push(`${mat}: the target "${String(m.Name)}" must be at most 100 numbers`);
        } else if (!numeric(target)) {
          problems.push(`${mat}: the target member "${String(m.Name)}" must be a number on the root`);
        }
        return undefined;
      });
    }
  });
  return problems;
}
