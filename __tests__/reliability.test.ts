// Issue 8 on real redis-server and redis-sentinel processes, on loopback: the founding state
// machine, the follow rule and its config-epoch authority, the fence, pruning instead of SENTINEL
// RESET, and the preStop handover (docs/state-machine.md). Each test builds its own "pods" on its
// own loopback addresses (127.0.N.x), with a Redis and a sentinel each unless it says otherwise,
// and a fast pacing: down-after 2 s, so a failover takes seconds.
import { Duration } from 'cdk8s';
import Redis from 'ioredis';
import { Server } from 'net';
import { resolveSettings } from '../src';
import { connectedClient, Container, describeIfRedis, Loopback, Pod, randomSecret, rawCli, resp, respServer, SecretFiles, until } from './helpers/loopback';

const REDIS_PORT = 16579;
const SENTINEL_PORT = 26579;
const DOWN_AFTER_MS = 2000;

describeIfRedis('reliability on real Redis processes (loopback)', () => {
  const settings = resolveSettings({
    redisPort: REDIS_PORT, sentinelPort: SENTINEL_PORT, downAfter: Duration.millis(DOWN_AFTER_MS),
    failoverTimeout: Duration.seconds(6), discoveryTimeout: Duration.seconds(40),
  });
  const pacing = { RETRY_SECONDS: 1, FOLLOW_INTERVAL_SECONDS: 1, JANITOR_INTERVAL_SECONDS: 1, PRUNE_AFTER_SECONDS: 3 };
  const secret: SecretFiles = randomSecret(settings);
  const admin = { user: 'admin', password: secret['admin-password'] };
  const client = { password: secret['client-password'] };
  let loop: Loopback;
  const servers: Server[] = [];

  beforeAll(() => { loop = new Loopback({ settings, render: { pacing } }); });
  afterAll(async () => {
    for (const s of servers) s.close();
    await loop.cleanup();
  });

  const ask = (ip: string, port: number, ...args: string[]) => rawCli(ip, port, args, '', admin).out;
  const info = (ip: string) => ask(ip, REDIS_PORT, 'INFO', 'replication');
  const role = (ip: string) => (info(ip).match(/^role:(\w+)/m) ?? [])[1];
  const masterHost = (ip: string) => (info(ip).match(/^master_host:(\S+)/m) ?? [])[1];
  const linked = (ip: string, master: string) => masterHost(ip) === master && /^master_link_status:up/m.test(info(ip));
  const named = (sentinel: string) => ask(sentinel, SENTINEL_PORT, 'SENTINEL', 'get-master-addr-by-name', 'mymaster').split('\n')[0];
  const sentinelField = (sentinel: string, key: string) => {
    const lines = ask(sentinel, SENTINEL_PORT, 'SENTINEL', 'master', 'mymaster').split('\n');
    return lines[lines.indexOf(key) + 1];
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  interface Cluster { ips: string[]; pods: Pod[]; redis: Container[]; sentinels: Container[] }

  /**
   * Pods at `${net}.2`, `.3`, ...: the first is the bootstrap pod (MASTER=true); each runs a Redis
   * and a sentinel; the first pod's sentinel stands in for the sentinel Service, and the Redis pods
   * are each other's peers. Resolves once one master is named by every sentinel, every replica is
   * linked to it and it takes writes.
   */
  async function launch(net: string, n = 3): Promise<Cluster> {
    const ips = Array.from({ length: n }, (_, i) => `${net}.${i + 2}`);
    const pods = ips.map((ip) => loop.makePod(ip, { secret, sentinelHost: ips[0], peerHosts: ips }));
    const redis = pods.map((p, i) => loop.start(p, i === 0 ? { MASTER: 'true' } : {}));
    const sentinels = pods.map((p) => loop.start(p, { SENTINEL: 'true' }));
    const c = { ips, pods, redis, sentinels };
    await healthy(c, ips[0]);
    return c;
  }

  /** One master (`master` when given), named by every live sentinel, every other Redis linked to it, and it takes writes. */
  async function healthy(c: Cluster, master?: string, seconds = 40): Promise<string> {
    let m = master;
    await until('the cluster is healthy', () => {
      m = master ?? c.ips.find((ip) => role(ip) === 'master');
      return m !== undefined && c.ips.every((ip) => ip === m || linked(ip, m!))
        && c.sentinels.every((s, i) => s.proc.exitCode !== null || named(c.ips[i]) === m)
        && rawCli(m, REDIS_PORT, ['SET', 'healthy', '1'], '', client).out === 'OK';
    }, seconds);
    return m!;
  }

  /**
   * A Sentinel-aware writer, as an application: SET then WAIT 1 on one connection, written as one
   * pipeline so that a reconnect cannot send the WAIT alone (a WAIT after no write counts every
   * replica). A key is acknowledged when WAIT reports a replica.
   */
  function writer(sentinel: string, prefix: string) {
    const r = new Redis({
      sentinels: [{ host: sentinel, port: SENTINEL_PORT }], name: 'mymaster', ...client, sentinelPassword: client.password,
      connectTimeout: 1000, maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false, retryStrategy: () => 50, sentinelRetryStrategy: () => 50,
    });
    r.on('error', () => { /* counted per command */ });
    const acked: string[] = [];
    const errors: Array<{ at: number; message: string }> = [];
    const okAt: number[] = [];
    let stop = false;
    const done = (async () => {
      for (let i = 0; !stop; i++) {
        const key = `${prefix}:${i}`;
        try {
          const [[e1], [e2, n]] = (await r.pipeline().set(key, String(i)).call('WAIT', '1', '1000').exec())! as Array<[Error | null, unknown]>;
          if (e1 || e2) throw e1 ?? e2;
          if (Number(n) >= 1) { acked.push(key); okAt.push(Date.now()); }
        } catch (e) {
          errors.push({ at: Date.now(), message: (e as Error).message });
          await sleep(20);
        }
        await sleep(5);
      }
    })();
    return {
      acked, errors, okAt,
      stop: async () => { stop = true; await done; r.disconnect(); },
    };
  }

  /** The acknowledged keys that the master `m` does not hold. */
  function missing(m: string, keys: string[]): string[] {
    const lost: string[] = [];
    for (let i = 0; i < keys.length; i += 200) {
      const batch = keys.slice(i, i + 200);
      const values = rawCli(m, REDIS_PORT, ['MGET', ...batch], '', client).out.split('\n');
      batch.forEach((k, j) => { if (values[j] === '' || values[j] === undefined) lost.push(k); });
    }
    return lost;
  }

  test('the epoch rule: a sentinel that missed a failover does not demote the new master; a deposed master steps down at once and drops its clients', async () => {
    // GIVEN three Redis pods and three sentinel pods. The Redis pods' "Service" is a fake sentinel
    // that lists the real ones; it names nothing for now.
    const net = '127.0.2';
    const ips = [`${net}.2`, `${net}.3`, `${net}.4`];
    const sentinelIps = [`${net}.12`, `${net}.13`, `${net}.14`];
    const fake = `${net}.20`;
    const view: { master?: string; epoch: number } = { epoch: 0 };
    servers.push(await fakeSentinel(fake, view, sentinelIps));
    const pods = ips.map((ip) => loop.makePod(ip, { secret, sentinelHost: fake, peerHosts: ips }));
    const redis = pods.map((p, i) => loop.start(p, i === 0 ? { MASTER: 'true' } : {}));
    const sentinels = sentinelIps.map((ip) => loop.start(loop.makePod(ip, { secret, sentinelHost: sentinelIps[0], peerHosts: ips }), { SENTINEL: 'true' }));
    const c = { ips, pods, redis, sentinels };
    await until('every sentinel monitors the bootstrap master', () => sentinelIps.every((s) => named(s) === ips[0]), 40);
    await until('the replicas follow it', () => ips.slice(1).every((ip) => linked(ip, ips[0])), 30);
    // AND a live master of ours outside the cluster (it founded a cluster of its own): what a
    // sentinel that missed a failover could name
    const old = `${net}.9`;
    loop.start(loop.makePod(old, { secret, sentinelHost: `${net}.99`, peerHosts: [] }), { MASTER: 'true' });
    await until('the outside master is a master', () => role(old) === 'master');

    // WHEN the sentinels fail over (config epoch 1)
    // (a sentinel has a replica to promote once it has its INFO: retry until it does)
    await until('a sentinel starts a failover', () => ask(sentinelIps[0], SENTINEL_PORT, 'SENTINEL', 'FAILOVER', 'mymaster') === 'OK', 20);
    await until('a replica is promoted and named by every sentinel', () => sentinelIps.every((s) => named(s) !== ips[0] && named(s) === named(sentinelIps[0])), 30);
    const promoted = named(sentinelIps[0]);
    await until('the old master follows the new one', () => linked(ips[0], promoted), 20);
    const promotedLog = redis[ips.indexOf(promoted)];
    // AND the Service's sentinel names the live outside master with the epoch from before the
    // failover, at every check (the race that the 30-strike rule guarded)
    Object.assign(view, { master: old, epoch: 0 });
    await sleep(6000);

    // THEN the new master stays master and its replicas stay with it: config epoch 1 outvotes 0
    expect(role(promoted)).toBe('master');
    for (const ip of ips) if (ip !== promoted) expect(masterHost(ip)).toBe(promoted);
    expect(promotedLog.log()).not.toContain('stepping down to its replica');
    // (while the leader waited for the promoted replica to report itself master, every sentinel
    // still named the old master, with epoch 0: the promoted replica waited rather than step down)
    expect(promotedLog.log()).toContain('but one of them is promoting a replica: not stepping down while it does');
    expect(sentinelField(sentinelIps[0], 'config-epoch')).toBe('1');

    // WHEN (control) that sentinel names the outside master with a higher epoch than the others
    // do, the new master is deposed: it steps down at once and drops its clients
    const { closed } = await connectedClient(promoted, REDIS_PORT, admin.user, admin.password);
    Object.assign(view, { epoch: 7 });
    const deposed = Date.now();
    await until('the deposed master steps down', () => role(promoted) === 'slave' && masterHost(promoted) === old, 5);
    const stepDownMs = Date.now() - deposed;
    expect(await Promise.race([closed.then(() => 'dropped'), sleep(2000).then(() => 'still connected')])).toBe('dropped');
    expect(promotedLog.log()).toContain(`this Redis is a master but the sentinels name the live master ${old}:${REDIS_PORT} (config epoch 7`);
    console.log(`epoch rule: 6 s of a stale sentinel named ${old} at epoch 0, the master ${promoted} (epoch 1) stayed; deposed at epoch 7, it stepped down in ${stepDownMs} ms`);
    expect(stepDownMs).toBeLessThan(3000);
    for (const s of c.sentinels) loop.kill(s);
    for (const r of c.redis) loop.kill(r);
  }, 120000);

  test('a frozen master: the sentinels fail over, its replicas leave it, it steps down when it resumes, and no acknowledged write is lost', async () => {
    // GIVEN three pods, a Sentinel-aware writer, and writers connected straight to the master (the
    // clients still connected to it when it freezes), each SET acknowledged by WAIT 1
    const c = await launch('127.0.3');
    const report: string[] = [];
    const all: string[] = [];
    for (const round of [1, 2]) { // right after the launch, then again after that failover
      const old = await healthy(c);
      const app = writer(c.ips[0], `app${round}`);
      const stale = [0, 1, 2].map((i) => directWriter(old, `stale${round}.${i}`));
      await sleep(1000);
      // WHEN the master's container freezes (every process of it stopped) for 4 x down-after
      const frozen = c.redis[c.ips.indexOf(old)];
      loop.freeze(frozen);
      const frozenAt = Date.now();
      const promoted = await untilValue('a replica is promoted', () => c.ips.find((ip) => ip !== old && role(ip) === 'master'), 20);
      const promotedAt = Date.now();
      await sleep(4 * DOWN_AFTER_MS - (promotedAt - frozenAt));
      loop.thaw(frozen);
      const thawedAt = Date.now();
      // THEN it steps down as soon as it resumes, and the cluster is healthy on the promoted master
      await until('the old master steps down', () => role(old) === 'slave', 10);
      const steppedDownMs = Date.now() - thawedAt;
      await healthy(c, promoted, 30);
      await sleep(1000);
      await app.stop();
      const staleAcked = (await Promise.all(stale.map((w) => w.stop()))).flat();
      // AND every acknowledged write is on the new master: the stale clients had none acknowledged
      // after the promotion, and none of theirs is lost either
      const afterPromotion = staleAcked.filter((w) => w.at > promotedAt);
      expect(missing(promoted, [...app.acked, ...staleAcked.map((w) => w.key)])).toEqual([]);
      expect(afterPromotion).toEqual([]);
      expect(frozen.log()).toContain(`this Redis is a master but the sentinels name the live master ${promoted}:${REDIS_PORT}`);
      all.push(...app.acked);
      report.push(`round ${round}: ${old} frozen ${thawedAt - frozenAt} ms, ${promoted} promoted after ${promotedAt - frozenAt} ms, old master stepped down ${steppedDownMs} ms after it resumed; `
        + `${app.acked.length} acknowledged through the sentinels, ${staleAcked.length} by the clients on the old master (${afterPromotion.length} after the promotion), 0 lost`);
    }
    console.log(`frozen master:\n${report.join('\n')}`);
    expect(missing(await healthy(c), all)).toEqual([]);
    for (const x of [...c.sentinels, ...c.redis]) loop.kill(x);
  }, 150000);

  /**
   * Writers connected straight to one master, as clients that connected before it froze: SET then
   * WAIT 1 (one pipeline), several at once; they stop when the master drops them.
   */
  function directWriter(host: string, prefix: string) {
    const r = new Redis({ host, port: REDIS_PORT, ...client, maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false, retryStrategy: () => null });
    r.on('error', () => { /* it ends when the master drops it */ });
    const acked: Array<{ key: string; at: number }> = [];
    const errors: string[] = [];
    let stop = false;
    const done = (async () => {
      for (let i = 0; !stop && r.status !== 'end'; i++) {
        const key = `${prefix}:${i}`;
        try {
          const [[e1], [e2, n]] = (await r.pipeline().set(key, String(i)).call('WAIT', '1', '500').exec())! as Array<[Error | null, unknown]>;
          if (!e1 && !e2 && Number(n) >= 1) acked.push({ key, at: Date.now() });
          else if (e1 || e2) errors.push(String(e1 ?? e2));
        } catch (e) { errors.push(String(e)); await sleep(20); }
        await sleep(5);
      }
    })();
    return { errors, stop: async () => { stop = true; await done; r.disconnect(); return acked; } };
  }

  async function untilValue<T>(what: string, value: () => T | undefined, seconds: number): Promise<T> {
    let v: T | undefined;
    await until(what, () => (v = value()) !== undefined, seconds);
    return v!;
  }

  /** A sentinel that missed a failover: it names `view.master` with `view.epoch`, and lists the real sentinels. */
  async function fakeSentinel(host: string, view: { master?: string; epoch: number }, real: string[]): Promise<Server> {
    const map = (kv: Array<[string, string]>) => resp.array(kv.flatMap(([k, v]) => [resp.bulk(k), resp.bulk(v)]));
    return respServer(host, SENTINEL_PORT, (args) => {
      const [cmd, sub] = [args[0].toUpperCase(), (args[1] ?? '').toUpperCase()];
      if (cmd === 'AUTH') return resp.ok;
      if (cmd === 'PING') return args[1] !== undefined ? resp.bulk(args[1]) : '+PONG\r\n';
      if (cmd !== 'SENTINEL') return resp.error('ERR unknown command');
      if (sub === 'MYID') return resp.bulk('f'.repeat(40));
      if (sub === 'GET-MASTER-ADDR-BY-NAME') return view.master ? resp.array([resp.bulk(view.master), resp.bulk(String(REDIS_PORT))]) : resp.nil;
      if (sub === 'MASTER') {
        return view.master ? map([['name', 'mymaster'], ['ip', view.master], ['port', String(REDIS_PORT)], ['flags', 'master'], ['config-epoch', String(view.epoch)]])
          : resp.error('ERR No such master with that name');
      }
      if (sub === 'SENTINELS') return resp.array(real.map((ip) => map([['name', `${ip}:${SENTINEL_PORT}`], ['ip', ip], ['port', String(SENTINEL_PORT)], ['flags', 'sentinel']])));
      if (sub === 'REPLICAS') return resp.array([]);
      return resp.error('ERR unknown subcommand');
    });
  }
});
