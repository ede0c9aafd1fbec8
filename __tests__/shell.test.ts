// Every shell script passes shellcheck: the entry scripts (POSIX sh), the launch library and the
// rendered launch scripts (bash). .ci/run installs shellcheck with apt.
import { execFileSync, spawnSync } from 'child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Testing } from 'cdk8s';
import { launchPlan, RedisSentinel, renderLaunchScript } from '../src';
import { SCRIPT_FILES, SCRIPTS_DIR } from '../src/pod-scripts';

const ROOT = join(__dirname, '..');
const hasShellcheck = spawnSync('shellcheck', ['--version']).status === 0;

function shellcheck(args: string[], cwd: string): { status: number | null; out: string } {
  const r = spawnSync('shellcheck', args, { cwd, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('shellcheck', () => {
  beforeAll(() => {
    if (!hasShellcheck) throw new Error('shellcheck is not installed: apt-get install shellcheck (.ci/run does)');
  });

  test.each([...SCRIPT_FILES])('entry script %s is clean as POSIX sh', (file) => {
    expect(shellcheck(['-s', 'sh', '-x', file], SCRIPTS_DIR)).toEqual({ status: 0, out: '' });
  });

  test('every script beside the loader ships in the ConfigMap, and is checked above', () => {
    expect(readdirSync(SCRIPTS_DIR).filter((f) => f.endsWith('.sh')).sort()).toEqual([...SCRIPT_FILES].sort());
  });

  test('every module a script sources ships in the ConfigMap, with a shellcheck source directive', () => {
    for (const file of SCRIPT_FILES) {
      const lines = readFileSync(join(SCRIPTS_DIR, file), 'utf8').split('\n');
      lines.forEach((line, i) => {
        const sourced = /^\. "(?:\$CONFIG_DIR|\$\{CONFIG_DIR:-[^}]*\})\/([^"/]+)"$/.exec(line)?.[1];
        if (!sourced && /^\s*\. /.test(line)) throw new Error(`${file}:${i + 1} sources something other than "$CONFIG_DIR/<file>": ${line}`);
        if (!sourced || sourced === 'cluster.env') return; // cluster.env is rendered, not a script file
        expect(SCRIPT_FILES).toContain(sourced);
        expect(`${file}:${i}: ${lines[i - 1]}`).toBe(`${file}:${i}: # shellcheck source=${sourced}`);
      });
    }
  });

  test('the launch library is clean as bash', () => {
    expect(shellcheck(['-s', 'bash', 'launch-lib.sh'], join(ROOT, 'src', 'launch'))).toEqual({ status: 0, out: '' });
  });

  test('the committed dist/launch/launch.sh is clean', () => {
    expect(shellcheck(['launch.sh'], join(ROOT, 'dist', 'launch'))).toEqual({ status: 0, out: '' });
  });

  test('a launch script for a non-default configuration is clean', () => {
    const redis = new RedisSentinel(Testing.chart(), 'Cache', { name: 'cache', namespace: 'apps', masterName: 'cache.master-1' });
    const dir = mkdtempSync(join(tmpdir(), 'launch-'));
    try {
      writeFileSync(join(dir, 'launch.sh'), renderLaunchScript(launchPlan(redis.settings, [{ file: 'cache.k8s.yaml' }, { file: "it's.k8s.yaml" }], { manifestDir: '../..' })));
      expect(shellcheck(['launch.sh'], dir)).toEqual({ status: 0, out: '' });
      // and bash parses it
      execFileSync('bash', ['-n', join(dir, 'launch.sh')]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('shellcheck does fail on a broken script', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sc-'));
    try {
      writeFileSync(join(dir, 'bad.sh'), '#!/bin/sh\necho $1\n');
      expect(shellcheck(['bad.sh'], dir).status).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
