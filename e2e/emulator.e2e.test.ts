/**
 * The emulator itself, on small fixture manifests (e2e/fixtures/basic): the kubectl surface fails
 * loudly outside its list, apply is idempotent and keeps a scaled controller's replicas, Services
 * reach ready endpoints only, controllers replace and scale down (adoption is exercised by the
 * bootstrap pod in redis-sentinel.e2e.test.ts). See e2e/README.md.
 */
 
export {}; // a module, not a global script: its names stay its own
const path = require('path');
const { canRun, Emulator } = require('./lib/harness');

const skipReason: string | null = canRun();
const describeE2E = skipReason ? describe.skip : describe;
if (skipReason) test.skip(`emulator tests skipped: ${skipReason}`, () => undefined);

const FIXTURES = path.join(__dirname, 'fixtures');

describeE2E('the pod emulator', () => {
  let emu: any;
  const k = (...args: string[]) => emu.kubectl(args, { cwd: FIXTURES });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  beforeAll(async () => { emu = await Emulator.start(); }, 30000);
  afterAll(async () => { if (emu) await emu.stop(); }, 30000);

  test('kubectl outside the emulated list fails loudly', async () => {
    for (const args of [['describe', 'pod', 'x'], ['get', 'pods', '-o', 'yaml'], ['get', 'deployments'], ['exec', '-it', 'x', '--', 'sh'], ['apply', '-k', '.']]) {
      const r = await k(...args);
      expect({ args, code: r.code }).toEqual({ args, code: 1 });
      expect(r.stderr).toContain('kubectl emulator: unsupported:');
    }
  });

  test('apply, Service to ready endpoints only, replicas kept on re-apply, replacement, scale down', async () => {
    const a = await k('apply', '-f', 'basic');
    expect(a.code).toBe(0);
    expect(a.stdout).toBe('configmap/fixture-config created\npod/fixture-master created\nservice/fixture-redis created\nreplicationcontroller/fixture-replica created\n');
    expect((await k('wait', '--for=condition=Ready', 'pod/fixture-master', '--timeout=30s')).code).toBe(0);
    // The RC had no replicas field: 1 on create.
    expect((await k('get', 'rc', 'fixture-replica', '-o', 'jsonpath={.spec.replicas}')).stdout).toBe('1');
    expect((await k('scale', 'rc/fixture-replica', '--replicas=2')).stdout).toBe('replicationcontroller/fixture-replica scaled\n');
    // Re-applying a manifest without replicas leaves the scaled value; unchanged objects say so.
    const again = await k('apply', '-f', 'basic');
    expect(again.stdout).toContain('replicationcontroller/fixture-replica unchanged');
    expect((await k('get', 'rc', 'fixture-replica', '-o', 'jsonpath={.spec.replicas}')).stdout).toBe('2');
    // Replicas reach the master through the Service name (hosts file + nft DNAT) and become ready.
    for (let i = 0; i < 60; i++) {
      if ((await k('get', 'rc', 'fixture-replica', '-o', 'jsonpath={.status.readyReplicas}')).stdout === '2') break;
      await sleep(500);
    }
    expect((await k('get', 'rc', 'fixture-replica', '-o', 'jsonpath={.status.readyReplicas}')).stdout).toBe('2');
    const names = (await k('get', 'pods', '-l', 'app=fixture-replica', '-o', 'name')).stdout.trim().split('\n');
    expect(names).toHaveLength(2);
    const pod = names[0].replace('pod/', '');
    expect(pod).toMatch(/^fixture-replica-[a-z0-9]{5}$/);
    const env = await k('exec', pod, '-c', 'redis', '--', 'sh', '-c', 'echo $FIXTURE_REDIS_SERVICE_HOST; hostname; redis-cli -h fixture-redis.default.svc.cluster.local ping; touch /etc/k8e-x 2>&1 || true');
    expect(env.stdout).toMatch(/^10\.96\.\d+\.\d+\n/);
    expect(env.stdout).toContain(`${pod}\nPONG\n`);
    expect(env.stdout).toContain('Read-only file system');
    // A Service whose only endpoint is gone refuses connections.
    expect((await k('delete', 'pod', 'fixture-master', '--grace-period=1')).code).toBe(0);
    const refused = await k('exec', pod, '-c', 'redis', '--', 'redis-cli', '-h', 'fixture-redis', 'ping');
    expect(refused.stdout + refused.stderr).toMatch(/refused/i);
    // A deleted RC pod is replaced with a new name and IP; scale-down removes pods.
    const victim = await k('get', 'pod', pod, '-o', 'jsonpath={.status.podIP}');
    expect((await k('delete', 'pod', pod, '--wait=true', '--timeout=30s')).code).toBe(0);
    await sleep(500);
    const after = (await k('get', 'pods', '-l', 'app=fixture-replica', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.status.podIP}{"\\n"}{end}')).stdout.trim().split('\n');
    expect(after).toHaveLength(2);
    expect(after.join(' ')).not.toContain(`${pod} `);
    expect(after.map((l: string) => l.split(' ')[1])).not.toContain(victim.stdout);
    expect((await k('scale', 'rc', 'fixture-replica', '--replicas=0')).code).toBe(0);
    for (let i = 0; i < 40 && (await k('get', 'pods', '-l', 'app=fixture-replica', '-o', 'name')).stdout !== ''; i++) await sleep(250);
    expect((await k('get', 'pods', '-l', 'app=fixture-replica', '-o', 'name')).stdout).toBe('');
    const del = await k('delete', '-f', 'basic', '--ignore-not-found');
    expect(del.code).toBe(0);
  }, 120000);
});
