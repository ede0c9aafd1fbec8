// Security by default (issue 9) on real redis-server and redis-sentinel processes, on loopback: what
// each user can and cannot do, a forged sentinel hello, a password rotation with a writer running,
// and no password in any process's command line or environment, in any log, or in a file anyone
// else can read. One cluster of three fake pods (<NET>.2-4, a random loopback /24), each with a
// Redis and a sentinel, in the order of the tests below.
import { execFileSync } from 'child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Duration } from 'cdk8s';
import Redis from 'ioredis';
import { resolveSettings } from '../src';
import { channelsExcept, SENTINEL_CHANNEL_PREFIX } from '../src/redis-config';
import { As, Container, describeIfRedis, linkedTo, Loopback, loopbackNet, Pod, randomSecret, rawCli, redisCli, SecretFiles, until, writeSecret } from './helpers/loopback';

const REDIS_PORT = 16479;
const SENTINEL_PORT = 26479;
const NET = loopbackNet();
const IPS = [`${NET}.2`, `${NET}.3`, `${NET}.4`];
/** An address where nothing runs. */
const NOWHERE = `${NET}.99`;
const SERVICE = IPS[0]; // the first pod's sentinel stands in for the sentinel Service

describeIfRedis('security on real Redis processes (loopback)', () => {
  const settings = resolveSettings({ redisPort: REDIS_PORT, sentinelPort: SENTINEL_PORT, downAfter: Duration.seconds(2), failoverTimeout: Duration.seconds(6), discoveryTimeout: Duration.seconds(30) });
  const pacing = { RETRY_SECONDS: 1, FOLLOW_INTERVAL_SECONDS: 1, FOLLOW_STRIKES: 3, AUTH_WATCH_SECONDS: 1 };
  const secret: SecretFiles = randomSecret(settings);
  /** Every password used in the test, to look for everywhere at the end. */
  const passwords = new Set(Object.values(secret));
  let admin: As = { user: 'admin', password: secret['admin-password'] };
  let client: As = { password: secret['client-password'] };
  let loop: Loopback;
  let shimRoot: string;
  let shimLogs: string;
  const pods: Pod[] = [];
  const redis: Container[] = [];
  const sentinels: Container[] = [];

  const ask = (ip: string, port: number, args: string[], as: As = admin) => rawCli(ip, port, args, '', as).out;
  const role = (ip: string) => (ask(ip, REDIS_PORT, ['INFO', 'replication']).match(/^role:(\w+)/m) ?? [])[1];
  const masterOf = (ip: string) => ask(ip, SENTINEL_PORT, ['SENTINEL', 'get-master-addr-by-name', 'mymaster']).split('\n')[0];
  const masterIp = () => IPS.find((ip) => role(ip) === 'master')!;
  /**
   * The commands that were not refused: by the ACL (NOPERM), or by the server for everyone (DEBUG
   * and MODULE with enable-debug-command and enable-module-command off).
   */
  const notRefused = (ip: string, port: number, as: As, commands: string[][]) =>
    commands.map((c) => [c.join(' '), ask(ip, port, c, as).split('\n')[0]])
      .filter(([, reply]) => !/^NOPERM |^ERR (DEBUG|MODULE) command not allowed/.test(reply));

  beforeAll(async () => {
    // Shims in front of redis-server, redis-sentinel and redis-cli record the command line and
    // environment of every one the pods start, which is what /proc/<pid>/cmdline and environ show.
    const bin = (cmd: string) => execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim();
    const real = Object.fromEntries(['redis-server', 'redis-sentinel', 'redis-cli'].map((c) => [c, bin(c)]));
    shimRoot = mkdtempSync(join(tmpdir(), 'shims-'));
    shimLogs = join(shimRoot, 'logs');
    mkdirSync(shimLogs);
    for (const [cmd, path] of Object.entries(real)) {
      writeFileSync(join(shimRoot, cmd), [
        '#!/bin/sh',
        `{ printf 'argv'; for a in "$0" "$@"; do printf ' %s' "$a"; done; echo; env | sed 's/^/env /'; } >>"${shimLogs}/$$"`,
        `exec ${path} "$@"`, '',
      ].join('\n'));
      chmodSync(join(shimRoot, cmd), 0o755);
    }
    loop = new Loopback({ settings, render: { sentinelHost: SERVICE, pacing }, env: { PATH: `${shimRoot}:${process.env.PATH}` } });

    // GIVEN three pods, each with a Redis and a sentinel; the first one's Redis founds the cluster
    for (const ip of IPS) pods.push(loop.makePod(ip, { secret }));
    redis.push(loop.start(pods[0], { MASTER: 'true' }));
    sentinels.push(loop.start(pods[0], { SENTINEL: 'true' }));
    await until('the first sentinel monitors the master', () => masterOf(SERVICE) === SERVICE);
    for (const pod of pods.slice(1)) {
      redis.push(loop.start(pod, {}));
      sentinels.push(loop.start(pod, { SENTINEL: 'true' }));
    }
    await until('both replicas are in sync', () => (ask(SERVICE, REDIS_PORT, ['INFO', 'replication']).match(/state=online/g) ?? []).length === 2);
    await until('the sentinels know each other and the replicas', () => IPS.every((ip) =>
      /num-slaves\n2\n[\s\S]*num-other-sentinels\n2\n/.test(ask(ip, SENTINEL_PORT, ['SENTINEL', 'master', 'mymaster']))), 30);
    // the master is fenced (refuses writes) until its follow check sees a sentinel majority name it
    await until('the master takes writes', () => ask(SERVICE, REDIS_PORT, ['SET', 'ready', '1'], client) === 'OK', 15);
  }, 90000);
  afterAll(async () => {
    await loop.cleanup();
    rmSync(shimRoot, { recursive: true, force: true });
  });

  test('unauthenticated clients get NOAUTH from every Redis and every sentinel', () => {
    for (const ip of IPS) {
      for (const args of [['PING'], ['GET', 'k'], ['INFO']]) expect(ask(ip, REDIS_PORT, args, {})).toBe('NOAUTH Authentication required.');
      for (const args of [['PING'], ['SENTINEL', 'get-master-addr-by-name', 'mymaster']]) expect(ask(ip, SENTINEL_PORT, args, {})).toBe('NOAUTH Authentication required.');
    }
  });

  test('the client password runs applications\' commands, and none that reconfigure, stop, replicate, debug, load modules or flush', () => {
    const master = masterIp();
    expect(redisCli(master, REDIS_PORT, [], 'SET app:k v\nGET app:k\nPUBLISH news hi\n', client)).toBe('OK\nv\n0');
    expect(ask(master, REDIS_PORT, ['INFO', 'replication'], client)).toMatch(/^role:master$/m);
    expect(notRefused(master, REDIS_PORT, client, [
      ['CONFIG', 'SET', 'maxmemory', '1'], ['CONFIG', 'GET', 'dir'], ['SHUTDOWN', 'NOSAVE'], ['REPLICAOF', NOWHERE, '1'], ['SLAVEOF', NOWHERE, '1'],
      ['FLUSHALL'], ['FLUSHDB'], ['DEBUG', 'SLEEP', '0'], ['MODULE', 'LIST'], ['ACL', 'LIST'], ['PUBLISH', '__sentinel__:hello', 'x'],
      ['SUBSCRIBE', '__sentinel__:hello'], ['KEYS', '*'], ['MONITOR'], ['CLIENT', 'KILL', 'TYPE', 'normal'], ['SAVE'], ['FAILOVER'],
    ])).toEqual([]);
    expect(role(master)).toBe('master');
    // the sentinels: discovery only
    expect(ask(SERVICE, SENTINEL_PORT, ['SENTINEL', 'get-master-addr-by-name', 'mymaster'], client)).toBe(`${master}\n${REDIS_PORT}`);
    expect(ask(SERVICE, SENTINEL_PORT, ['SENTINEL', 'sentinels', 'mymaster'], client)).toContain('name');
    expect(ask(SERVICE, SENTINEL_PORT, ['SENTINEL', 'replicas', 'mymaster'], client)).toContain('name');
    for (const ip of IPS) {
      expect(notRefused(ip, SENTINEL_PORT, client, [
        ['SENTINEL', 'MONITOR', 'x', NOWHERE, '1', '1'], ['SENTINEL', 'SET', 'mymaster', 'quorum', '9'], ['SENTINEL', 'REMOVE', 'mymaster'],
        ['SENTINEL', 'FAILOVER', 'mymaster'], ['SENTINEL', 'RESET', '*'], ['SENTINEL', 'CONFIG', 'SET', 'resolve-hostnames', 'yes'],
        ['SENTINEL', 'FLUSHCONFIG'], ['SENTINEL', 'DEBUG'], ['SENTINEL', 'SIMULATE-FAILURE', 'crash-after-election'], ['SENTINEL', 'MASTER', 'mymaster'],
        ['SHUTDOWN'], ['PUBLISH', '__sentinel__:hello', 'x'], ['ACL', 'LIST'], ['CLIENT', 'KILL', 'TYPE', 'normal'], ['INFO'],
      ])).toEqual([]);
      expect(masterOf(ip)).toBe(master);
    }
    // CONFIG does not exist in Sentinel at all
    expect(ask(SERVICE, SENTINEL_PORT, ['CONFIG', 'SET', 'loglevel', 'debug'], client)).toMatch(/^ERR unknown command 'CONFIG'/);
  });

  test('the client may publish on every channel but Sentinel\'s, on the real server', () => {
    const master = masterIp();
    const samples = ['', '_', '__sentinel__', '__sentinel_:hello', '__Sentinel__:hello', 'x__sentinel__:hello', 'news', '__sentinel__:hello', '__sentinel__:', '__sentinel__:x'];
    const replies = samples.map((c) => [c, ask(master, REDIS_PORT, ['PUBLISH', c, 'x'], client).replace(/ .*/, '')]);
    expect(replies).toEqual(samples.map((c) => [c, c.startsWith(SENTINEL_CHANNEL_PREFIX) ? 'NOPERM' : '0']));
    // and the ACL shows the patterns as rendered
    expect(ask(master, REDIS_PORT, ['ACL', 'GETUSER', 'default'])).toContain(channelsExcept(SENTINEL_CHANNEL_PREFIX).map((p) => `&${p}`).join(' '));
  });

  test('the replication user can only replicate, and Sentinel\'s user can only do what Sentinel does', () => {
    const master = masterIp();
    const replication = { user: 'replication', password: secret['replication-password'] };
    expect(ask(master, REDIS_PORT, ['PING'], replication)).toBe('PONG');
    expect(notRefused(master, REDIS_PORT, replication, [
      ['GET', 'app:k'], ['SET', 'x', 'y'], ['INFO'], ['CONFIG', 'GET', 'dir'], ['KEYS', '*'], ['PUBLISH', 'news', 'x'], ['SUBSCRIBE', 'news'],
      ['MONITOR'], ['CLIENT', 'LIST'], ['REPLICAOF', 'NO', 'ONE'], ['FLUSHALL'], ['ACL', 'WHOAMI'],
    ])).toEqual([]);
    // (redis-cli handles SYNC and PSYNC itself: ask the server what it would do)
    expect(ask(master, REDIS_PORT, ['ACL', 'DRYRUN', 'replication', 'SYNC'])).toMatch(/^This user has no permissions to run the 'sync' command/);
    expect(ask(master, REDIS_PORT, ['ACL', 'DRYRUN', 'replication', 'PSYNC', '?', '-1'])).toBe('OK');
    // no such user on a sentinel
    expect(ask(SERVICE, SENTINEL_PORT, ['PING'], replication)).toBe('NOAUTH Authentication required.');
    const sentinel = { user: 'sentinel', password: secret['sentinel-password'] };
    expect(notRefused(master, REDIS_PORT, sentinel, [['GET', 'app:k'], ['SET', 'x', 'y'], ['CONFIG', 'SET', 'maxmemory', '1'], ['FLUSHALL'], ['SHUTDOWN']])
      .filter(([, reply]) => reply !== 'NOPERM')).toEqual([]);
    expect(notRefused(SERVICE, SENTINEL_PORT, sentinel, [['SENTINEL', 'SET', 'mymaster', 'quorum', '9'], ['SENTINEL', 'REMOVE', 'mymaster'], ['SENTINEL', 'MASTERS'], ['SHUTDOWN']])
      .filter(([, reply]) => reply !== 'NOPERM')).toEqual([]);
  });

  /** A hello as sentinels publish it, from an unknown sentinel, naming `newMaster` with a config epoch above any real one. */
  const forgedHello = (newMaster: string) => `${NOWHERE},${SENTINEL_PORT},${'f'.repeat(40)},1000,mymaster,${newMaster},${REDIS_PORT},1000`;

  test('a forged hello published with the client password is refused everywhere, and no sentinel changes its master', async () => {
    const master = masterIp();
    const hello = forgedHello(IPS.find((ip) => ip !== master)!);
    for (const ip of IPS) {
      expect(ask(ip, REDIS_PORT, ['PUBLISH', '__sentinel__:hello', hello], client)).toMatch(/^NOPERM/);
      expect(ask(ip, SENTINEL_PORT, ['PUBLISH', '__sentinel__:hello', hello], client)).toMatch(/^NOPERM/);
    }
    await new Promise((r) => setTimeout(r, 3000));
    expect(IPS.map(masterOf)).toEqual(IPS.map(() => master));
    expect(IPS.map((ip) => ask(ip, SENTINEL_PORT, ['SENTINEL', 'sentinels', 'mymaster']))).not.toContainEqual(expect.stringContaining(NOWHERE));
  });

  test('a password rotation with a writer running: no refused command, replication never breaks, and failover works on the new passwords', async () => {
    const next = randomSecret(settings);
    for (const p of Object.values(next)) passwords.add(p);
    const master = masterIp();
    const syncsBefore = ask(master, REDIS_PORT, ['INFO', 'stats']).match(/^sync_full:(\d+)/m)![1];
    const loaded = () => [...redis, ...sentinels].map((c) => (c.log().match(/loaded the passwords of Secret redis-auth into the running/g) ?? []).length);
    /** Writes every 20 ms through the sentinels with a client password; records every error. */
    const writer = (password: string) => {
      const errors: string[] = [];
      let writes = 0;
      const r = new Redis({ sentinels: [{ host: SERVICE, port: SENTINEL_PORT }], name: 'mymaster', password, sentinelPassword: password, lazyConnect: false });
      r.on('error', (e) => errors.push(`connection: ${e.message}`));
      const timer = setInterval(() => { r.incr('rotation').then(() => { writes++; }, (e) => errors.push(e.message)); }, 20);
      return { errors, writes: () => writes, stop: async () => { clearInterval(timer); await r.quit(); } };
    };
    /** The kubelet updates each pod's Secret in its own time. */
    const publish = async (files: SecretFiles) => {
      for (const pod of pods) { writeSecret(pod, files); await new Promise((r) => setTimeout(r, 400)); }
    };
    const step = async (n: number, files: SecretFiles) => {
      await publish(files);
      await until(`every container loaded the passwords of step ${n}`, () => loaded().every((count) => count >= n), 30);
    };
    const keys = Object.keys(secret);
    for (const ip of IPS) expect(ask(ip, REDIS_PORT, ['ACL', 'LOG', 'RESET'])).toBe('OK');

    const a = writer(secret['client-password']);
    await until('the writer writes', () => a.writes() > 10);
    // 1. add each new password as <key>-next: every server accepts both
    await step(1, { ...secret, ...Object.fromEntries(keys.map((k) => [`${k}-next`, next[k]])) });
    expect(redis[0].log()).toContain('(passwords per key: admin-password 2, client-password 2, replication-password 2, sentinel-password 2)');
    for (const ip of IPS) {
      for (const password of [secret['client-password'], next['client-password']]) {
        expect(ask(ip, REDIS_PORT, ['PING'], { password })).toBe('PONG');
        expect(ask(ip, SENTINEL_PORT, ['PING'], { password })).toBe('PONG');
      }
    }
    // 2. swap: the new ones under the keys, the old ones as <key>-next; applications move to the new password
    await step(2, { ...next, ...Object.fromEntries(keys.map((k) => [`${k}-next`, secret[k]])) });
    admin = { user: 'admin', password: next['admin-password'] };
    const b = writer(next['client-password']);
    await until('the new writer writes', () => b.writes() > 10);
    await a.stop();
    // 3. remove the old ones
    await step(3, next);
    await new Promise((r) => setTimeout(r, 1000));
    await b.stop();
    expect({ errors: [...a.errors, ...b.errors], writes: a.writes() > 0 && b.writes() > 0 }).toEqual({ errors: [], writes: true });
    client = { password: next['client-password'] };
    // nothing was refused by a server: no replica, sentinel or script failed to log in
    for (const ip of IPS) expect({ ip, log: ask(ip, REDIS_PORT, ['ACL', 'LOG']) }).toEqual({ ip, log: '' });
    for (const ip of IPS) {
      expect(ask(ip, REDIS_PORT, ['PING'], { password: secret['client-password'] })).toBe('NOAUTH Authentication required.');
      expect(ask(ip, SENTINEL_PORT, ['PING'], { password: secret['client-password'] })).toBe('NOAUTH Authentication required.');
      expect(ask(ip, REDIS_PORT, ['PING'], { user: 'admin', password: secret['admin-password'] })).toBe('NOAUTH Authentication required.');
      expect(ask(ip, REDIS_PORT, ['PING'], client)).toBe('PONG');
    }
    // the replicas never lost their link (no full resync)
    expect(ask(master, REDIS_PORT, ['INFO', 'stats']).match(/^sync_full:(\d+)/m)![1]).toBe(syncsBefore);

    // A swap without step 1 cannot be applied (the servers refuse the new admin password): the pod
    // says so and keeps its passwords, until the old one is back under its key
    const skipped = randomSecret(settings);
    passwords.add(skipped['admin-password']);
    writeSecret(pods[1], { ...next, 'admin-password': skipped['admin-password'] });
    await until('the pod reports the skipped step', () =>
      new RegExp(`Secret redis-auth changed, but the redis keeps its passwords: ${IPS[1]}:${REDIS_PORT} replied .*NOAUTH`).test(redis[1].log())
      && new RegExp(`Secret redis-auth changed, but the sentinel keeps its passwords: ${IPS[1]}:${SENTINEL_PORT} replied .*NOAUTH`).test(sentinels[1].log()));
    expect(ask(IPS[1], REDIS_PORT, ['PING'], client)).toBe('PONG');
    // (the servers still run with these, so nothing needs applying: the refusals just stop)
    writeSecret(pods[1], next);
    await new Promise((r) => setTimeout(r, 1500));
    const since = [redis[1].log().length, sentinels[1].log().length];
    await new Promise((r) => setTimeout(r, 3000));
    expect([redis[1].log().slice(since[0]), sentinels[1].log().slice(since[1])].join('')).not.toMatch(/refused|keeps its passwords/);

    // WHEN the master dies, the sentinels (talking to each other and to the Redis servers on the new
    // passwords) fail over, and the other replica replicates from the new master (new masterauth)
    const dead = redis[IPS.indexOf(master)];
    process.kill(-dead.proc.pid!, 'SIGKILL');
    await until('a new master', () => IPS.every((ip) => ip === master || masterOf(ip) !== master) && IPS.some((ip) => ip !== master && role(ip) === 'master'), 30);
    const promoted = masterIp();
    const other = IPS.find((ip) => ip !== master && ip !== promoted)!;
    await until('the other replica follows the new master', () => linkedTo(promoted, ask(other, REDIS_PORT, ['INFO', 'replication'])), 30);
    // AND the dead pod's Redis comes back (the container restarts) as a replica, on the new passwords
    redis[IPS.indexOf(master)] = loop.start(pods[IPS.indexOf(master)], master === SERVICE ? { MASTER: 'true' } : {});
    await until('the restarted Redis replicates', () => /master_link_status:up/.test(ask(master, REDIS_PORT, ['INFO', 'replication'])), 40);
  }, 180000);

  test('no password in any command line, environment or log of the servers, redis-cli and the scripts, and the files holding them are 0600', () => {
    const hexOf = (p: string) => Buffer.from(p).toString('hex');
    const found = (text: string) => [...passwords].filter((p) => text.includes(p) || text.includes(hexOf(p)));
    // what every shimmed process saw (the counts prove the shims ran)
    const logs = readdirSync(shimLogs).map((f) => readFileSync(join(shimLogs, f), 'utf8'));
    const argvs = logs.flatMap((l) => l.split('\n').filter((x) => x.startsWith('argv ')));
    expect(argvs.filter((l) => l.split(' ')[1].endsWith('/redis-server')).length).toBeGreaterThanOrEqual(3);
    expect(argvs.filter((l) => l.split(' ')[1].endsWith('/redis-sentinel')).length).toBeGreaterThanOrEqual(3);
    expect(logs.filter((l) => found(l).length > 0)).toEqual([]);
    expect(argvs.filter((l) => l.split(' ')[1].endsWith('/redis-cli')).length).toBeGreaterThan(50);
    // what /proc shows of every live process of the pods (servers, scripts, timeout and redis-cli)
    const groups = new Set(loop.pods.flatMap((p) => p.procs.map((c) => c.pid)));
    const live = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((pid) => {
      try { return groups.has(Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[2])); } catch { return false; }
    });
    expect(live.length).toBeGreaterThanOrEqual(6);
    for (const pid of live) {
      try {
        expect({ pid, found: found(readFileSync(`/proc/${pid}/cmdline`, 'latin1') + readFileSync(`/proc/${pid}/environ`, 'latin1')) }).toEqual({ pid, found: [] });
      } catch (e) { if (!/ENOENT|ESRCH/.test(String(e))) throw e; }
    }
    // the containers' logs
    for (const c of [...redis, ...sentinels]) expect(found(c.log())).toEqual([]);
    // the files: 0600, and Sentinel's own rewrites too
    for (const pod of pods) {
      for (const file of [join(pod.runDir, 'users.acl'), join(pod.runDir, 'auth.conf'), join(pod.dir, 'sentinel', 'sentinel.conf')]) {
        expect({ file, mode: (statSync(file).mode & 0o777).toString(8) }).toEqual({ file, mode: '600' });
      }
      expect(readFileSync(join(pod.dir, 'sentinel', 'sentinel.conf'), 'utf8')).toContain('# Generated by CONFIG REWRITE');
      expect(readdirSync(pod.runDir).sort()).toEqual(['auth.conf', 'users.acl']);
    }
  });

  test('control: the same forged hello from a user that may publish it does switch every sentinel, so the refusal above is the ACL\'s doing', async () => {
    const master = masterIp();
    const target = IPS.find((ip) => ip !== master)!;
    expect(ask(master, REDIS_PORT, ['PUBLISH', '__sentinel__:hello', forgedHello(target)])).toMatch(/^[1-9]/);
    await until('every sentinel names the forged master', () => IPS.every((ip) => masterOf(ip) === target), 5);
  });
});
