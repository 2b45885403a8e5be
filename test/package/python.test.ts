/**
 * The Python package jsii-pacmak generates from the assembly: its source compiles, and the
 * README's Python example uses only names it has. Building the wheel needs Python packages
 * from PyPI (setuptools, wheel, twine), so this stops at the generated source.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const python = ['python3', 'python'].find((p) => spawnSync(p, ['--version']).status === 0);
let out: string;
let source: string;

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'openab-agentcore-pacmak-'));
  // The assembly comes from `npm run build` (jsii), which `npm test` runs first.
  expect(existsSync(join(ROOT, '.jsii'))).toBe(true);
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'jsii-pacmak', 'bin', 'jsii-pacmak'), '--targets', 'python', '--code-only', '--outdir', out],
    // pacmak packs the package to embed it; no prepack build beside the other tests' running files.
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, npm_config_ignore_scripts: 'true' } });
  if (r.status !== 0) throw new Error(`jsii-pacmak failed:\n${r.stderr}`);
  source = readFileSync(join(out, 'python', 'src', 'openab_agentcore', '__init__.py'), 'utf8');
}, 5 * 60_000);

afterAll(() => {
  if (out) rmSync(out, { recursive: true, force: true });
});

(python ? test : test.skip)('the generated Python module compiles', () => {
  const r = spawnSync(python!, ['-m', 'py_compile', join(out, 'python', 'src', 'openab_agentcore', '__init__.py')], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
});

test('the README\'s Python example uses classes and keyword arguments the module has', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const example = /```python\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  const imported = /from openab_agentcore import ([\w, ]+)/.exec(example)?.[1].split(',').map((n) => n.trim()) ?? [];
  expect(imported).toEqual(expect.arrayContaining(['OabAgentCore', 'SecretField']));
  for (const name of imported) expect(source).toMatch(new RegExp(`^class ${name}\\b`, 'm'));
  // Keyword arguments of our classes (not aws_cdk's): each is a parameter in the generated module.
  const ours = example.split('\n').filter((line) => !/cdk\.|secretsmanager\./.test(line.split('=')[0]));
  const keywords = [...new Set(ours.join('\n').matchAll(/\b([a-z_]+)=/g))].map((m) => m[1]);
  expect(keywords).toEqual(expect.arrayContaining(['api_key_secret', 'bot_token', 'fargate_spot']));
  for (const k of keywords) expect(source).toMatch(new RegExp(`\\b${k}: `));
});

test('the agent choice and Amazon Bedrock models reach Python as classes with their static members', () => {
  expect(source).toMatch(/^class CodingAgent\b/m);
  for (const member of ['KIRO', 'CLAUDE_CODE', 'CODEX']) expect(source).toMatch(new RegExp(`def ${member}\\(cls\\) -> "CodingAgent"`));
  expect(source).toMatch(/^class BedrockModel\b/m);
  expect(source).toMatch(/def inference_profile\(/);
  expect(source).toMatch(/^class BedrockModelAccess\b/m);
});

test('enums keep their names and values in Python', () => {
  expect(source).toMatch(/class CancelStrategy\(enum\.Enum\)/);
  expect(source).toMatch(/^ {4}STOP = "STOP"$/m);
});
