// The entry scripts on real redis-server and redis-sentinel processes, on loopback. Each "pod" is a
// loopback address (<NET>.2, .3, ...: a /24 of 127.0.0.0/8 picked at random for the run, so that
// another run on the machine does not share them): its Redis and Sentinel bind to it, and the
// sentinel "Service" is the bootstrap pod's sentinel address. Nothing leaves the machine.
import { spawn } from 'child_process';
import { Server } from 'net';
import { existsSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { Duration } from 'cdk8s';
import { resolveSettings } from '../src';
import { SENTINEL_PLACEHOLDERS } from '../src/redis-config';
import { connectedClient, describeIfRedis, linkedTo, Loopback, loopbackNet, randomSecret, rawCli, redisCli as cliAs, resp, respServer, SecretFiles, until, writeSecret } from './helpers/loopback';

const NET = loopbackNet();
const REDIS_PORT = 16379;
const SENTINEL_PORT = 26380;
const SERVICE = `${NET}.2`; // the bootstrap pod's sentinel stands in for the sentinel Service

describeIfRedis('entry scripts on real Redis processes (loopback)', () => {
  const settings = resolveSettings({ redisPort: REDIS_PORT, sentinelPort: SENTINEL_PORT, discoveryTimeout: Duration.seconds(20) });
  /** Faster than a pod's pacing, so the test takes seconds. */
  const pacing = { RETRY_SECONDS: 1, FOLLOW_INTERVAL_SECONDS: 1, AUTH_WATCH_SECONDS: 1 };
  /** The Secret: random passwords, the admin's and the replication user's with every character a shell or a config file could trip on. */
  const secret: SecretFiles = randomSecret(settings);
  secret['admin-password'] += ` a'b"c\\d $(id) \`id\` %s é;*`;
  secret['replication-password'] += ' "quoted" \'single\' \\x41';
  const admin = { user: 'admin', password: secret['admin-password'] };
  let loop: Loopback;

  const makePod = (ip: string, options: Parameters<Loopback['makePod']>[1] = {}) => loop.makePod(ip, { secret, ...options });
  const start = (pod: Parameters<Loopback['start']>[0], env: Record<string, string>) => loop.start(pod, env);
  /** redis-cli as the admin. */
  const redisCli = (ip: string, port: number, args: string[], input?: string): string => cliAs(ip, port, args, input, admin);
  const cli = (ip: string, port: number, ...args: string[]): string => redisCli(ip, port, args);
  /** For polling: '' while the server does not answer. */
  const ask = (ip: string, port: number, ...args: string[]): string => { try { return cli(ip, port, ...args); } catch { return ''; } };

  const role = (ip: string) => (ask(ip, REDIS_PORT, 'INFO', 'replication').match(/^role:(\w+)/m) ?? [])[1];
  /** A Redis that still decides whom to follow: a replica of port 0. */
  const waiting = (ip: string) => /^role:slave\r?\n[\s\S]*^master_port:0\r?$/m.test(ask(ip, REDIS_PORT, 'INFO', 'replication'));
  const monitored = (ip: string) => ask(ip, SENTINEL_PORT, 'SENTINEL', 'get-master-addr-by-name', 'mymaster').split('\n')[0];

  beforeAll(() => { loop = new Loopback({ settings, render: { sentinelHost: SERVICE, pacing } }); });
  afterAll(async () => { await loop.cleanup(); });

  test('bootstrap, a replica and a sentinel find the master through the "service"; a second bootstrap master joins it', async () => {
    // GIVEN the bootstrap pod: nobody answers at the service address yet
    const redisPods = { peerHosts: [`${NET}.2`, `${NET}.3`, `${NET}.5`] };
    const boot = makePod(`${NET}.2`, redisPods);
    const master = start(boot, { MASTER: 'true' });
    const bootSentinel = start(boot, { SENTINEL: 'true' });
    await until('the bootstrap Redis is a master', () => role(boot.ip) === 'master');
    expect(master.log()).toContain(`no sentinel answered at ${NET}.2`);
    expect(master.log()).toContain('this is a new cluster, starting as its first master');
    await until('the bootstrap sentinel monitors it', () => monitored(boot.ip) === boot.ip);
    await until('the sentinel logs +monitor master', () => bootSentinel.log().includes(`+monitor master mymaster ${NET}.2`));

    // WHEN a controller's Redis pod and sentinel pod start
    const replicaPod = makePod(`${NET}.3`, redisPods);
    const replica = start(replicaPod, {});
    const sentinelPod = makePod(`${NET}.4`);
    start(sentinelPod, { SENTINEL: 'true' });

    // THEN the replica replicates from the master and the sentinel monitors the same master
    await until('the replica is linked to the master', () => linkedTo(boot.ip, ask(replicaPod.ip, REDIS_PORT, 'INFO', 'replication')));
    expect(replica.log()).toContain(`replicating from master ${NET}.2:16379 (found through the sentinels: config epoch 0, 1 answered)`);
    await until('the new sentinel monitors the master', () => monitored(sentinelPod.ip) === boot.ip);
    await until('the sentinels know each other', () => /num-other-sentinels\n1/.test(ask(boot.ip, SENTINEL_PORT, 'SENTINEL', 'master', 'mymaster')));
    // Two of the three sentinels name it: a majority, so it takes writes (no fence).
    await until('the master takes writes', () => ask(boot.ip, REDIS_PORT, 'SET', 'k', 'v') === 'OK');
    // SET and WAIT on one connection: WAIT on a connection of its own would count no write and
    // return at once, and the GET below could run before the replica had the key.
    expect(redisCli(boot.ip, REDIS_PORT, [], 'SET k v\nWAIT 1 5000\n')).toBe('OK\n1');
    expect(cli(replicaPod.ip, REDIS_PORT, 'GET', 'k')).toBe('v');

    // WHEN the bootstrap pod is applied again next to the running cluster
    const again = makePod(`${NET}.5`, redisPods);
    const secondBoot = start(again, { MASTER: 'true' });

    // THEN it joins the live master as a replica and says so: never a second, empty master
    await until('the re-applied bootstrap Redis is a replica of the master', () => role(again.ip) === 'slave' && linkedTo(boot.ip, ask(again.ip, REDIS_PORT, 'INFO', 'replication')));
    expect(secondBoot.log()).toContain(`the sentinels already know a live master of mymaster at ${NET}.2:16379: joining it as a replica instead of starting a second master`);
    await until('it has the data', () => ask(again.ip, REDIS_PORT, 'GET', 'k') === 'v');
    expect([boot, replicaPod, again].map((p) => role(p.ip))).toEqual(['master', 'slave', 'slave']);

    // WHEN a replica is left on a master that is gone (it joined a pod that was shutting down)
    expect(cli(again.ip, REDIS_PORT, 'REPLICAOF', `${NET}.77`, String(REDIS_PORT))).toBe('OK');
    // THEN it follows the master the sentinels name
    await until('the stranded replica follows the sentinels', () => secondBoot.log().includes(
      `this replica follows ${NET}.77:16379 (link down): replicating from ${NET}.2:16379`));
    await until('it is linked again', () => linkedTo(boot.ip, ask(again.ip, REDIS_PORT, 'INFO', 'replication')));

    // WHEN a Redis becomes a master that the sentinels do not name (a cut-off old master), with a
    // client connected to it
    const { closed: dropped } = await connectedClient(again.ip, REDIS_PORT, admin.user, admin.password);
    expect(cli(again.ip, REDIS_PORT, 'REPLICAOF', 'NO', 'ONE')).toBe('OK');
    const deposed = Date.now();
    // THEN it steps down at once to a replica of the master they name, and drops its clients
    await until('the second master steps down', () => secondBoot.log().includes(
      `this Redis is a master but the sentinels name the live master ${NET}.2:16379 (config epoch 0`), 5);
    await until('it replicates again', () => role(again.ip) === 'slave', 5);
    expect(Date.now() - deposed).toBeLessThan(3000);
    expect(await Promise.race([dropped.then(() => 'dropped'), new Promise((r) => setTimeout(() => r('still connected'), 3000))])).toBe('dropped');
    expect(role(boot.ip)).toBe('master');
  }, 120000);

  test('a sentinel stuck on a dead master restarts its redis-sentinel afresh on the live master, in the same container', async () => {
    // GIVEN a live master and its sentinel, which stands in for the sentinel Service
    const service = `${NET}.11`;
    const boot = makePod(service, { sentinelHost: service });
    start(boot, { MASTER: 'true' });
    start(boot, { SENTINEL: 'true' });
    await until('the master is monitored', () => monitored(service) === service);
    // AND a sentinel pod whose config from an earlier run monitors a master that is gone
    const pod = makePod(`${NET}.12`, { sentinelHost: service, pacing: { ...pacing, JANITOR_INTERVAL_SECONDS: 1 } });
    const saved = join(pod.dir, 'sentinel', 'sentinel.conf');
    writeFileSync(saved, readFileSync(join(pod.dir, 'config', 'sentinel.conf'), 'utf8')
      .replace(SENTINEL_PLACEHOLDERS.masterHost, `${NET}.77`)
      .replace(SENTINEL_PLACEHOLDERS.masterPort, String(REDIS_PORT))
      .replace(SENTINEL_PLACEHOLDERS.announceIp, pod.ip));

    // WHEN it starts
    const stuck = start(pod, { SENTINEL: 'true' });

    // THEN after two janitor rounds with its master down while another sentinel names the live
    // one, the supervisor restarts redis-sentinel on a fresh discovery: the container keeps running
    await until('the sentinel monitors the live master', () => monitored(pod.ip) === service, 40);
    expect(stuck.log()).toContain('reusing');
    expect(stuck.log()).toContain(`the master this sentinel monitors has been down for over 2s while the sentinels name the live master ${service}:${REDIS_PORT} (config epoch 0): restarting the sentinel with a fresh discovery`);
    expect(stuck.log()).toContain(`monitoring master mymaster at ${service}:${REDIS_PORT} with quorum 2`);
    expect(stuck.proc.exitCode).toBeNull();
    expect(readFileSync(saved, 'utf8')).not.toContain(`${NET}.77`);
  }, 60000);

  test('a sentinel finds no master and says so, within its bound', async () => {
    // the sentinel "Service" is its own address, where nothing answers yet
    const lonely = makePod(`${NET}.9`, { sentinelHost: `${NET}.9`, discoveryTimeoutSeconds: 2 });
    const s = start(lonely, { SENTINEL: 'true' });
    const code = await new Promise<number | null>((r) => s.proc.on('exit', r));
    expect(code).toBe(1);
    expect(s.log()).toContain(`no live master of mymaster found through the sentinels (${NET}.9:26380) or the Redis pods (redis-headless) (attempt 1); retrying in 1s`);
    expect(s.log()).toContain('giving up after 2s: found no live master of mymaster; look at the Redis pods: kubectl logs -l name=redis');
  }, 30000);

  test('a pod waits for its Secret: it says once which Secret and how to create it, then starts when it appears', async () => {
    // GIVEN a bootstrap pod whose Secret does not exist yet (the volume is optional: an empty dir)
    const pod = makePod(`${NET}.20`, { sentinelHost: `${NET}.20`, secret: undefined });
    const master = start(pod, { MASTER: 'true' });
    // WHEN it has waited a few rounds
    await new Promise((r) => setTimeout(r, 3500));
    // THEN it is still running, said once what it waits for and how to make it, and nothing listens yet
    expect(master.proc.exitCode).toBeNull();
    const waiting = master.log().split('\n').filter((l) => l.includes('waiting for Secret'));
    expect(waiting).toHaveLength(1);
    expect(waiting[0]).toContain(`waiting for Secret redis-auth: key admin-password is missing in ${pod.authDir}. To create it, run the launch script`);
    expect(waiting[0]).toContain('kubectl create secret generic redis-auth --from-file=client-password=./client-password --from-file=replication-password=./replication-password');
    expect(rawCli(pod.ip, REDIS_PORT, ['PING']).err).toContain('Connection refused');
    // WHEN the Secret appears (the kubelet fills the volume)
    writeSecret(pod, secret);
    // THEN it says so and starts, with the Secret's passwords
    await until('the Redis is a master', () => role(pod.ip) === 'master');
    expect(master.log()).toContain('found Secret redis-auth');
    expect(rawCli(pod.ip, REDIS_PORT, ['PING']).out).toBe('NOAUTH Authentication required.');
  }, 30000);

  test('a Secret with a password that ends in a newline is not used, and the pod says why', async () => {
    const pod = makePod(`${NET}.21`, { sentinelHost: `${NET}.21`, secret: { ...secret, 'client-password-next': 'echoed\n' } });
    const master = start(pod, { MASTER: 'true' });
    await until('the pod says why it waits', () => master.log().includes(
      'waiting for Secret redis-auth: key client-password-next holds a newline (write each password without one, e.g. with printf %s)'));
    writeSecret(pod, secret);
    await until('the Redis is a master', () => role(pod.ip) === 'master');
  }, 30000);

  test('a pod follows only our own servers: not a Redis without our passwords, nor one that takes any password', async () => {
    // GIVEN a master and its sentinel (the "service")
    const service = `${NET}.30`;
    const boot = makePod(service, { sentinelHost: service });
    const master = start(boot, { MASTER: 'true' });
    start(boot, { SENTINEL: 'true' });
    await until('the master is monitored', () => monitored(service) === service);
    // AND two impostors: a plain Redis, and a server that says OK to every password and role:master to INFO
    const impostor = spawn('redis-server', ['--port', String(REDIS_PORT), '--bind', `${NET}.39`, '--save', '', '--appendonly', 'no'], { detached: true, stdio: 'ignore' });
    const fake = await acceptAnything(`${NET}.38`, REDIS_PORT);
    try {
      await until('the plain impostor answers', () => rawCli(`${NET}.39`, REDIS_PORT, ['PING']).out === 'PONG');
      for (const host of [`${NET}.39`, `${NET}.38`]) {
        // WHEN someone with the admin password makes the sentinels name the impostor (the attack)
        expect(redisCli(service, SENTINEL_PORT, [], `SENTINEL REMOVE mymaster\nSENTINEL MONITOR mymaster ${host} ${REDIS_PORT} 1\n`)).toBe('OK\nOK');
        // THEN the master never steps down to it, however many checks name it, and says why
        await until(`the master refuses ${host}`, () => master.log().includes(`${host}:${REDIS_PORT} answers but is not one of ours (it must accept the admin password of Secret redis-auth and refuse a wrong one): not following it`));
        await new Promise((r) => setTimeout(r, 5000));
        expect(role(service)).toBe('master');
        expect(master.log()).not.toContain('stepping down');
      }
      // AND a new replica does not replicate from it either
      const replica = start(makePod(`${NET}.31`, { sentinelHost: service }), {});
      await until('the new replica refuses the impostor', () => replica.log().includes(`${NET}.38:16379 answers but is not one of ours`));
      expect(waiting(`${NET}.31`)).toBe(true);
      expect(fake.commands.filter((c) => /^(REPLICAOF|SLAVEOF|PSYNC|SYNC)$/i.test(c[0]))).toEqual([]);
    } finally {
      impostor.kill('SIGKILL');
      fake.server.close();
    }
  }, 60000);

  test('a pod whose admin password the others refuse says so, and follows nobody', async () => {
    const service = `${NET}.30`; // the cluster of the test above
    const stranger = start(makePod(`${NET}.33`, { sentinelHost: service, secret: { ...secret, 'admin-password': 'not-the-admin-password' } }), {});
    await until('it reports the refusal', () => stranger.log().includes(
      `${service}:${SENTINEL_PORT} refused user admin with the password in key admin-password of Secret redis-auth: a rotation skipped a step (docs/security.md), or this is not one of our servers`));
    expect(role(`${NET}.33`)).toBeUndefined();
  }, 30000);

  test('with auth: false everything works as before, without a password', async () => {
    const open = resolveSettings({ redisPort: REDIS_PORT, sentinelPort: SENTINEL_PORT, discoveryTimeout: Duration.seconds(20), auth: false });
    const service = `${NET}.40`;
    const boot = makePod(service, { settings: open, sentinelHost: service, secret: undefined });
    start(boot, { MASTER: 'true' });
    start(boot, { SENTINEL: 'true' });
    // two of the three sentinels: a majority names the master, which therefore takes writes
    start(makePod(`${NET}.42`, { settings: open, sentinelHost: service, secret: undefined }), { SENTINEL: 'true' });
    const replica = makePod(`${NET}.41`, { settings: open, sentinelHost: service, secret: undefined });
    start(replica, {});
    const plain = (ip: string, port: number, ...args: string[]) => rawCli(ip, port, args).out;
    await until('the sentinel monitors the master', () => plain(service, SENTINEL_PORT, 'SENTINEL', 'get-master-addr-by-name', 'mymaster').startsWith(service));
    await until('the replica is linked', () => /master_link_status:up/.test(plain(replica.ip, REDIS_PORT, 'INFO', 'replication')));
    await until('the master takes writes', () => plain(service, REDIS_PORT, 'SET', 'k', 'v') === 'OK');
    await until('the replica has the key', () => plain(replica.ip, REDIS_PORT, 'GET', 'k') === 'v');
    expect(readFileSync(join(boot.dir, 'config', 'redis.conf'), 'utf8')).not.toMatch(/include|protected-mode yes/);
    expect(existsSync(join(boot.runDir, 'auth.conf'))).toBe(false);
  }, 60000);
});

/** A server that answers OK to every command and `role:master` to INFO, and records the commands. */
async function acceptAnything(host: string, port: number): Promise<{ server: Server; commands: string[][] }> {
  const commands: string[][] = [];
  const server = await respServer(host, port, (args) => {
    commands.push(args);
    return /^info$/i.test(args[0]) ? resp.bulk('role:master\r\n') : resp.ok;
  });
  return { server, commands };
}
