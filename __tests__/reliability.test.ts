// Issue 8 on real redis-server and redis-sentinel processes, on loopback: the founding state
// machine, the follow rule and its config-epoch authority, the fence, pruning instead of SENTINEL
// RESET, and the preStop handover (docs/state-machine.md). Each test builds its own "pods" on its
// own loopback addresses (127.0.N.x), with a Redis and a sentinel each unless it says otherwise,
// and a fast pacing: down-after 2 s, so a failover takes seconds.
import { Duration } from 'cdk8s';
import Redis from 'ioredis';
import { cpSync } from 'fs';
import { Server } from 'net';
import { join } from 'path';
import { resolveSettings } from '../src';
import { handoverSeconds } from '../src/redis-config';
import { connectedClient, Container, describeIfRedis, Loopback, Pod, randomSecret, rawCli, resp, respServer, SecretFiles, until } from './helpers/loopback';

const REDIS_PORT = 16579;
const SENTINEL_PORT = 26579;
const DOWN_AFTER_MS = 2000;

describeIfRedis('reliability on real Redis processes (loopback)', () => {
  const settingsProps = {
    redisPort: REDIS_PORT, sentinelPort: SENTINEL_PORT, downAfter: Duration.millis(DOWN_AFTER_MS),
    failoverTimeout: Duration.seconds(6), discoveryTimeout: Duration.seconds(40),
  };
  const settings = resolveSettings(settingsProps);
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
  const priority = (ip: string) => ask(ip, REDIS_PORT, 'CONFIG', 'GET', 'replica-priority').split('\n')[1];
  const ipRank = (ip: string) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);

  interface Cluster { ips: string[]; pods: Pod[]; redis: Container[]; sentinels: Container[] }

  /**
   * Pods at `${net}.2`, `.3`, ...: the first is the bootstrap pod (MASTER=true); each runs a Redis
   * and a sentinel; the first pod's sentinel stands in for the sentinel Service, and the Redis pods
   * are each other's peers. Resolves once one master is named by every sentinel, every replica is
   * linked to it and it takes writes.
   */
  async function launch(net: string, n = 3, podSettings = settings): Promise<Cluster> {
    const ips = Array.from({ length: n }, (_, i) => `${net}.${i + 2}`);
    const pods = ips.map((ip) => loop.makePod(ip, { secret, sentinelHost: ips[0], peerHosts: ips, settings: podSettings }));
    const redis = pods.map((p, i) => loop.start(p, i === 0 ? { MASTER: 'true' } : {}));
    const sentinels = pods.map((p) => loop.start(p, { SENTINEL: 'true' }));
    const c = { ips, pods, redis, sentinels };
    await healthy(c, ips[0]);
    // and the sentinels know each other (hellos every 2 s): a forced failover (SENTINEL FAILOVER
    // needs no votes) before then leaves the promoted replica's survey with the sentinels that
    // still name the old, live master, and it steps down to it, as the epoch rule says
    await until('the sentinels know each other', () => ips.every((ip) => sentinelField(ip, 'num-other-sentinels') === String(n - 1)), 20);
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
    // (while the leader waited for the promoted replica to report itself master, every sentinel
    // still named the old master, with epoch 0: a check of the promoted replica that fell in that
    // window logged 'one of them is promoting a replica: not stepping down while it does')
    expect(promotedLog.log()).not.toContain('stepping down to its replica');
    expect(sentinels.map((x) => x.log()).join('')).not.toContain('-failover-abort');
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
      // AND every acknowledged write is on the new master, the stale clients' too. (A stale client
      // can get its acknowledgement after the thaw: its write reached a replica before the freeze,
      // but the frozen master read that replica's ACK, which ends its WAIT, only when it resumed.
      // A write the old master took after the promotion would be missing here.)
      const afterThaw = staleAcked.filter((w) => w.at > thawedAt);
      expect(missing(promoted, [...app.acked, ...staleAcked.map((w) => w.key)])).toEqual([]);
      expect(frozen.log()).toContain(`this Redis is a master but the sentinels name the live master ${promoted}:${REDIS_PORT}`);
      all.push(...app.acked);
      report.push(`round ${round}: ${old} frozen ${thawedAt - frozenAt} ms, ${promoted} promoted after ${promotedAt - frozenAt} ms, old master stepped down ${steppedDownMs} ms after it resumed; `
        + `${app.acked.length} acknowledged through the sentinels, ${staleAcked.length} by the clients on the old master (${staleAcked.filter((w) => w.at > promotedAt).length} handled after the promotion was seen, ${afterThaw.length} after the thaw), 0 lost`);
    }
    console.log(`frozen master:\n${report.join('\n')}`);
    expect(missing(await healthy(c), all)).toEqual([]);
    for (const x of [...c.sentinels, ...c.redis]) loop.kill(x);
  }, 150000);

  test('the fence: a master cut off from the sentinel majority refuses writes within downAfter/2 + 1.5 s, and takes them again when a majority names it', async () => {
    // GIVEN a healthy cluster whose master takes writes (right after a full sync it refuses them
    // until its replicas' first ACK: that NOREPLICAS is not the fence)
    const c = await launch('127.0.4');
    const m = await healthy(c);
    await until('the master takes writes', () => rawCli(m, REDIS_PORT, ['SET', 'fence', 'before'], '', client).out === 'OK', 10);
    // WHEN the two sentinels of the other pods stop answering (the master is cut off from them)
    const cut = c.sentinels.filter((_, i) => c.ips[i] !== m);
    for (const x of cut) loop.freeze(x);
    const cutAt = Date.now();
    // THEN the master refuses writes within downAfter/2 (FENCE_AFTER_MS) + one follow check (1 s) +
    // the fresh survey that must agree right before the fence, which waits ASK_TIMEOUT_SECONDS
    // (0.5 s) for the sentinels that do not answer
    // (A NOREPLICAS before the fence line, a replica's ACK late on a loaded machine, is not it.)
    const fenceLine = 'fenced: for 1000ms no majority (2 of 3) of the sentinels named this master';
    let refusedAt = 0;
    while (Date.now() - cutAt < 10000 && !refusedAt) {
      const refused = /^NOREPLICAS/.test(rawCli(m, REDIS_PORT, ['SET', 'fence', String(Date.now())], '', client).out);
      if (refused && c.redis[c.ips.indexOf(m)].log().includes(fenceLine)) refusedAt = Date.now();
      else await sleep(20);
    }
    const fencedMs = refusedAt - cutAt;
    expect(c.redis[c.ips.indexOf(m)].log()).toContain(fenceLine);
    expect(refusedAt).toBeGreaterThan(0);
    expect(fencedMs).toBeLessThan(DOWN_AFTER_MS / 2 + 1000 + 500);
    // AND no failover happened: one sentinel is no quorum
    expect(role(m)).toBe('master');
    // WHEN the sentinels answer again, THEN it takes writes again
    for (const x of cut) loop.thaw(x);
    const backAt = Date.now();
    await until('the master takes writes again', () => rawCli(m, REDIS_PORT, ['SET', 'fence', 'back'], '', client).out === 'OK', 10);
    console.log(`fence: writes refused ${fencedMs} ms after the cut (bound ${DOWN_AFTER_MS / 2 + 1000 + 500} ms), taken again ${Date.now() - backAt} ms after the sentinels answered`);
    expect(c.redis[c.ips.indexOf(m)].log()).toContain('unfenced: 3 sentinel(s) name this master again');
    for (const x of [...c.sentinels, ...c.redis]) loop.kill(x);
  }, 90000);

  test('founding after every pod is lost: one founder, the first by rank among empty pods; a pod with data founds over empty ones, which wait while it is away', async () => {
    // GIVEN every pod of a cluster lost (emptyDir): three new, empty Redis pods and three new
    // sentinels start at once, and no sentinel knows a master
    const watch = (ips: string[]) => {
      let most = 0;
      const t = setInterval(() => { most = Math.max(most, ips.filter((ip) => role(ip) === 'master').length); }, 200);
      return () => { clearInterval(t); return most; };
    };
    const lost = ['127.0.5.2', '127.0.5.3', '127.0.5.4'];
    const stopWatch = watch(lost);
    const pods = lost.map((ip) => loop.makePod(ip, { secret, sentinelHost: lost[0], peerHosts: lost }));
    const c: Cluster = { ips: lost, pods, redis: pods.map((p) => loop.start(p, {})), sentinels: pods.map((p) => loop.start(p, { SENTINEL: 'true' })) };
    // THEN exactly one founds, the first by rank, and says that the data is gone; the others follow
    // it and the sentinels find it through the pods
    const founder = await healthy(c, undefined, 40);
    expect(founder).toBe(lost[0]);
    expect(stopWatch()).toBe(1);
    const founded = c.redis.map((r) => r.log()).filter((l) => l.includes('Founding a new, empty cluster'));
    expect(founded).toHaveLength(1);
    expect(c.redis[0].log()).toContain('no master anywhere and no Redis pod holds data: the data of mymaster, if it had any, is gone (emptyDir volumes end with their pods)');
    expect(c.sentinels[0].log()).toContain(`the Redis pods show the live master ${founder}:${REDIS_PORT}`);
    for (let i = 0; i < 100; i++) await until('the founder takes a write', () => rawCli(founder, REDIS_PORT, ['SET', `kept:${i}`, String(i)], '', client).out === 'OK', 5);
    expect(rawCli(founder, REDIS_PORT, ['WAIT', '2', '5000'], '', client).out).toBe('2');
    await sleep(1500); // appendfsync everysec
    for (const x of [...c.sentinels, ...c.redis]) loop.kill(x);

    // GIVEN every pod lost again, but one new pod has the data (a volume; here the founder's
    // append-only files), and it is the last by rank
    const next = ['127.0.6.2', '127.0.6.3', '127.0.6.4'];
    const stopWatch2 = watch(next);
    const pods2 = next.map((ip) => loop.makePod(ip, { secret, sentinelHost: next[0], peerHosts: next }));
    cpSync(join(pods[0].dir, 'data'), join(pods2[2].dir, 'data'), { recursive: true });
    // WHEN the two empty pods start while it is away
    const early = [0, 1].map((i) => ({ r: loop.start(pods2[i], {}), s: loop.start(pods2[i], { SENTINEL: 'true' }) }));
    await sleep(8000);
    // THEN they see a majority, but not every expected pod, and none with data: they wait
    expect(next.map(role)).toEqual(['slave', 'slave', undefined]);
    expect(early[0].r.log()).toContain('not founding a cluster: no pod it sees holds data, but only 2 of the 3 expected Redis pods answer, and one with data may be away');
    expect(early[1].r.log()).toContain(`not founding a cluster: ${next[0]} is the better founder`);
    // WHEN it comes, THEN it founds on its data and the empty ones follow it
    const c2: Cluster = { ips: next, pods: pods2, redis: [...early.map((e) => e.r), loop.start(pods2[2], {})], sentinels: [...early.map((e) => e.s), loop.start(pods2[2], { SENTINEL: 'true' })] };
    expect(await healthy(c2, undefined, 40)).toBe(next[2]);
    expect(stopWatch2()).toBe(1);
    expect(c2.redis[2].log()).toContain("no master anywhere: founding the cluster again on this pod's data, the newest; 3 of the 3 expected Redis pods seen");
    expect(rawCli(next[2], REDIS_PORT, ['DBSIZE'], '', client).out).toBe('101'); // 100 keys and healthy
    await until('the replicas have the data', () => next.slice(0, 2).every((ip) => rawCli(ip, REDIS_PORT, ['GET', 'kept:99'], '', client).out === '99'), 20);
    for (const x of [...c2.sentinels, ...c2.redis]) loop.kill(x);
  }, 150000);

  test('a master whose container restarts before a failover does not resume: it asks the sentinels to fail over to a replica, and follows it', async () => {
    // GIVEN a healthy cluster with acknowledged writes
    const c = await launch('127.0.10');
    const m = await healthy(c, c.ips[0]);
    for (let i = 0; i < 50; i++) rawCli(m, REDIS_PORT, ['SET', `kept:${i}`, String(i)], '', client);
    expect(rawCli(m, REDIS_PORT, ['WAIT', '2', '2000'], '', client).out).toBe('2');
    // WHEN its Redis container is killed and comes back at once (the kubelet restarts it), with
    // the same env
    loop.kill(c.redis[0]);
    const back = loop.start(c.pods[0], { MASTER: 'true' });
    // THEN a replica becomes master, named by every sentinel, and the restarted pod follows it
    const next = await healthy({ ...c, redis: [back, ...c.redis.slice(1)] }, undefined, 30);
    expect(next).not.toBe(m);
    expect(linked(m, next)).toBe(true);
    // AND it asked for the failover and never took writes as master
    expect(back.log()).toContain('asking the sentinel at');
    expect(back.log()).not.toMatch(/resuming as master|starting as master/);
    expect(rawCli(next, REDIS_PORT, ['DBSIZE'], '', client).out).toBe('51'); // 50 keys and healthy
    for (const x of [...c.sentinels, back, ...c.redis.slice(1)]) loop.kill(x);
  }, 120000);

  test('pruning: sentinels forget a deleted pod one at a time, restarting with their id, epoch and live replicas; no SENTINEL RESET', async () => {
    // GIVEN four pods, after a failover (a config epoch above 0, the same at every sentinel; a forced
    // failover that Sentinel accepted can still abort, on a loaded machine: it is asked again)
    const c = await launch('127.0.7', 4);
    let askedAt = 0;
    const failedOver = () => {
      const epochs = new Set(c.ips.map((ip) => sentinelField(ip, 'config-epoch')));
      if (epochs.size === 1 && !epochs.has('0') && c.ips.every((ip) => sentinelField(ip, 'flags') === 'master')) return true;
      const running = c.ips.some((ip) => sentinelField(ip, 'flags').includes('failover_in_progress'));
      if (!running && Date.now() - askedAt > 5000 && ask(c.ips[1], SENTINEL_PORT, 'SENTINEL', 'FAILOVER', 'mymaster') === 'OK') askedAt = Date.now();
      return false;
    };
    await until('a failover ends', failedOver, 60);
    const epoch = sentinelField(c.ips[0], 'config-epoch');
    const m = await healthy(c);
    const gone = c.ips.find((ip) => ip !== m)!; // a replica's pod, with its sentinel
    const stay = c.ips.filter((ip) => ip !== gone);
    const ids = stay.map((ip) => ask(ip, SENTINEL_PORT, 'SENTINEL', 'myid'));
    // WHEN that pod is deleted
    const i = c.ips.indexOf(gone);
    loop.kill(c.redis[i]);
    loop.kill(c.sentinels[i]);
    // THEN after PRUNE_AFTER_SECONDS every other sentinel forgets it
    const knows = (ip: string) => ask(ip, SENTINEL_PORT, 'SENTINEL', 'replicas', 'mymaster') + ask(ip, SENTINEL_PORT, 'SENTINEL', 'sentinels', 'mymaster');
    await until('no sentinel knows the deleted pod', () => stay.every((ip) => !knows(ip).includes(gone)), 40);
    // AND each kept its id and epoch, and knows the live replicas and sentinels
    expect(stay.map((ip) => ask(ip, SENTINEL_PORT, 'SENTINEL', 'myid'))).toEqual(ids);
    for (const ip of stay) {
      expect([ip, sentinelField(ip, 'config-epoch'), sentinelField(ip, 'num-slaves'), sentinelField(ip, 'num-other-sentinels')]).toEqual([ip, epoch, '2', '2']);
    }
    const sentinels = c.sentinels.filter((_, j) => j !== i);
    // (a sentinel may prune the pod's sentinel and its replica in two rounds: the last restart counts)
    const lastBack = (x: Container) => x.log().split('\n').filter((l) => l.includes('redis-sentinel is back')).pop() ?? '';
    await until('every sentinel is back without the deleted pod', () => sentinels.every((x) => /: 2 replica\(s\)/.test(lastBack(x))), 20);
    for (const s of sentinels) {
      expect(s.proc.exitCode).toBeNull(); // the same container: only redis-sentinel restarted
      expect(s.log()).toContain(`down for over ${pacing.PRUNE_AFTER_SECONDS}s: restarting redis-sentinel on its config without them (it keeps its id, epoch and live replicas)`);
      expect(lastBack(s)).toMatch(new RegExp(`redis-sentinel is back: 2 replica\\(s\\), 2 other sentinel\\(s\\), config epoch ${epoch}$`));
      expect(s.log()).not.toMatch(/reset/i);
    }
    // AND one sentinel restarted at a time: each redis-sentinel's stop-to-start window (its own
    // log, in ms) overlaps no other's
    const windows = sentinels.flatMap((s) => {
      const times = (re: RegExp) => [...s.log().matchAll(re)].map((x) => Date.parse(`${x[1]} ${x[2]}`));
      const stops = times(/(\d+ \w+ \d+) ([\d:.]+) # User requested shutdown/g);
      const starts = times(/(\d+ \w+ \d+) ([\d:.]+) \* Running mode=sentinel/g).slice(1);
      expect(starts.length).toBe(stops.length);
      return stops.map((t, j) => [t, starts[j]]);
    }).sort((a, b) => a[0] - b[0]);
    for (let j = 1; j < windows.length; j++) expect(windows[j][0]).toBeGreaterThan(windows[j - 1][1]);
    console.log(`pruning: ${gone} forgotten by ${stay.length} sentinels; restart windows (ms) ${windows.map(([a, b]) => b - a).join(', ')}`);
    for (const x of [...c.sentinels, ...c.redis]) loop.kill(x);
  }, 120000);

  test('pruning waits while the master does not answer, before any sentinel calls it down: a restarted sentinel would count down-after again', async () => {
    // GIVEN four pods whose sentinels take 20 s to call an instance down, and the Redis of one
    // replica's pod gone (its sentinel stays: it must answer for pruning to be safe)
    const slow = resolveSettings({ ...settingsProps, downAfter: Duration.seconds(20), failoverTimeout: Duration.seconds(40) });
    const c = await launch('127.0.9', 4, slow);
    const m = c.ips[0];
    const gone = c.ips[3];
    // (a sentinel that does not answer, or answers with no replica, counts as still knowing it)
    const replicaKnown = (ip: string) => {
      const out = ask(ip, SENTINEL_PORT, 'SENTINEL', 'replicas', 'mymaster');
      return !out.includes('ip') || out.includes(gone);
    };
    expect(c.ips.map(replicaKnown)).toEqual([true, true, true, true]);
    loop.kill(c.redis[3]);
    // WHEN the master stops answering (frozen) before that replica is due for pruning (3 s)
    const i = c.ips.indexOf(m);
    loop.freeze(c.redis[i]);
    const frozenAt = Date.now();
    // THEN for 8 s (the sentinels still call it a healthy master) no sentinel restarts to prune
    await sleep(8000);
    // (a sentinel may have dropped its link for unanswered pings and be reconnecting: "disconnected"
    // is the link, not a verdict; SENTINEL_LINK_RECONNECT_MS lets it drop a link after down-after/2)
    expect(c.ips.map((ip) => sentinelField(ip, 'flags').replace(',disconnected', ''))).toEqual(['master', 'master', 'master', 'master']);
    for (const x of c.sentinels) expect(x.log()).not.toContain('pruning');
    // AND once it answers again, every sentinel prunes the gone replica
    loop.thaw(c.redis[i]);
    const frozenMs = Date.now() - frozenAt;
    // (one sentinel at a time, the lowest address first: the last can take a few rounds)
    const pruned = (x: Container) => x.log().includes(`down for over ${pacing.PRUNE_AFTER_SECONDS}s: restarting redis-sentinel`);
    await until('every sentinel pruned the gone replica', () => c.sentinels.every(pruned) && !c.ips.some(replicaKnown), 40);
    console.log(`pruning held back while the master was frozen (${frozenMs} ms), then done ${Date.now() - frozenAt - frozenMs} ms after it answered again`);
    for (const x of [...c.sentinels, ...c.redis]) loop.kill(x);
  }, 120000);

  test('the preStop handover: a master pod being deleted hands over under a writer, with no write refused for 1 s; a replica and a sentinel leave at once', async () => {
    // GIVEN a healthy cluster and a Sentinel-aware writer
    const c = await launch('127.0.8');
    const m = await healthy(c);
    const app = writer(c.ips[1], 'handover');
    await sleep(1500);
    // WHEN the master's pod is deleted: the kubelet runs the preStop hooks, then ends the containers
    const i = c.ips.indexOf(m);
    const started = Date.now();
    const [redisHook, sentinelHook] = await Promise.all([loop.hook(c.redis[i], 'prestop.sh'), loop.hook(c.sentinels[i], 'prestop.sh')]);
    const hookMs = Date.now() - started;
    loop.kill(c.redis[i]);
    loop.kill(c.sentinels[i]);
    // THEN the hook handed over to another master, which the sentinels name and which takes writes
    expect(redisHook.code).toBe(0);
    expect(redisHook.log).toContain(`preStop: this Redis is the master: handing over (writes paused for at most ${handoverSeconds(settings)}s)`);
    expect(redisHook.log).toMatch(/preStop: handed over to [\d.]+:16579 in \d+ms/);
    expect(sentinelHook.log).toContain('preStop: leaving');
    const rest: Cluster = { ips: c.ips.filter((ip) => ip !== m), pods: [], redis: c.redis.filter((_, j) => j !== i), sentinels: c.sentinels.filter((_, j) => j !== i) };
    const promoted = await healthy(rest, undefined, 20);
    await sleep(1500);
    await app.stop();
    // AND no acknowledged write is lost, and writes were refused (an error reply) for under 1 s
    expect(missing(promoted, app.acked)).toEqual([]);
    // refused: an error reply from a server; the others are the client's own (a dropped connection,
    // or no master reachable while it asks the sentinels again, which maxRetriesPerRequest 0 reports)
    const refused = app.errors.filter((e) => e.at >= started && /^[A-Z]+ /.test(e.message) && !/^UNBLOCKED /.test(e.message));
    const refusedMs = refused.length ? refused[refused.length - 1].at - refused[0].at : 0;
    const gaps = app.okAt.slice(1).map((t, j) => t - app.okAt[j]);
    console.log(`preStop handover: hook ${hookMs} ms (${/in (\d+)ms/.exec(redisHook.log)![1]} ms from pause to step-down), ${m} -> ${promoted}; `
      + `${app.acked.length} acknowledged, 0 lost; ${refused.length} refused (${refusedMs} ms: ${[...new Set(refused.map((e) => e.message.slice(0, 40)))].join(', ')}), `
      + `${app.errors.length - refused.length} client-side errors (dropped connections, retries); longest gap between acknowledged writes ${Math.max(...gaps)} ms`);
    expect(refusedMs).toBeLessThan(1000);
    // AND the new master is the leaving one's successor (the next address above it, else the
    // lowest: the StatefulSet's next ordinal), and every replica-priority is back at Redis' 100
    const above = c.ips.filter((ip) => ipRank(ip) > ipRank(m)).sort((a, b) => ipRank(a) - ipRank(b));
    const successor = above[0] ?? [...c.ips].sort((a, b) => ipRank(a) - ipRank(b))[0];
    expect(promoted).toBe(successor);
    expect(redisHook.log).toContain('the successor, as preferred');
    // AND it left once a majority of the sentinels named the new master, not at its deadline (it
    // asks the first sentinel that sees the successor preferred: another pod's, or its own when
    // that one reads the priority first, as one CI run showed)
    expect(redisHook.log).toMatch(new RegExp(`preStop: [23] sentinel\\(s\\) name ${promoted.replace(/\./g, '\\.')}:${REDIS_PORT} \\d+ms after the pause: leaving`));
    expect(hookMs).toBeLessThan(handoverSeconds(settings) * 1000);
    expect(rest.ips.map(priority)).toEqual(['100', '100']);
    // AND a replica left with a lowered priority (a handover killed mid-way) puts 100 back itself,
    // once a handover would have ended (HANDOVER_SECONDS), not before
    const replica = rest.ips.find((ip) => ip !== promoted)!;
    expect(ask(replica, REDIS_PORT, 'CONFIG', 'SET', 'replica-priority', '1')).toBe('OK');
    const loweredAt = Date.now();
    await sleep(4000);
    expect(priority(replica)).toBe('1');
    await until('the replica put its priority back', () => priority(replica) === '100', 15);
    const restoredMs = Date.now() - loweredAt;
    expect(restoredMs).toBeGreaterThanOrEqual(handoverSeconds(settings) * 1000);
    expect(rest.redis[rest.ips.indexOf(replica)].log()).toContain(`this replica's replica-priority was 1 for ${handoverSeconds(settings)}s`);
    // AND a replica's hook and a sentinel's that leads no failover return at once
    const t0 = Date.now();
    const replicaHook = await loop.hook(rest.redis[rest.ips.indexOf(replica)], 'prestop.sh');
    const otherSentinelHook = await loop.hook(rest.sentinels[0], 'prestop.sh');
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(replicaHook.log).toContain('preStop: this Redis is not the master: leaving at once');
    expect(otherSentinelHook.log).toContain('preStop: leaving');
    // AND a master with no online replica leaves at once too: no pause that no promotion can end
    loop.kill(rest.redis[rest.ips.indexOf(replica)]);
    await until('the master sees no online replica', () => !ask(promoted, REDIS_PORT, 'INFO', 'replication').includes('state=online'), 10);
    const t1 = Date.now();
    const loneHook = await loop.hook(rest.redis[rest.ips.indexOf(promoted)], 'prestop.sh');
    expect(Date.now() - t1).toBeLessThan(2000);
    expect(loneHook.log).toContain('preStop: this Redis is the master and has no online replica to hand over to: leaving at once');
    expect(loneHook.log).not.toContain('handing over');
    for (const x of [...c.sentinels, ...c.redis]) loop.kill(x);
  }, 90000);

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
