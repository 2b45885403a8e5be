import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'smol-toml';
import {
  BRIDGE_INHERIT_ENV,
  BRIDGE_LOG_FIFO,
  bridgeCommand,
  OAB_HEALTH_CHECK,
  oabContainerCommand,
  OAB_CONFIG_PATH,
} from '../../lib/render/oab-command';
import { BotMessagePolicy, MessageProcessingMode, type OabConfig, renderOabConfig, validateOabConfig } from '../../lib/render/oab-config';
import { RUNTIME_ARN } from './support';

/** The container health check OabService sets (CMD-SHELL). */

const AGENT = {
  ...bridgeCommand({
    runtimeArn: RUNTIME_ARN,
    shellCommand: 'kiro-cli acp --trust-all-tools',
    qualifier: 'DEFAULT',
    cancelStrategy: 'stop',
    logLevel: 'info',
    logFile: BRIDGE_LOG_FIFO,
    idleDetachSeconds: 120,
    maxMessageBytes: 16777216,
  }),
  inheritEnv: [...BRIDGE_INHERIT_ENV],
};

function config(extra: Partial<OabConfig> = {}): OabConfig {
  return { discord: { botTokenVariable: 'DISCORD_BOT_TOKEN' }, agent: AGENT, ...extra };
}

describe('renderOabConfig', () => {
  test('renders a Discord section whose token is a variable OAB expands, never a value', () => {
    const doc = parse(renderOabConfig(config({
      discord: { botTokenVariable: 'DISCORD_BOT_TOKEN', allowedChannels: ['123456789012345678'], allowBotMessages: BotMessagePolicy.MENTIONS, allowDm: false },
    })));
    expect(doc.discord).toEqual({
      bot_token: '${DISCORD_BOT_TOKEN}',
      allowed_channels: ['123456789012345678'],
      allow_bot_messages: 'mentions',
      allow_dm: false,
    });
    expect(doc.slack).toBeUndefined();
  });

  test('renders a Slack section with both tokens as variables', () => {
    const doc = parse(renderOabConfig({
      slack: { botTokenVariable: 'SLACK_BOT_TOKEN', appTokenVariable: 'SLACK_APP_TOKEN', allowedChannels: ['C0123ABCD'], messageProcessingMode: MessageProcessingMode.PER_THREAD },
      agent: AGENT,
    }));
    expect(doc.slack).toEqual({
      bot_token: '${SLACK_BOT_TOKEN}',
      app_token: '${SLACK_APP_TOKEN}',
      allowed_channels: ['C0123ABCD'],
      message_processing_mode: 'per-thread',
    });
    expect(doc.discord).toBeUndefined();
  });

  test('the agent is plain node running the bundled bridge, with only the AWS variables it needs passed through', () => {
    const doc = parse(renderOabConfig(config()));
    expect(doc.agent).toEqual({
      command: 'node',
      args: [
        '--expose-gc', '--max-semi-space-size=1',
        '/app/bridge.js',
        '--runtime-arn', RUNTIME_ARN,
        '--qualifier', 'DEFAULT',
        '--shell-command', 'kiro-cli acp --trust-all-tools',
        '--cancel-strategy', 'stop',
        '--log-level', 'info',
        '--log-file', '/tmp/openab/bridge-log.fifo',
        '--idle-detach', '120',
        '--max-message-bytes', '16777216',
      ],
      inherit_env: ['AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_REGION', 'AWS_DEFAULT_REGION'],
    });
  });

  test('renders the agent environment as a table, and none when not given', () => {
    expect((parse(renderOabConfig(config())).agent as Record<string, unknown>).env).toBeUndefined();
    const text = renderOabConfig(config({ agent: { ...AGENT, env: { MALLOC_MMAP_THRESHOLD_: '131072', A: 'x y' } } }));
    expect((parse(text).agent as Record<string, unknown>).env).toEqual({ MALLOC_MMAP_THRESHOLD_: '131072', A: 'x y' });
  });

  test('renders [pool] only when a pool setting is given', () => {
    expect(parse(renderOabConfig(config())).pool).toBeUndefined();
    expect(parse(renderOabConfig(config({ pool: { maxSessions: 3, sessionTtlHours: 1 } }))).pool).toEqual({ max_sessions: 3, session_ttl_hours: 1 });
  });

  test('adds further tables as given', () => {
    const doc = parse(renderOabConfig(config({ additionalSections: { reactions: { enabled: true } } })));
    expect(doc.reactions).toEqual({ enabled: true });
  });

  test('quotes values TOML would otherwise misread', () => {
    const text = renderOabConfig(config({ agent: { ...AGENT, args: ['--shell-command', 'say "hi" \\ \'there\''] } }));
    expect((parse(text).agent as { args: string[] }).args[1]).toBe('say "hi" \\ \'there\'');
  });
});

describe('validateOabConfig', () => {
  test('accepts a complete config', () => {
    expect(validateOabConfig(config({ pool: { maxSessions: 10 } }))).toEqual([]);
  });

  test.each<[string, OabConfig, string]>([
    ['neither Discord nor Slack', { agent: AGENT }, 'at least one of discord or slack must be configured'],
    ['a Discord channel name instead of an id', config({ discord: { botTokenVariable: 'T', allowedChannels: ['#general'] } }), 'discord.allowedChannels[0] must be an id matching'],
    ['a lower-case Slack user id', config({ slack: { botTokenVariable: 'A', appTokenVariable: 'B', allowedUsers: ['u123'] } }), 'slack.allowedUsers[0] must be an id matching'],
    ['an unknown bot message policy', config({ discord: { botTokenVariable: 'T', allowBotMessages: 'some' as never } }), 'discord.allowBotMessages must be "off", "mentions" or "all", got "some"'],
    ['zero sessions', config({ pool: { maxSessions: 0 } }), 'pool.maxSessions must be an integer from 1 to 100, got 0'],
    ['a fractional TTL', config({ pool: { sessionTtlHours: 1.5 } }), 'pool.sessionTtlHours must be an integer from 1 to 720, got 1.5'],
    ['an [agent] table in additionalConfig', config({ additionalSections: { agent: {} } }), 'additionalConfig.agent is rendered from typed props'],
    ['a ${VAR} in a user value', config({ additionalSections: { markdown: { footer: 'by ${USER}' } } }), 'additionalConfig.markdown.footer must not contain "${"'],
  ])('rejects %s', (_title, input, message) => {
    expect(validateOabConfig(input).join('\n')).toContain(message);
  });
});

describe('oabContainerCommand', () => {
  test('is sh running a fixed script, with the config text as its only argument', () => {
    const [shell, flag, script, name, arg, ...rest] = oabContainerCommand('[discord]\n');
    expect([shell, flag, name, arg, rest]).toEqual(['/bin/sh', '-c', 'oab-start', '[discord]\n', []]);
    expect(script).toContain(`exec openab run -c ${OAB_CONFIG_PATH}`);
    expect(script).not.toContain('${');
  });

  test('writes config.toml byte for byte, copies bridge log lines from the FIFO to stdout, and passes the health check', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'fake-openab-'));
    try {
      // A stand-in for OAB: prints the config it was given, then spawns two "bridges"
      // with stderr discarded, as OAB does, that log through the FIFO.
      const fakeOpenab = join(bin, 'openab');
      const bridge = [
        "const fs = require('node:fs');",
        `const fd = fs.openSync(${JSON.stringify(BRIDGE_LOG_FIFO)}, 'a');`,
        "fs.writeSync(fd, JSON.stringify({ event: 'bridge-log-' + process.argv[1] }) + '\\n');",
      ].join(' ');
      writeFileSync(fakeOpenab, [
        `#!${process.execPath}`,
        "const { spawnSync } = require('node:child_process');",
        "process.stdout.write('CONFIG<' + require('node:fs').readFileSync(process.argv[4], 'utf8') + '>\\n');",
        `for (const n of [1, 2]) spawnSync(process.execPath, ['-e', ${JSON.stringify(bridge)}, String(n)], { stdio: ['pipe', 'pipe', 'ignore'] });`,
        'setTimeout(() => process.exit(0), 5000);',
      ].join('\n'));
      chmodSync(fakeOpenab, 0o755);
      const text = '[discord]\nbot_token = "${DISCORD_BOT_TOKEN}"\n# it\'s "quoted" $HOME `id` \\ done\n';
      const [cmd, ...args] = oabContainerCommand(text);
      const child = spawn(cmd, args, { env: { PATH: `${bin}:/usr/bin:/bin` }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => { out += d; });
      const deadline = Date.now() + 10_000;
      while (!(out.includes('bridge-log-2') && out.includes('CONFIG<')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      // The ECS health check finds OAB by its process name while it runs.
      const health = spawnSync('/bin/sh', ['-c', OAB_HEALTH_CHECK]);
      process.kill(-child.pid!, 'SIGKILL'); // the copier loop outlives the fake OAB; in a container it ends with the container
      expect(health.status).toBe(0);
      expect(spawnSync('/bin/sh', ['-c', OAB_HEALTH_CHECK.replace('openab', 'no-such-process')]).status).not.toBe(0);

      expect(out).toContain(`CONFIG<${text}>`);
      expect(out).toContain('{"event":"bridge-log-1"}');
      expect(out).toContain('{"event":"bridge-log-2"}');
      expect(readFileSync(OAB_CONFIG_PATH, 'utf8')).toBe(text);
      expect(statSync(OAB_CONFIG_PATH).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(bin, { recursive: true, force: true });
      rmSync(dirname(OAB_CONFIG_PATH), { recursive: true, force: true });
    }
  });
});
