// The rendered config files and cluster.env: the users' ACL rules, the hardening directives, the
// pacing constants, the render options (the tests' seam) and the agreement between cluster.env and
// the variables the pod scripts read.
import { execFileSync } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Size } from 'cdk8s';
import { resolveSettings, resolveStatefulSetSettings } from '../src';
import { SCRIPT_FILES, SCRIPTS_DIR } from '../src/pod-scripts';
import { PACING, PacingName } from '../src/pod-scripts/pacing';
import { aclRules, ACL_RULES_FILES, channelsExcept, clusterEnv, configMapData, SENTINEL_CHANNEL_PREFIX } from '../src/redis-config';

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

  test('every upper-case variable a pod script reads is set by cluster.env (of either topology), the pod or the script itself', () => {
    const fromEnv = [...Object.keys(envVars(clusterEnv(settings))), ...Object.keys(envVars(clusterEnv(resolveStatefulSetSettings({}))))];
    // POD_NAMESPACE: the StatefulSet topology's pods only (its stable names need it).
    const fromPod = ['POD_IP', 'POD_NAME', 'POD_NAMESPACE', 'MASTER', 'SENTINEL', 'CONFIG_DIR'];
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
      DISCOVERY_TIMEOUT_SECONDS: '120', RETRY_SECONDS: '2', FOUND_CHECKS: '3',
    });
  });

  test('each option lands where the scripts and the servers read it, and nowhere else moves', () => {
    const pacing: Partial<Record<PacingName, number>> = { RETRY_SECONDS: 1, FOUND_CHECKS: 2 };
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
      DISCOVERY_TIMEOUT_SECONDS: '2', RETRY_SECONDS: '1', FOUND_CHECKS: '2',
    });
    for (const f of SCRIPT_FILES) expect(data[f]).toBe(plain[f]);
  });

  test('the options are internal: the package does not export them', () => {
    const index = readFileSync(join(__dirname, '..', 'src', 'index.ts'), 'utf8');
    expect(index).not.toMatch(/RenderOptions|configMapData|PACING/);
  });
});

/**
 * Redis' glob (stringmatchlen in util.c, case-sensitive), as ACL channel rules use it: `*`, `?`,
 * `[...]` with `^` and ranges, and `\\` escapes.
 */
function redisGlob(pattern: string, s: string): boolean {
  if (pattern === '') return s === '';
  const [p, rest] = [pattern[0], pattern.slice(1)];
  if (p === '*') return [...Array(s.length + 1).keys()].some((i) => redisGlob(rest, s.slice(i)));
  if (s === '') return false;
  if (p === '?') return redisGlob(rest, s.slice(1));
  if (p === '\\' && rest !== '') return s[0] === rest[0] && redisGlob(rest.slice(1), s.slice(1));
  if (p === '[') {
    let i = 0;
    const not = rest[0] === '^';
    if (not) i++;
    let match = false;
    while (i < rest.length && rest[i] !== ']') {
      if (rest[i] === '\\' && i + 1 < rest.length) { match ||= rest[i + 1] === s[0]; i += 2; continue; }
      if (rest[i + 1] === '-' && i + 2 < rest.length && rest[i + 2] !== ']') {
        const [lo, hi] = [rest[i], rest[i + 2]].sort();
        match ||= s[0] >= lo && s[0] <= hi;
        i += 3;
        continue;
      }
      match ||= rest[i] === s[0];
      i++;
    }
    return (not ? !match : match) && redisGlob(rest.slice(i + 1), s.slice(1));
  }
  return p === s[0] && redisGlob(rest, s.slice(1));
}

describe('channel patterns: every channel but a prefix', () => {
  const allowed = (patterns: string[], channel: string) => patterns.some((p) => redisGlob(p, channel));

  test('the glob itself: a check of the checker', () => {
    expect(redisGlob('a[^b]*', 'ac')).toBe(true);
    expect(redisGlob('a[^b]*', 'ab')).toBe(false);
    expect(redisGlob('a[b-d]', 'ac')).toBe(true);
    expect(redisGlob('\\*', '*')).toBe(true);
    expect(redisGlob('\\*', 'x')).toBe(false);
    expect(redisGlob('', '')).toBe(true);
  });

  test('the client may use every channel but Sentinel\'s (__sentinel__:*)', () => {
    const patterns = channelsExcept(SENTINEL_CHANNEL_PREFIX);
    const samples: Array<[string, boolean]> = [
      ['__sentinel__:hello', false], ['__sentinel__:', false], ['__sentinel__:hello:x', false], ['__sentinel__::', false],
      ['', true], ['_', true], ['__sentinel__', true], ['__sentinel_', true], ['__sentinel_:hello', true], ['__sentinel___:hello', true],
      ['__Sentinel__:hello', true], ['x__sentinel__:hello', true], [' __sentinel__:hello', true], ['news', true],
      ['__keyspace@0__:k', true], ['+switch-master', true], ['__sentinel__;hello', true], ['\n__sentinel__:hello', true],
    ];
    expect(samples.map(([c]) => [c, allowed(patterns, c)])).toEqual(samples);
  });

  test('random names: allowed exactly when they do not start with the prefix', () => {
    const alphabet = [...new Set([...SENTINEL_CHANNEL_PREFIX, 'x', '*', '[', ']', '^', '\\', 'é', ' '])];
    let seed = 7;
    const rand = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
    for (const prefix of [SENTINEL_CHANNEL_PREFIX, 'a*[b]\\^-c?']) {
      const patterns = channelsExcept(prefix);
      for (let i = 0; i < 3000; i++) {
        // half of them start with a random part of the prefix, so that near misses are common
        const head = rand(2) ? prefix.slice(0, rand(prefix.length + 1)) : '';
        const name = head + Array.from({ length: rand(6) }, () => (rand(3) ? alphabet[rand(alphabet.length)] : prefix[rand(prefix.length)])).join('');
        if (allowed(patterns, name) === name.startsWith(prefix)) throw new Error(`prefix ${JSON.stringify(prefix)}, name ${JSON.stringify(name)}`);
      }
    }
  });
});

describe('the users\' ACL rules', () => {
  const auth = resolveSettings({ auth: { clientAclRules: ['+flushdb', '-keys'] } }).auth!;
  const { redis, sentinel } = aclRules(auth);

  test('Redis: the client may not reconfigure, stop, replicate, debug, load modules or flush, and its own rules come last', () => {
    expect(redis.client).toEqual(expect.arrayContaining(['~*', 'resetchannels', '+@all', '-@admin', '-@dangerous']));
    const denied = ['-config', '-shutdown', '-replicaof', '-slaveof', '-debug', '-module', '-flushall', '-flushdb'];
    expect(redis.client!.slice(-denied.length - 2)).toEqual([...denied, '+flushdb', '-keys']);
    expect(redis.client!.filter((r) => r.startsWith('&'))).toEqual(channelsExcept(SENTINEL_CHANNEL_PREFIX).map((p) => `&${p}`));
    expect(redis.client).not.toContain('&*');
  });

  test('Redis: replication only replicates; Sentinel\'s user is the Redis docs\' list; admin has everything', () => {
    expect(redis.replication).toEqual(['resetkeys', 'resetchannels', '-@all', '+psync', '+replconf', '+ping']);
    expect(redis.sentinel).toEqual(['resetkeys', 'allchannels', '-@all', '+multi', '+slaveof', '+ping', '+exec', '+subscribe',
      '+config|rewrite', '+role', '+publish', '+info', '+client|setname', '+client|kill', '+script|kill']);
    expect(redis.admin).toEqual(['~*', '&*', '+@all']);
  });

  test('Sentinel: clients only discover; peers only say hello, ping and vote; no replication user', () => {
    expect(sentinel.client).toEqual(['resetchannels', '&+switch-master', '-@all', '+sentinel|get-master-addr-by-name', '+sentinel|sentinels',
      '+sentinel|replicas', '+sentinel|slaves', '+subscribe', '+unsubscribe', '+ping', '+hello', '+auth', '+client|setname']);
    expect(sentinel.sentinel).toEqual(['resetchannels', '&__sentinel__:hello', '-@all', '+auth', '+hello', '+ping', '+client|setname', '+publish',
      '+sentinel|is-master-down-by-addr']);
    expect(sentinel.replication).toBeUndefined();
    expect(sentinel.admin).toEqual(['~*', '&*', '+@all']);
  });

  test('the rules files name each user and the Secret key of its password, and hold no password', () => {
    const data = configMapData(resolveSettings({ auth: { secretName: 'my-auth' } }));
    const users = (file: string) => data[file].split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(' ').slice(0, 2).join(' '));
    expect(users(ACL_RULES_FILES.redis)).toEqual(['default client-password', 'replication replication-password', 'sentinel sentinel-password', 'admin admin-password']);
    expect(users(ACL_RULES_FILES.sentinel)).toEqual(['default client-password', 'sentinel sentinel-password', 'admin admin-password']);
    expect(data[ACL_RULES_FILES.redis]).not.toMatch(/[>#][0-9a-f]{16,}|nopass/);
  });

  test('the pod scripts read the rules files under the ConfigMap\'s keys', () => {
    const auth = readFileSync(join(SCRIPTS_DIR, 'auth.sh'), 'utf8');
    for (const file of Object.values(ACL_RULES_FILES)) expect(auth).toContain(`$CONFIG_DIR/${file}`);
  });
});

describe('redis.conf and sentinel.conf', () => {
  test('with auth: the auth include, protected mode, and the hardening', () => {
    const data = configMapData(resolveSettings({ maxMemory: Size.mebibytes(200) }), { runDir: '/x/run' });
    for (const file of ['redis.conf', 'sentinel.conf']) {
      expect(data[file]).toMatch(/^protected-mode yes$/m);
      for (const d of ['enable-debug-command no', 'enable-module-command no', 'enable-protected-configs no']) expect(data[file]).toContain(`\n${d}\n`);
    }
    expect(data['redis.conf']).toMatch(/\nmaxmemory 209715200\nmaxmemory-policy noeviction\n/);
    expect(data['redis.conf'].trimEnd().split('\n').pop()).toBe('include /x/run/auth.conf');
    expect(data['sentinel.conf']).toContain('\nsentinel deny-scripts-reconfig yes\n');
    expect(data['sentinel.conf']).not.toMatch(/maxmemory|include/);
  });

  test('with auth: false: no include, no rules files, protected mode off, the same hardening', () => {
    const data = configMapData(resolveSettings({ auth: false }));
    expect(data['redis.conf']).not.toContain('include');
    expect(data['redis.conf']).toMatch(/^protected-mode no$/m);
    expect(data['redis.conf']).toContain('\nenable-debug-command no\n');
    expect(Object.keys(data)).not.toContain(ACL_RULES_FILES.redis);
    expect(data['cluster.env']).not.toMatch(/^(AUTH_SECRET|AUTH_DIR|RUN_DIR|[A-Z_]*PASSWORD[A-Z_]*)=/m);
  });
});

describe('cluster.env quoting', () => {
  test('a value holding a quote, a command substitution and a newline comes out inert', () => {
    const dir = mkdtempSync(join(tmpdir(), 'env-'));
    try {
      const evil = `/data/it's $(touch ${dir}/pwned) \`touch ${dir}/pwned\`\nline2 '; touch ${dir}/pwned; '`;
      writeFileSync(join(dir, 'cluster.env'), clusterEnv(resolveSettings({}), { dataDir: evil, sentinelHost: "h'; touch pwned #" }));
      const out = execFileSync('sh', ['-c', '. ./cluster.env && printf "%s|%s" "$DATA_DIR" "$SENTINEL_HOST"'], { cwd: dir, encoding: 'utf8' });
      expect(out).toBe(`${evil}|h'; touch pwned #`);
      expect(existsSync(join(dir, 'pwned'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ConfigMap size', () => {
  test('the largest allowed props keep it well under the 1 MiB limit of a ConfigMap', () => {
    // The longest values settings allow: the 64 longest command names Redis 7.0 has, as rules.
    const longest = [...require('../src/acl-names').REDIS_COMMANDS as Set<string>].sort((a, b) => b.length - a.length).slice(0, 64);
    const s = resolveSettings({
      name: 'r'.repeat(54), namespace: 'n'.repeat(63), masterName: 'm'.repeat(128),
      image: `registry.example.com/${'a'.repeat(200)}:${'t'.repeat(20)}`,
      auth: { secretName: `${'s'.repeat(63)}.${'s'.repeat(63)}.${'s'.repeat(63)}.${'s'.repeat(61)}`, clientAclRules: longest.map((c) => `+${c}`) },
    });
    const bytes = Object.entries(configMapData(s)).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
    expect(bytes).toBeLessThan(256 * 1024);
  });
});
