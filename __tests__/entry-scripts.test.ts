// The entry scripts on real redis-server and redis-sentinel processes, on loopback. Each "pod" is a
// loopback address (127.0.0.2, .3, ...): its Redis and Sentinel bind to it, and the sentinel
// "Service" is the bootstrap pod's sentinel address. Nothing leaves the machine.
import { ChildProcess, execFileSync, spawn, spawnSync } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Duration } from 'cdk8s';
import { resolveSettings } from '../src';
import { configMapData, RenderOptions, SENTINEL_PLACEHOLDERS } from '../src/redis-config';

const have = (cmd: string) => { try { execFileSync('sh', ['-c', `command -v ${cmd}`]); return true; } catch { return false; } };
const describeIfRedis = have('redis-server') && have('redis-sentinel') && have('redis-cli') ? describe : describe.skip;
if (describeIfRedis === describe.skip) {
  // Say so, rather than passing silently: .ci/run installs redis-server and redis-sentinel.
  console.warn('entry-scripts tests skipped: redis-server, redis-sentinel and redis-cli are not installed');
}

const REDIS_PORT = 16379;
const SENTINEL_PORT = 26380;
const SERVICE = '127.0.0.2'; // the bootstrap pod's sentinel stands in for the sentinel Service

interface Pod { ip: string; dir: string; procs: ChildProcess[]; logs: string[] }

describeIfRedis('entry scripts on real Redis processes (loopback)', () => {
  let root: string;
  const pods: Pod[] = [];
  const settings = resolveSettings({ redisPort: REDIS_PORT, sentinelPort: SENTINEL_PORT, discoveryTimeout: Duration.seconds(20) });
  /** Faster than a pod's pacing, so the test takes seconds. */
  const pacing = { RETRY_SECONDS: 1, FOLLOW_INTERVAL_SECONDS: 1, FOLLOW_STRIKES: 3 };

  /** A pod: the ConfigMap's files in its config dir, rendered for its own loopback address and dirs. */
  function makePod(ip: string, options: RenderOptions = {}): Pod {
    const dir = join(root, ip);
    for (const sub of ['config', 'data', 'sentinel']) mkdirSync(join(dir, sub), { recursive: true });
    const files = configMapData(settings, {
      bind: ip, dataDir: join(dir, 'data'), sentinelStateDir: join(dir, 'sentinel'), sentinelHost: SERVICE, pacing, ...options,
    });
    for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, 'config', file), text);
    const pod = { ip, dir, procs: [], logs: [] };
    pods.push(pod);
    return pod;
  }

  /** Starts a container: the entry script with the env the manifests give it. */
  function start(pod: Pod, env: Record<string, string>): { log: () => string; proc: ChildProcess } {
    let out = '';
    const proc = spawn('sh', [join(pod.dir, 'config', 'entrypoint.sh')], {
      env: { PATH: process.env.PATH, CONFIG_DIR: join(pod.dir, 'config'), POD_IP: pod.ip, POD_NAME: `pod-${pod.ip}`, ...env },
      detached: true, // its own process group: the janitor and redis die with it
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout!.on('data', (d) => { out += d; });
    proc.stderr!.on('data', (d) => { out += d; });
    pod.procs.push(proc);
    return { log: () => out, proc };
  }

  /**
   * redis-cli ARGS..., or with no args the commands on `input`, one a line, all on one connection.
   * Throws when redis-cli fails or prints an error reply.
   */
  function redisCli(ip: string, port: number, args: string[], input?: string): string {
    const r = spawnSync('redis-cli', ['-h', ip, '-p', String(port), ...args], { input, timeout: 5000, encoding: 'utf8' });
    const out = (r.stdout ?? '').trim();
    // redis-cli exits 0 on an error reply and prints it as a line that opens with its upper-case code
    if (r.status !== 0 || /^[A-Z]{3,} /m.test(out)) {
      throw new Error(`redis-cli -h ${ip} -p ${port} ${args.join(' ') || input}: status ${r.status} ${r.error ?? ''}\n${out}\n${r.stderr ?? ''}`);
    }
    return out;
  }
  const cli = (ip: string, port: number, ...args: string[]): string => redisCli(ip, port, args);
  /** For polling: '' while the server does not answer. */
  const ask = (ip: string, port: number, ...args: string[]): string => { try { return cli(ip, port, ...args); } catch { return ''; } };

  async function until(what: string, check: () => boolean, seconds = 30): Promise<void> {
    const end = Date.now() + seconds * 1000;
    while (Date.now() < end) {
      if (check()) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`timed out after ${seconds}s waiting until ${what}`);
  }

  const role = (ip: string) => (ask(ip, REDIS_PORT, 'INFO', 'replication').match(/^role:(\w+)/m) ?? [])[1];
  const monitored = (ip: string) => ask(ip, SENTINEL_PORT, 'SENTINEL', 'get-master-addr-by-name', 'mymaster').split('\n')[0];

  beforeAll(() => { root = mkdtempSync(join(tmpdir(), 'entry-scripts-')); });
  afterAll(async () => {
    for (const p of pods) {
      for (const proc of p.procs) {
        if (proc.pid && proc.exitCode === null) { try { process.kill(-proc.pid, 'SIGKILL'); } catch { /* already gone */ } }
      }
    }
    await new Promise((r) => setTimeout(r, 200));
    rmSync(root, { recursive: true, force: true });
  });

  test('bootstrap, a replica and a sentinel find the master through the "service"; a second bootstrap master joins it', async () => {
    // GIVEN the bootstrap pod: nobody answers at the service address yet
    const boot = makePod('127.0.0.2');
    const master = start(boot, { MASTER: 'true' });
    const bootSentinel = start(boot, { SENTINEL: 'true' });
    await until('the bootstrap Redis is a master', () => role(boot.ip) === 'master');
    expect(master.log()).toContain('no sentinel answered at 127.0.0.2');
    expect(master.log()).toContain('this is a new cluster, starting as its first master');
    await until('the bootstrap sentinel monitors it', () => monitored(boot.ip) === boot.ip);
    await until('the sentinel logs +monitor master', () => bootSentinel.log().includes('+monitor master mymaster 127.0.0.2'));

    // WHEN a controller's Redis pod and sentinel pod start
    const replicaPod = makePod('127.0.0.3');
    const replica = start(replicaPod, {});
    const sentinelPod = makePod('127.0.0.4');
    start(sentinelPod, { SENTINEL: 'true' });

    // THEN the replica replicates from the master and the sentinel monitors the same master
    await until('the replica is linked to the master', () => /master_host:127.0.0.2\r?\n[\s\S]*master_link_status:up/.test(ask(replicaPod.ip, REDIS_PORT, 'INFO', 'replication')));
    expect(replica.log()).toContain('replicating from master 127.0.0.2:16379 (found through 127.0.0.2:26380)');
    await until('the new sentinel monitors the master', () => monitored(sentinelPod.ip) === boot.ip);
    await until('the sentinels know each other', () => /num-other-sentinels\n1/.test(ask(boot.ip, SENTINEL_PORT, 'SENTINEL', 'master', 'mymaster')));
    // SET and WAIT on one connection: WAIT on a connection of its own would count no write and
    // return at once, and the GET below could run before the replica had the key.
    expect(redisCli(boot.ip, REDIS_PORT, [], 'SET k v\nWAIT 1 5000\n')).toBe('OK\n1');
    expect(cli(replicaPod.ip, REDIS_PORT, 'GET', 'k')).toBe('v');

    // WHEN the bootstrap pod is applied again next to the running cluster
    const again = makePod('127.0.0.5');
    const secondBoot = start(again, { MASTER: 'true' });

    // THEN it joins the live master as a replica and says so: never a second, empty master
    await until('the re-applied bootstrap Redis is a replica', () => role(again.ip) === 'slave');
    expect(secondBoot.log()).toContain('the sentinels already know a live master of mymaster at 127.0.0.2:16379: joining it as a replica instead of starting a second master');
    await until('it has the data', () => ask(again.ip, REDIS_PORT, 'GET', 'k') === 'v');
    expect([boot, replicaPod, again].map((p) => role(p.ip))).toEqual(['master', 'slave', 'slave']);

    // WHEN a replica is left on a master that is gone (it joined a pod that was shutting down)
    expect(cli(again.ip, REDIS_PORT, 'REPLICAOF', '127.0.0.77', String(REDIS_PORT))).toBe('OK');
    // THEN it follows the master the sentinels name
    await until('the stranded replica follows the sentinels', () => secondBoot.log().includes(
      'master 127.0.0.77:16379 is unreachable and the sentinels name 127.0.0.2:16379: replicating from it'));
    await until('it is linked again', () => /master_host:127.0.0.2\r?\n[\s\S]*master_link_status:up/.test(ask(again.ip, REDIS_PORT, 'INFO', 'replication')));

    // WHEN a Redis becomes a master that the sentinels do not name (a cut-off old master)
    expect(cli(again.ip, REDIS_PORT, 'REPLICAOF', 'NO', 'ONE')).toBe('OK');
    // THEN it steps down to a replica of the master they name
    await until('the second master steps down', () => secondBoot.log().includes(
      'this Redis is a master but the sentinels name the live master 127.0.0.2:16379: stepping down to its replica'));
    await until('it replicates again', () => role(again.ip) === 'slave');
    expect(role(boot.ip)).toBe('master');
  }, 120000);

  test('a sentinel stuck on a dead master stops, and starts afresh on the live master', async () => {
    // GIVEN a live master and its sentinel, which stands in for the sentinel Service
    const service = '127.0.0.11';
    const boot = makePod(service, { sentinelHost: service });
    start(boot, { MASTER: 'true' });
    start(boot, { SENTINEL: 'true' });
    await until('the master is monitored', () => monitored(service) === service);
    // AND a sentinel pod whose config from an earlier run monitors a master that is gone
    const pod = makePod('127.0.0.12', { sentinelHost: service, pacing: { ...pacing, JANITOR_INTERVAL_SECONDS: 1 } });
    const saved = join(pod.dir, 'sentinel', 'sentinel.conf');
    writeFileSync(saved, readFileSync(join(pod.dir, 'config', 'sentinel.conf'), 'utf8')
      .replace(SENTINEL_PLACEHOLDERS.masterHost, '127.0.0.77')
      .replace(SENTINEL_PLACEHOLDERS.masterPort, String(REDIS_PORT))
      .replace(SENTINEL_PLACEHOLDERS.announceIp, pod.ip));

    // WHEN it starts
    const stuck = start(pod, { SENTINEL: 'true' });

    // THEN after two janitor rounds with its master down while the Service names the live one, the
    // janitor deletes the config and stops redis-sentinel (the process the entry script exec'd)
    const exit = new Promise<string>((r) => stuck.proc.on('exit', (code, signal) => r(`${code} ${signal}`)));
    expect(await Promise.race([exit, new Promise((r) => setTimeout(() => r('still running after 30 s'), 30000))])).toBe('0 null');
    expect(stuck.log()).toContain('reusing');
    expect(stuck.log()).toContain(`the master this sentinel monitors has been down for over 2s while the sentinel Service names the live master ${service} ${REDIS_PORT}: restarting with a fresh configuration`);
    expect(existsSync(saved)).toBe(false);
    // AND restarted, as Kubernetes restarts the container, it monitors the live master
    const restarted = start(pod, { SENTINEL: 'true' });
    await until('the restarted sentinel monitors the live master', () => monitored(pod.ip) === service);
    expect(restarted.log()).toContain(`monitoring master mymaster at ${service}:${REDIS_PORT} with quorum 2`);
  }, 60000);

  test('a sentinel finds no master and says so, within its bound', async () => {
    // the sentinel "Service" is its own address, where nothing answers yet
    const lonely = makePod('127.0.0.9', { sentinelHost: '127.0.0.9', discoveryTimeoutSeconds: 2 });
    const s = start(lonely, { SENTINEL: 'true' });
    const code = await new Promise<number | null>((r) => s.proc.on('exit', r));
    expect(code).toBe(1);
    expect(s.log()).toContain('no live master of mymaster found through 127.0.0.9:26380 or a local Redis (attempt 1); retrying in 1s');
    expect(s.log()).toContain('giving up after 2s: found no live master of mymaster; look at the Redis pods: kubectl logs -l name=redis');
  }, 30000);
});
