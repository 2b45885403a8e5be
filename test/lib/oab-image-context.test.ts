import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { oabImageContextPath, stageOabImageContext } from '../../lib/private/oab-image-context';

describe('stageOabImageContext', () => {
  let sources: string;
  let dockerfile: Buffer;
  let bundle: Buffer;
  let predictable: string;

  beforeEach(() => {
    sources = mkdtempSync(join(tmpdir(), 'oab-context-test-'));
    // Unique bytes per test, so each test has its own predictable path.
    dockerfile = Buffer.from(`FROM scratch\n# ${randomUUID()}\n`);
    bundle = Buffer.from(`console.log(${JSON.stringify(randomUUID())});\n`);
    writeFileSync(join(sources, 'Dockerfile'), dockerfile);
    writeFileSync(join(sources, 'bridge.js'), bundle);
    predictable = oabImageContextPath(dockerfile, bundle);
  });

  afterEach(() => {
    rmSync(sources, { recursive: true, force: true });
    rmSync(predictable, { recursive: true, force: true });
  });

  const stage = (): string => stageOabImageContext(join(sources, 'Dockerfile'), join(sources, 'bridge.js'));
  const expectExactContext = (dir: string): void => {
    expect(readdirSync(dir).sort()).toEqual(['Dockerfile', 'bridge.js']);
    expect(readFileSync(join(dir, 'Dockerfile')).equals(dockerfile)).toBe(true);
    expect(readFileSync(join(dir, 'bridge.js')).equals(bundle)).toBe(true);
    expect(statSync(dir).mode & 0o077).toBe(0);
  };

  test('stages at the content-hash path, closed to other users, and reuses it on the next synth', () => {
    const first = stage();
    expect(first).toBe(predictable);
    expectExactContext(first);
    expect(stage()).toBe(first);
  });

  test.each<[string, (dir: string) => void]>([
    ['a different bridge.js', (dir) => writeFileSync(join(dir, 'bridge.js'), 'require("child_process").exec("curl evil")')],
    ['an extra file', (dir) => writeFileSync(join(dir, '.dockerignore'), '*')],
    ['a bridge.js that is a link', (dir) => { rmSync(join(dir, 'bridge.js')); symlinkSync(join(sources, 'bridge.js'), join(dir, 'bridge.js')); }],
    ['the right files in a directory others can write to', (dir) => chmodSync(dir, 0o777)],
  ])('does not use a directory already at the predictable path with %s', (_title, tamper) => {
    mkdirSync(predictable, { mode: 0o700 });
    writeFileSync(join(predictable, 'Dockerfile'), dockerfile);
    writeFileSync(join(predictable, 'bridge.js'), bundle);
    tamper(predictable);

    const dir = stage();
    expect(dir).not.toBe(predictable);
    expectExactContext(dir);
    rmSync(dir, { recursive: true, force: true });
  });
});
