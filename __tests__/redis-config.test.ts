// The rendered config files and cluster.env: the pacing constants, the render options (the tests'
// seam) and the agreement between cluster.env and the variables the pod scripts read.
import { readFileSync } from 'fs';
import { join } from 'path';
import { resolveSettings } from '../src';
import { SCRIPT_FILES, SCRIPTS_DIR } from '../src/pod-scripts';
import { PACING, PacingName } from '../src/pod-scripts/pacing';
import { clusterEnv, configMapData } from '../src/redis-config';

/** cluster.env's assignments as name -> value. */
function envVars(text: string): Record<string, string> {
  return Object.fromEntries([...text.matchAll(/^([A-Z_][A-Z0-9_]*)='([^']*)'$/gm)].map((m) => [m[1], m[2]]));
}

/** The pod scripts' code, without comment lines. */
const scripts = SCRIPT_FILES.map((f) => readFileSync(join(SCRIPTS_DIR, f), 'utf8')).join('\n')
  .split('\n').filter((l) => !/^\s*#/.test(l)).join('\n');

describe('cluster.env', () => {
  const settings = resolveSettings({});

  test('every pacing constant is rendered with its value and, on the line above, its reason', () => {
    const lines = clusterEnv(settings).split('\n');
    for (const [name, { value, why }] of Object.entries(PACING)) {
      const at = lines.indexOf(`${name}='${value}'`);
      expect(at).toBeGreaterThan(0);
      expect(lines[at - 1]).toBe(`# ${why}`);
      expect(why).not.toMatch(/\n/);
    }
  });

  test('every upper-case variable a pod script reads is set by cluster.env, the pod or the script itself', () => {
    const fromEnv = Object.keys(envVars(clusterEnv(settings)));
    const fromPod = ['POD_IP', 'POD_NAME', 'MASTER', 'SENTINEL', 'CONFIG_DIR', 'REDIS_PASSWORD_FILE'];
    const assigned = [...scripts.matchAll(/^\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]);
    const read = new Set([...scripts.matchAll(/\$\{?([A-Z][A-Z0-9_]*)\b/g)].map((m) => m[1]));
    expect([...read].filter((v) => ![...fromEnv, ...fromPod, ...assigned].includes(v))).toEqual([]);
  });

  test('every pacing constant is read by a pod script', () => {
    const unread = Object.keys(PACING).filter((name) => !new RegExp(`\\$\\{?${name}\\b`).test(scripts));
    expect(unread).toEqual([]);
  });

  test('no pod script sleeps, polls, times out or counts to a number of its own', () => {
    const inline = scripts.split('\n').filter((l) =>
      /\b(sleep|timeout|random_below|poll|retry)\s+['"]?[0-9]/.test(l) || /\s-(lt|le|gt|ge)\s+['"]?[1-9]/.test(l));
    expect(inline).toEqual([]);
  });
});

describe('render options (the loopback test\'s seam)', () => {
  const settings = resolveSettings({ redisPort: 16379 });

  test('without options the files are the pods\' own', () => {
    expect(configMapData(settings, {})).toEqual(configMapData(settings));
    const data = configMapData(settings);
    expect(data['redis.conf']).toMatch(/^bind \* -::\*$/m);
    expect(data['redis.conf']).toMatch(/^dir \/redis-master-data$/m);
    expect(data['sentinel.conf']).toMatch(/^dir \/var\/lib\/redis-sentinel$/m);
    expect(envVars(data['cluster.env'])).toMatchObject({
      SENTINEL_HOST: 'redis-sentinel', DATA_DIR: '/redis-master-data', SENTINEL_STATE_DIR: '/var/lib/redis-sentinel',
      DISCOVERY_TIMEOUT_SECONDS: '120', RETRY_SECONDS: '2', FOLLOW_STRIKES: '30',
    });
  });

  test('each option lands where the scripts and the servers read it, and nowhere else moves', () => {
    const pacing: Partial<Record<PacingName, number>> = { RETRY_SECONDS: 1, FOLLOW_STRIKES: 3 };
    const data = configMapData(settings, {
      bind: '127.0.0.3', dataDir: '/tmp/p/data', sentinelStateDir: '/tmp/p/sentinel', sentinelHost: '127.0.0.2',
      discoveryTimeoutSeconds: 2, pacing,
    });
    const plain = configMapData(settings);
    expect(data['redis.conf']).toBe(plain['redis.conf'].replace('bind * -::*', 'bind 127.0.0.3').replace('dir /redis-master-data', 'dir /tmp/p/data'));
    expect(data['sentinel.conf']).toBe(plain['sentinel.conf'].replace('bind * -::*', 'bind 127.0.0.3').replace('dir /var/lib/redis-sentinel', 'dir /tmp/p/sentinel'));
    expect(envVars(data['cluster.env'])).toEqual({
      ...envVars(plain['cluster.env']),
      SENTINEL_HOST: '127.0.0.2', DATA_DIR: '/tmp/p/data', SENTINEL_STATE_DIR: '/tmp/p/sentinel',
      DISCOVERY_TIMEOUT_SECONDS: '2', RETRY_SECONDS: '1', FOLLOW_STRIKES: '3',
    });
    for (const f of SCRIPT_FILES) expect(data[f]).toBe(plain[f]);
  });

  test('the options are internal: the package does not export them', () => {
    const index = readFileSync(join(__dirname, '..', 'src', 'index.ts'), 'utf8');
    expect(index).not.toMatch(/RenderOptions|configMapData|PACING/);
  });
});
