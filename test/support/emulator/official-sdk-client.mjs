// Drives the emulator with the OFFICIAL AgentCore SDK (bedrock-agentcore, ESM-only), as a
// separate process: proof that the emulator accepts the SDK's signature and frames.
// Env: BEDROCK_AGENTCORE_DATA_PLANE_ENDPOINT, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// RUNTIME_ARN, SESSION_ID. Prints one JSON line per step to stdout.
import { RuntimeClient, ShellChannel } from 'bedrock-agentcore/runtime';

const report = (event) => process.stdout.write(JSON.stringify(event) + '\n');
const runtimeArn = process.env.RUNTIME_ARN;
const sessionId = process.env.SESSION_ID;
const shellId = 'sdk-shell';

/** Reads STDOUT frames until `marker` shows up (or the stream ends). */
async function readUntil(shell, marker, limitMs = 10_000) {
  let text = '';
  const timer = setTimeout(() => shell._terminateConnection(), limitMs);
  try {
    for await (const frame of shell) {
      if (frame.channel === ShellChannel.STDOUT) text += frame.text;
      if (text.includes(marker)) break;
    }
  } finally {
    clearTimeout(timer);
  }
  return text;
}

const client = new RuntimeClient({ region: process.env.AWS_REGION });

// 1. Open, resize, run a command, read its output.
const first = await client.openShell({ runtimeArn, shellId, sessionId, keepaliveIntervalMs: 0 });
report({ step: 'open', shellId: first.shellId, sessionId: first.sessionId, reconnected: first.reconnected });
await first.resize(100, 30);
await first.send('echo sdk-$((6*7))\r');
const firstOutput = await readUntil(first, 'sdk-42\r\n');
report({ step: 'output', sawMarker: firstOutput.includes('sdk-42\r\n') });

// 2. A second session on the same ids takes the shell over: the first is kicked (4000),
//    the second sees reconnected:true and the replay with the earlier output.
const kickedLoop = (async () => {
  for await (const _ of first) { /* drain until the kick ends the loop */ }
})();
const second = await client.openShell({ runtimeArn, shellId, sessionId, keepaliveIntervalMs: 0 });
await kickedLoop;
report({ step: 'reattach', reconnected: second.reconnected, firstKicked: first.kicked, bytesDropped: second.bytesDropped });
const replay = await readUntil(second, 'sdk-42\r\n');
report({ step: 'replay', sawMarker: replay.includes('sdk-42\r\n') });

// 3. A command's exit becomes the SDK's exitCode.
await second.send('exit 7\r');
for await (const _ of second) { /* until the exit STATUS */ }
report({ step: 'exit', exitCode: second.exitCode });

// 4. A fresh shell closed with close(): the 0xFF path.
const third = await client.openShell({ runtimeArn, shellId: 'sdk-closed', sessionId, keepaliveIntervalMs: 0 });
report({ step: 'third', reconnected: third.reconnected });
await third.send('echo third-$((2+3))\r');
const thirdOutput = await readUntil(third, 'third-5\r\n');
await third.close();
report({ step: 'closed', sawMarker: thirdOutput.includes('third-5\r\n') });
