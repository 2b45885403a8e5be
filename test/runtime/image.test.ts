import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { validate, ValidationSeverity, type ValidatorSettings } from 'dockerfile-utils';
import { AGENTS, RUNTIME_IMAGE_TARGETS } from '../../shared/contract/agents';
import { APP_DIR, cleanEnv, RunningProgram, scratchDir, stageBundles } from '../support/runtime/programs';

const CONTEXT = join(__dirname, '../../runtimes');
const DOCKERFILE = readFileSync(join(CONTEXT, 'Dockerfile'), 'utf8');
const BIN = join(CONTEXT, 'bin');
const WRAPPERS = readdirSync(BIN).sort();
const SHELLCHECK = ['/usr/bin/shellcheck', '/usr/local/bin/shellcheck'].find((p) => existsSync(p));

/** Every check the linter has, as an error. */
const STRICT: ValidatorSettings = {
  deprecatedMaintainer: ValidationSeverity.ERROR,
  directiveCasing: ValidationSeverity.ERROR,
  emptyContinuationLine: ValidationSeverity.ERROR,
  instructionCasing: ValidationSeverity.ERROR,
  instructionCmdMultiple: ValidationSeverity.ERROR,
  instructionEntrypointMultiple: ValidationSeverity.ERROR,
  instructionHealthcheckMultiple: ValidationSeverity.ERROR,
  instructionJSONInSingleQuotes: ValidationSeverity.ERROR,
  instructionWorkdirRelative: ValidationSeverity.ERROR,
};

/** Instructions with their continuation lines joined, comments dropped. */
function instructions(dockerfile: string): string[] {
  return dockerfile.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
}

/**
 * Each FROM names its image through a build argument, whose default is `<image>:<tag>` or
 * `<image>:<tag>@sha256:<64 hex>` (never untagged or `latest`), or an earlier stage by name;
 * returns the problems.
 */
function baseImageProblems(dockerfile: string): string[] {
  const all = instructions(dockerfile);
  const defaults = new Map<string, string>();
  for (const m of all.map((i) => /^ARG (\w+)=(\S+)$/.exec(i))) if (m) defaults.set(m[1], m[2]);
  const problems: string[] = [];
  const stages = new Set<string>();
  for (const from of all.filter((i) => i.startsWith('FROM '))) {
    const m = /^FROM (\S+)(?: AS ([\w-]+))?$/.exec(from);
    const stage = m?.[2];
    if (m && stages.has(m[1])) {
      if (stage) stages.add(stage);
      continue;
    }
    const arg = /^\$\{(\w+)\}$/.exec(m?.[1] ?? '')?.[1];
    const image = arg === undefined ? undefined : defaults.get(arg);
    if (image === undefined) problems.push(`${from}: not a build argument with a default`);
    else if (!/^[\w.-]+(:\d+)?(\/[\w.${}-]+)+:[\w.${}-]+(@sha256:[a-f0-9]{64})?$/.test(image) || /:latest(@|$)/.test(image)) problems.push(`${from}: ${image} is not <image>:<tag>[@sha256:<digest>]`);
    if (stage) stages.add(stage);
  }
  return problems;
}

/** The Dockerfile's stages by name, each with its FROM and its instructions. */
function stagesOf(dockerfile: string): Map<string, { from: string; body: string[] }> {
  const stages = new Map<string, { from: string; body: string[] }>();
  let current: string[] | undefined;
  for (const i of instructions(dockerfile)) {
    const m = /^FROM (\S+)(?: AS ([\w-]+))?$/.exec(i);
    if (m) {
      current = [];
      stages.set(m[2] ?? `#${stages.size}`, { from: m[1], body: current });
    } else current?.push(i);
  }
  return stages;
}

describe('base images', () => {
  it.each(['runtimes/Dockerfile', 'oab/Dockerfile'])('%s names each base image by a build argument with a tag (digest optional)', (file) => {
    expect(baseImageProblems(readFileSync(join(__dirname, '../..', file), 'utf8'))).toEqual([]);
  });

  it('accepts a digest-pinned default and an earlier stage, and rejects a literal FROM, an untagged image, latest and a later stage', () => {
    const digest = `sha256:${'0'.repeat(64)}`;
    expect(baseImageProblems(`ARG BASE=public.ecr.aws/amazonlinux/amazonlinux:2023@${digest}\nFROM \${BASE} AS build\n`)).toEqual([]);
    expect(baseImageProblems('ARG BASE=public.ecr.aws/amazonlinux/amazonlinux:2023\nFROM ${BASE} AS build\nFROM build AS final\n')).toEqual([]);
    expect(baseImageProblems('ARG BASE=public.ecr.aws/amazonlinux/amazonlinux:2023\nFROM final AS build\nFROM ${BASE} AS final\n')).toHaveLength(1);
    expect(baseImageProblems('FROM public.ecr.aws/amazonlinux/amazonlinux:2023\n')).toHaveLength(1);
    expect(baseImageProblems('ARG BASE=public.ecr.aws/amazonlinux/amazonlinux\nFROM ${BASE}\n')).toHaveLength(1);
    expect(baseImageProblems('ARG BASE=public.ecr.aws/amazonlinux/amazonlinux:latest\nFROM ${BASE}\n')).toHaveLength(1);
  });

  it('the OAB Dockerfile has no errors or warnings from the linter either', () => {
    const oab = readFileSync(join(__dirname, '../../oab/Dockerfile'), 'utf8');
    expect(validate(oab, STRICT).map((d) => `${d.range.start.line + 1}: ${typeof d.message === 'string' ? d.message : d.message.value}`)).toEqual([]);
  });
});

describe('runtime image Dockerfile', () => {
  it('has no errors or warnings from the Docker language service linter (dockerfile-utils)', () => {
    expect(validate(DOCKERFILE, STRICT).map((d) => `${d.range.start.line + 1}: ${typeof d.message === 'string' ? d.message : d.message.value}`)).toEqual([]);
  });

  it('the linter does report a broken Dockerfile (it is not a no-op)', () => {
    const broken = 'from amazonlinux\nEXPOSE 99999\nWORKDIR app\nCOPY --nope a b\nHEALTHCHECK CMD true\nHEALTHCHECK CMD false\n';
    expect(validate(broken, STRICT).length).toBeGreaterThanOrEqual(4);
  });

  it('builds every target on a base stage of Amazon Linux 2023 that ends as the non-root user with the contract server as entrypoint', () => {
    const all = instructions(DOCKERFILE);
    expect(all).toContain('ARG AL2023_IMAGE=public.ecr.aws/amazonlinux/amazonlinux:2023');
    const stages = stagesOf(DOCKERFILE);
    expect(stages.get('base')?.from).toBe('${AL2023_IMAGE}');
    expect(all.some((i) => i.startsWith('HEALTHCHECK'))).toBe(false);
    const base = stages.get('base')!.body;
    expect(base).toEqual(expect.arrayContaining(['EXPOSE 8080', 'USER agent', 'ENTRYPOINT ["/app/bin/entrypoint"]']));
    expect(base.indexOf('USER agent')).toBeGreaterThan(base.findIndex((i) => i.startsWith('COPY --chmod=0755 bin/')));
    expect(DOCKERFILE).toMatch(/useradd --uid "\$\{AGENT_UID\}"/);
    expect(DOCKERFILE).toMatch(/ARG AGENT_UID=1000/);
  });

  it.each(RUNTIME_IMAGE_TARGETS)('has a target %s, built on the base stage, that names its agent and runs nothing as root', (target) => {
    const stage = stagesOf(DOCKERFILE).get(target);
    expect(stage?.from).toBe('base');
    const env = stage!.body.find((i) => i.startsWith('ENV '));
    expect(env).toContain(`OPENAB_AGENT=${target} `);
    // The base stage ends as the agent user; a target only copies files in and describes itself.
    expect(stage!.body.filter((i) => !/^(ARG|COPY|ENV|LABEL) /.test(i))).toEqual([]);
  });

  it('has exactly one target per agent, each installing the command its default shell command starts', () => {
    const stages = stagesOf(DOCKERFILE);
    expect([...stages].filter(([, st]) => st.from === 'base').map(([name]) => name).sort()).toEqual([...RUNTIME_IMAGE_TARGETS].sort());
    for (const target of RUNTIME_IMAGE_TARGETS) {
      const bin = /OPENAB_AGENT_BIN=(\S+)/.exec(stages.get(target)!.body.find((i) => i.startsWith('ENV '))!)?.[1];
      expect({ target, bin }).toEqual({ target, bin: `/usr/local/bin/${AGENTS[target].shellCommand.split(' ')[0]}` });
    }
  });

  it('builds Kiro when no target is given (the last stage), as images did before there was a choice', () => {
    expect([...stagesOf(DOCKERFILE).keys()].pop()).toBe('kiro');
  });

  it('pins Kiro CLI by version and checksum and verifies the download', () => {
    expect(DOCKERFILE).toMatch(/^ARG KIRO_CLI_VERSION=\d+\.\d+\.\d+$/m);
    expect(DOCKERFILE).toMatch(/^ARG KIRO_CLI_SHA256=[0-9a-f]{64}$/m);
    expect(DOCKERFILE).toMatch(/kirocli-aarch64-linux\.zip/);
    expect(DOCKERFILE).toContain('echo "${KIRO_CLI_SHA256}  /tmp/kirocli.zip" | sha256sum -c -');
  });

  it('cleans the package cache in every layer that installs, and installs no compiler', () => {
    const runs = instructions(DOCKERFILE).filter((i) => i.startsWith('RUN ') && i.includes('dnf install'));
    expect(runs.length).toBeGreaterThanOrEqual(3);
    for (const run of runs) expect(run).toContain('dnf clean all');
    expect(runs.join(' ')).not.toMatch(/\b(gcc|g\+\+|clang|make|cmake|golang|rust|cargo)\b/);
  });

  it.each([
    ['claude-code', '@zed-industries/claude-agent-acp', []],
    ['codex', '@zed-industries/codex-acp', ['@zed-industries/codex-acp-linux-arm64']],
  ])('installs %s from its lockfile: the exact version pinned, every package checked by integrity, no install scripts', (target, pkg, platformPackages) => {
    const dir = join(CONTEXT, 'agents', target);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')) as {
      lockfileVersion: number;
      packages: Record<string, { version?: string; integrity?: string; dependencies?: Record<string, string>; hasInstallScript?: boolean }>;
    };
    const version = manifest.dependencies[pkg];
    expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(Object.keys(manifest.dependencies)).toEqual([pkg]);
    expect(lock.lockfileVersion).toBe(3);
    expect(lock.packages[''].dependencies).toEqual(manifest.dependencies);
    expect(lock.packages[`node_modules/${pkg}`].version).toBe(version);
    const unchecked = Object.entries(lock.packages).filter(([path, p]) => path !== '' && !/^sha512-[A-Za-z0-9+/]+=*$/.test(p.integrity ?? ''));
    expect(unchecked).toEqual([]);
    expect(Object.entries(lock.packages).filter(([, p]) => p.hasInstallScript)).toEqual([]);
    for (const platform of platformPackages) expect(lock.packages[`node_modules/${platform}`].version).toBe(version);
    // The stage installs from the lockfile, and the image reports the version it pins.
    const install = stagesOf(DOCKERFILE).get(`${target}-install`)!.body;
    expect(install).toContain(`COPY agents/${target}/package.json agents/${target}/package-lock.json ./`);
    expect(install.find((i) => i.startsWith('RUN '))).toMatch(/^RUN npm ci --omit=dev --ignore-scripts /);
    expect(stagesOf(DOCKERFILE).get(target)!.body.find((i) => i.startsWith('ENV '))).toContain(`OPENAB_AGENT_CLI_VERSION=${version} `);
  });

  it('documents every build argument with a comment', () => {
    const lines = DOCKERFILE.split('\n');
    const undocumented = lines.flatMap((line, i) => {
      if (!/^ARG [A-Z0-9_]+=/.test(line)) return [];
      let j = i - 1;
      while (j >= 0 && /^ARG /.test(lines[j])) j--;
      return j >= 0 && lines[j].startsWith('#') ? [] : [line];
    });
    expect(undocumented).toEqual([]);
  });

  it('copies the bundled programs the wrappers start (build them first)', () => {
    expect(DOCKERFILE).toMatch(/^COPY app\/ \/app\/lib\/$/m);
    for (const file of ['contract-server.js', 'state-sync.js', 'acp-session.js']) {
      expect({ file, built: existsSync(join(APP_DIR, file)) }).toEqual({ file, built: true });
    }
  });
});

describe('runtime image wrappers (runtimes/bin)', () => {
  it('are executable and start their program by absolute path only', () => {
    expect(WRAPPERS).toEqual(['acp-session', 'entrypoint', 'state-sync']);
    for (const name of WRAPPERS) {
      const text = readFileSync(join(BIN, name), 'utf8');
      expect(statSync(join(BIN, name)).mode & 0o111).toBe(0o111);
      const program = /\/usr\/bin\/node (\/app\/lib\/[a-z-]+\.js) "\$@"/.exec(text)?.[1];
      expect({ name, program }).toEqual({ name, program: `/app/lib/${name === 'entrypoint' ? 'contract-server' : name}.js` });
      // Nothing found through PATH: the AgentCore shell may not have the image's PATH.
      const commands = text.split('\n').filter((l) => /^\s*(exec|\/)/.test(l)).map((l) => l.trim().replace(/^exec /, '').split(' ')[0]);
      for (const c of commands) expect(c).toMatch(/^\//);
    }
  });

  (SHELLCHECK ? it : it.skip)(`pass shellcheck${SHELLCHECK ? '' : ' (skipped: shellcheck is not installed; apt-get install -y shellcheck)'}`, () => {
    const out = (() => {
      try {
        return execFileSync(SHELLCHECK!, ['--severity=style', '--format=gcc', ...WRAPPERS.map((w) => join(BIN, w))], { encoding: 'utf8' });
      } catch (err) {
        return String((err as { stdout?: string }).stdout ?? err);
      }
    })();
    expect(out).toBe('');
  });

  (SHELLCHECK ? it : it.skip)('shellcheck does flag a bad script (it is not a no-op)', () => {
    const scratch = scratchDir('shellcheck');
    try {
      writeFileSync(join(scratch.dir, 'bad'), '#!/bin/sh\nexec $1 $@\n');
      expect(() => execFileSync(SHELLCHECK!, [join(scratch.dir, 'bad')], { encoding: 'utf8' })).toThrow();
    } finally {
      scratch.remove();
    }
  });
});

describe('entrypoint (PID 1 supervisor)', () => {
  jest.setTimeout(20_000);
  let staged: ReturnType<typeof stageBundles>;
  let entrypoint: string;
  beforeAll(() => {
    staged = stageBundles(['contract-server.js']);
    const original = readFileSync(join(BIN, 'entrypoint'), 'utf8');
    expect(original).toContain('/usr/bin/node /app/lib/contract-server.js');
    // The same script, pointed at this machine's node and the staged bundle.
    entrypoint = join(staged.dir, 'entrypoint');
    writeFileSync(entrypoint, original.replace('/usr/bin/node /app/lib/contract-server.js', `${process.execPath} ${join(staged.dir, 'contract-server.js')}`), { mode: 0o755 });
  });
  afterAll(() => staged.remove());

  const run = (env: Record<string, string>) => {
    const scratch = scratchDir('entrypoint');
    const program = new RunningProgram(spawn('/bin/bash', [entrypoint], {
      env: cleanEnv(scratch.dir, { HOST: '127.0.0.1', OPENAB_STATE_DIR: join(scratch.dir, 'state'), ...env }),
      stdio: ['ignore', 'pipe', 'pipe'],
    }));
    return { program, scratch };
  };

  it('passes SIGTERM to the server and exits with its status', async () => {
    const { program, scratch } = run({ PORT: '0' });
    try {
      const listening = await program.waitForLine((l) => l.event === 'listening');
      const res = await fetch(`http://127.0.0.1:${listening.port as number}/ping`);
      expect(res.status).toBe(200);
      expect(await program.stop('SIGTERM')).toEqual({ code: 0, signal: null });
      expect(program.lines.map((l) => l.event)).toEqual(expect.arrayContaining(['shutdown', 'stopped']));
    } finally {
      await program.stop('SIGKILL');
      scratch.remove();
    }
  });

  it('exits with the server status when the server fails to start', async () => {
    const { program, scratch } = run({ PORT: 'not-a-port' });
    try {
      expect((await program.exited).code).toBe(1);
      expect(program.lines).toEqual([expect.objectContaining({ level: 'error', event: 'start-failed', message: 'PORT must be an integer 0-65535, got "not-a-port"' })]);
    } finally {
      scratch.remove();
    }
  });
});
