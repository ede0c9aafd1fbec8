/**
 * The emulator itself, on small fixture manifests (e2e/fixtures/): the kubectl surface fails
 * loudly outside its list, apply is idempotent and keeps a scaled controller's replicas, Services
 * reach ready endpoints only, controllers replace and scale down (adoption is exercised by the
 * bootstrap pod in redis-sentinel.e2e.test.ts); NetworkPolicies are enforced; apply filters by
 * label; Secrets from files fill optional volumes late; PodDisruptionBudgets report their status.
 * See e2e/README.md.
 */
 
export {}; // a module, not a global script: its names stay its own
const fs = require('fs');
const os = require('os');
const path = require('path');
const { canRun, Emulator } = require('./lib/harness');
const { sleep, eventually } = require('./lib/polling');

const skipReason: string | null = canRun();
const describeE2E = skipReason ? describe.skip : describe;
if (skipReason) test.skip(`emulator tests skipped: ${skipReason}`, () => undefined);

const FIXTURES = path.join(__dirname, 'fixtures');

describeE2E('the pod emulator', () => {
  let emu: any;
  const k = (...args: string[]) => emu.kubectl(args, { cwd: FIXTURES });
  const jsonpath = async (what: string, tpl: string) => (await k('get', ...what.split(' '), '-o', `jsonpath=${tpl}`)).stdout;
  const ready = async (...pods: string[]) => {
    for (const p of pods) expect((await k('wait', '--for=condition=Ready', `pod/${p}`, '--timeout=30s')).code).toBe(0);
  };
  /** redis-cli PING from a pod's container: "PONG", or "exit=124" when it timed out after 2 s (a dropped packet). */
  const ping = async (from: string, container: string, host: string, port = 6379) => {
    const r = await k('exec', from, '-c', container, '--', 'sh', '-c', `timeout 2 redis-cli -h ${host} -p ${port} ping 2>&1 || echo exit=$?`);
    return r.stdout.trim();
  };
  /** A process's state letter (R, S, T: stopped, …), or "gone". */
  const procState = (pid: number) => {
    try { const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8'); return st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3); } catch { return 'gone'; }
  };

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

  test('NetworkPolicy: only labelled pods get in, on both ports; egress only to allowed pods, through a Service too; it follows labels and deletion', async () => {
    const a = await k('apply', '-f', 'policy');
    expect(a.code).toBe(0);
    expect(a.stdout).toContain('networkpolicy.networking.k8s.io/pol-server created\n');
    // pol-server is isolated for ingress, yet its tcpSocket readiness probe (from the node) passes.
    await ready('pol-server', 'pol-allowed', 'pol-denied');
    expect((await k('get', 'netpol')).stdout).toMatch(/^NAME\s+POD-SELECTOR\s+AGE\npol-server\s+app=pol-server\s+\d+s\n$/);
    const server = await jsonpath('pod pol-server', '{.status.podIP}');
    const denied = await jsonpath('pod pol-denied', '{.status.podIP}');
    // "PONG" or "exit=124" (timeout: policies drop, as CNI plugins do, so a refused connect hangs).
    const polPing = (from: string, host: string, port = 6379) => ping(from, from === 'pol-server' ? 'a' : 'redis', host, port);
    const matrix = async () => {
      const [allowed6379, allowed26379, denied6379, denied26379, toAllowedSvc, toDeniedSvc, toDeniedIp] = await Promise.all([
        polPing('pol-allowed', server, 6379), polPing('pol-allowed', server, 26379),
        polPing('pol-denied', server, 6379), polPing('pol-denied', server, 26379),
        polPing('pol-server', 'pol-allowed', 6379), polPing('pol-server', 'pol-denied', 6379), polPing('pol-server', denied, 6379),
      ]);
      return { allowed6379, allowed26379, denied6379, denied26379, toAllowedSvc, toDeniedSvc, toDeniedIp };
    };
    expect(await matrix()).toEqual({
      allowed6379: 'PONG', allowed26379: 'PONG', denied6379: 'exit=124', denied26379: 'exit=124',
      // The Service's ClusterIP is DNATed before the egress filter sees it.
      toAllowedSvc: 'PONG', toDeniedSvc: 'exit=124', toDeniedIp: 'exit=124',
    });
    // The policy follows labels: pol-denied gets the allowed label (a pod's labels may change).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8e-policy-'));
    try {
      const relabelled = path.join(dir, 'pol-denied.yaml');
      const doc = fs.readFileSync(path.join(FIXTURES, 'policy', 'policy.yaml'), 'utf8').split(/^---$/m).find((d: string) => d.includes('name: pol-denied\n  labels'));
      fs.writeFileSync(relabelled, doc.replace('pol-name: denied}', 'pol-name: denied, pol-access: "true"}'));
      expect((await k('apply', '-f', relabelled)).stdout).toBe('pod/pol-denied configured\n');
      expect({ in: await polPing('pol-denied', server, 26379), out: await polPing('pol-server', 'pol-denied', 6379) }).toEqual({ in: 'PONG', out: 'PONG' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    // And its deletion: pol-denied back without the label, the policy gone, everything flows.
    expect((await k('apply', '-f', 'policy')).stdout).toContain('pod/pol-denied configured\n');
    expect(await polPing('pol-denied', server, 6379)).toBe('exit=124');
    expect((await k('delete', 'networkpolicy', 'pol-server')).stdout).toBe('networkpolicy.networking.k8s.io "pol-server" deleted\n');
    expect({ in: await polPing('pol-denied', server, 6379), out: await polPing('pol-server', denied, 6379) }).toEqual({ in: 'PONG', out: 'PONG' });
    expect((await k('delete', '-f', 'policy', '--ignore-not-found', '--grace-period=0')).code).toBe(0);
  }, 90000);

  test('apply -f FILE -l SELECTOR applies only the objects whose labels match (=, ==, !=, ","; != matches a missing key)', async () => {
    const names = async (...args: string[]) => (await k('apply', '-f', ...args)).stdout;
    expect(await names('select/objects.yaml', '-l', 'tier=x,component!=bootstrap')).toBe('configmap/sel-plain created\n');
    expect(await names('select', '-l', 'tier==z')).toBe('configmap/sel-other created\n');
    expect(await names('select', '-l', 'component!=server')).toBe('configmap/sel-bootstrap created\nconfigmap/sel-plain unchanged\n');
    expect(await names('select', '-l', 'tier=w')).toBe('');
    expect((await k('get', 'cm', '-l', 'tier=x', '-o', 'name')).stdout).toBe('configmap/sel-bootstrap\nconfigmap/sel-plain\n');
    expect((await k('delete', '-f', 'select')).code).toBe(0);
  });

  test('create secret generic --from-file: the client reads the files, an optional secret volume fills late and empties when it goes; emptyDir medium Memory is a tmpfs', async () => {
    expect((await k('apply', '-f', 'secret')).code).toBe(0);
    await ready('late-secret');
    const inPod = async (script: string) => (await k('exec', 'late-secret', '--', 'sh', '-c', script)).stdout;
    expect(await inPod('ls /etc/k8e-late-auth; stat -f -c %T /run/k8e-late; echo in-memory > /run/k8e-late/f && cat /run/k8e-late/f')).toBe('tmpfs\nin-memory\n');
    // The tmpfs is the pod's own: the host directory behind the volume stays empty.
    const podDir = fs.readdirSync(path.join(emu.stateDir, 'pods')).find((d: string) => d.startsWith('default_late-secret_'));
    expect(fs.readdirSync(path.join(emu.stateDir, 'pods', podDir, 'volumes', 'run'))).toEqual([]);
    const missing = await k('get', 'secret', 'late-auth', '-o', 'name', '--ignore-not-found');
    expect({ code: missing.code, out: missing.stdout }).toEqual({ code: 0, out: '' });

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8e-secret-'));
    const password = `pw-${process.pid}-${Date.now()}`;
    try {
      fs.writeFileSync(path.join(dir, 'client'), password, { mode: 0o600 });
      fs.writeFileSync(path.join(dir, 'admin-password'), 'admin', { mode: 0o600 });
      const c = await k('create', 'secret', 'generic', 'late-auth', `--from-file=client-password=${dir}/client`, `--from-file=${dir}/admin-password`);
      expect({ code: c.code, out: c.stdout, err: c.stderr }).toEqual({ code: 0, out: 'secret/late-auth created\n', err: '' });
      const again = await k('create', 'secret', 'generic', 'late-auth', `--from-file=${dir}/admin-password`);
      expect({ code: again.code, err: again.stderr }).toEqual({ code: 1, err: 'error: failed to create secret secrets "late-auth" already exists\n' });
      const nofile = await k('create', 'secret', 'generic', 'other', `--from-file=${dir}/nope`);
      expect({ code: nofile.code, err: nofile.stderr }).toEqual({ code: 1, err: `error: error reading ${dir}/nope: no such file or directory\n` });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect((await k('get', 'secret', 'late-auth', '-o', 'name', '--ignore-not-found')).stdout).toBe('secret/late-auth\n');
    expect(Buffer.from(await jsonpath('secret late-auth', '{.data.client-password}'), 'base64').toString()).toBe(password);
    // The kubelet's sync: the files appear in the running pod, with the volume's defaultMode (0440).
    const files = 'ls /etc/k8e-late-auth; cat /etc/k8e-late-auth/client-password 2>/dev/null; echo; stat -L -c %a /etc/k8e-late-auth/client-password 2>/dev/null';
    const want = `admin-password\nclient-password\n${password}\n440\n`;
    expect(await eventually(3000, async () => { const out = await inPod(files); return out === want ? out : ''; })).toBe(want);
    // The password reached no argv and no log line of the run.
    expect(fs.readFileSync(path.join(emu.stateDir, 'events.log'), 'utf8')).not.toContain(password);
    expect((await k('delete', 'secret', 'late-auth')).code).toBe(0);
    expect(await eventually(3000, async () => (await inPod('ls /etc/k8e-late-auth; echo end')) === 'end\n')).toBe(true);
    expect((await k('delete', '-f', 'secret', '--grace-period=0')).code).toBe(0);
  }, 60000);

  test('PodDisruptionBudget: kubectl get pdb, and its status from the pods and their controller', async () => {
    const a = await k('apply', '-f', 'pdb');
    expect(a.stdout).toBe('replicationcontroller/pdb-pods created\npoddisruptionbudget.policy/pdb-max created\npoddisruptionbudget.policy/pdb-min created\n');
    const status = async () => jsonpath('pdb', '{range .items[*]}{.metadata.name} {.status.expectedPods} {.status.currentHealthy} {.status.desiredHealthy} {.status.disruptionsAllowed};{end}');
    expect(await eventually(10000, async () => { const st = await status(); return st === 'pdb-max 2 2 1 1;pdb-min 2 2 2 0;' && st; })).toBe('pdb-max 2 2 1 1;pdb-min 2 2 2 0;');
    expect((await k('get', 'pdb')).stdout).toMatch(/^NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE\npdb-max\s+N\/A\s+1\s+1\s+\d+s\npdb-min\s+2\s+N\/A\s+0\s+\d+s\n$/);
    expect((await k('get', 'pdb', 'pdb-max', '-o', 'name')).stdout).toBe('poddisruptionbudget.policy/pdb-max\n');
    expect((await k('scale', 'rc', 'pdb-pods', '--replicas=3')).code).toBe(0);
    expect(await eventually(10000, async () => { const st = await status(); return st === 'pdb-max 3 3 2 1;pdb-min 3 3 2 1;' && st; })).toBe('pdb-max 3 3 2 1;pdb-min 3 3 2 1;');
    expect((await k('delete', '-f', 'pdb', '--grace-period=0')).code).toBe(0);
  }, 60000);

  describe('faults (test controls through the harness)', () => {
    let client: string;
    const faultPods = async (): Promise<Array<{ name: string, ip: string }>> => (await jsonpath('pods -l app=fault --field-selector=status.phase=Running', '{range .items[*]}{.metadata.name} {.status.podIP} {.metadata.deletionTimestamp}{"\\n"}{end}'))
      .split('\n').map((l: string) => l.split(' ')).filter((f: string[]) => f[0] && !f[2]).map(([name, ip]: string[]) => ({ name, ip }));
    const allReady = () => eventually(30000, async () => (await jsonpath('rc fault', '{.status.readyReplicas}/{.spec.replicas}')) === '3/3');
    const readyCondition = (pod: string) => jsonpath(`pod ${pod}`, '{.status.conditions[?(@.type=="Ready")].status}');

    beforeAll(async () => {
      expect((await k('apply', '-f', 'faults')).code).toBe(0);
      client = 'fault-client';
      await ready(client);
      expect(await allReady()).toBe(true);
    }, 60000);
    afterAll(async () => { await k('delete', '-f', 'faults', '--grace-period=0', '--ignore-not-found'); }, 30000);

    test('freeze stops every process of the pod (containers, an exec) until thaw; its probe times out, so it turns not ready', async () => {
      const [a] = await faultPods();
      const exec = k('exec', a.name, '-c', 'side', '--', 'sleep', '97.5');
      const execPid = await eventually(5000, async () => fs.readdirSync('/proc').filter((d: string) => /^\d+$/.test(d))
        .find((d: string) => { try { return fs.readFileSync(`/proc/${d}/cmdline`, 'utf8') === 'sleep\u000097.5\u0000'; } catch { return false; } }));
      expect(execPid).toBeTruthy();
      const summary = (await emu.pods()).find((p: any) => p.name === a.name);
      const mains = summary.containers.map((c: any) => c.pid);
      const stopped: number[] = await emu.freeze(a.name);
      expect(stopped).toEqual(expect.arrayContaining([...mains, Number(execPid), summary.holderPid]));
      expect([...mains, Number(execPid)].map(procState)).toEqual(['T', 'T', 'T']);
      expect((await emu.pods()).find((p: any) => p.name === a.name).frozen).toBe(true);
      expect(await ping(client, 'main', a.ip)).toBe('exit=124');
      expect(await eventually(5000, async () => (await readyCondition(a.name)) === 'False')).toBe(true);
      await emu.thaw(a.name);
      expect([...mains, Number(execPid)].map(procState).filter((st) => st === 'T')).toEqual([]);
      expect(await ping(client, 'main', a.ip)).toBe('PONG');
      expect(await eventually(5000, async () => (await readyCondition(a.name)) === 'True')).toBe(true);
      process.kill(Number(execPid), 'SIGKILL');
      await exec;
    }, 30000);

    test('several pods deleted in one instant, with grace 0 and gracefully', async () => {
      for (const gracePeriod of [0, 2]) {
        const [a, b] = await faultPods();
        const deleted = await emu.deletePods([a.name, b.name], { gracePeriod, wait: true });
        expect(deleted.map((d: any) => d.pod)).toEqual([a.name, b.name]);
        expect({ gracePeriod, oneInstant: deleted[0].deletionTimestamp === deleted[1].deletionTimestamp }).toEqual({ gracePeriod, oneInstant: true });
        // Both were signalled before the controller heard of either and made a replacement.
        const log = fs.readFileSync(path.join(emu.stateDir, 'events.log'), 'utf8').split('\n');
        const first = log.findIndex((l: string) => l.includes(`deleting pod ${a.name} `));
        expect(log.slice(first, first + 2).map((l: string) => l.replace(/^\S+ /, '').replace(/ \(grace.*/, ''))).toEqual([`deleting pod ${a.name}`, `deleting pod ${b.name}`]);
        expect((await k('get', 'pod', a.name, b.name, '--ignore-not-found', '-o', 'name')).stdout).toBe('');
        expect(await allReady()).toBe(true);
      }
    }, 60000);

    test('split: a group with the client against the rest; each side talks within, not across; later pods join the rest; heal', async () => {
      const [a, b, c] = await faultPods();
      await emu.split([a.name, client]);
      const sides = Object.fromEntries((await emu.pods()).filter((p: any) => [a.name, b.name, client].includes(p.name)).map((p: any) => [p.name, p.side]));
      expect(sides).toEqual({ [a.name]: 'group', [b.name]: 'rest', [client]: 'group' });
      const [clientA, clientB, bc, ba, ac] = await Promise.all([
        ping(client, 'main', a.ip), ping(client, 'main', b.ip), ping(b.name, 'redis', c.ip), ping(b.name, 'redis', a.ip), ping(a.name, 'redis', c.ip),
      ]);
      expect({ clientA, clientB, bc, ba, ac }).toEqual({ clientA: 'PONG', clientB: 'exit=124', bc: 'PONG', ba: 'exit=124', ac: 'exit=124' });
      // The kubelet is on every pod's node: probes still pass on both sides.
      expect(await readyCondition(a.name)).toBe('True');
      expect((await k('scale', 'rc', 'fault', '--replicas=4')).code).toBe(0);
      const d = await eventually(20000, async () => (await faultPods()).find((p) => ![a.name, b.name, c.name].includes(p.name)));
      if (!d) throw new Error('no fourth pod after scaling to 4');
      expect({ db: await ping(d.name, 'redis', b.ip), da: await ping(d.name, 'redis', a.ip) }).toEqual({ db: 'PONG', da: 'exit=124' });
      await emu.heal();
      expect({ clientB: await ping(client, 'main', b.ip), ba: await ping(b.name, 'redis', a.ip) }).toEqual({ clientB: 'PONG', ba: 'PONG' });
      expect((await k('scale', 'rc', 'fault', '--replicas=3')).code).toBe(0);
    }, 60000);

    test('kill a main process with a chosen restart delay', async () => {
      const [a] = await faultPods();
      const restarts = async () => (await emu.pods()).find((p: any) => p.name === a.name).containers.find((c: any) => c.name === 'redis');
      const before = (await restarts()).restartCount;
      const t0 = Date.now();
      const killed = await emu.kill(a.name, 'redis', { match: 'redis-server', holdRestartMs: 3000 });
      // redis-server retitles itself "redis-server *:6379".
      expect(killed.map((p: any) => p.cmdline[0].split(' ')[0])).toEqual(['redis-server']);
      await sleep(1000);
      expect((await restarts()).state).toBe('waiting');
      const back = await eventually(10000, async () => { const c = await restarts(); return c.restartCount > before && c.state === 'running'; });
      const elapsed = Date.now() - t0;
      expect({ back, atLeast3s: elapsed >= 3000, under6s: elapsed < 6000 }).toEqual({ back: true, atLeast3s: true, under6s: true });
      expect(await eventually(5000, async () => (await ping(client, 'main', a.ip)) === 'PONG')).toBe(true);
    }, 30000);
  });

  test('name server: Service names through the search path, headless Services by readiness, pod hostname records, records that follow pods; DNS counts as kube-dns for policies', async () => {
    expect((await k('apply', '-f', 'dns')).code).toBe(0);
    await ready('dns-0', 'dns-client', 'dns-isolated');
    const inPod = async (pod: string, script: string) => (await k('exec', pod, '--', 'sh', '-c', script)).stdout;
    /** The addresses each name resolves to in dns-client, sorted ('' when it does not resolve), in one exec. */
    const resolveAll = async (names: string[]) => (await inPod('dns-client', names.map((n) => `getent ahostsv4 ${n}; echo --`).join('; ')))
      .split('--\n').slice(0, names.length)
      .map((out: string) => [...new Set(out.split('\n').filter(Boolean).map((l: string) => l.split(/\s+/)[0]))].sort().join(' '));
    const addrs = async (name: string) => (await resolveAll([name]))[0];
    const ip0 = await jsonpath('pod dns-0', '{.status.podIP}');
    const ip1 = await jsonpath('pod dns-1', '{.status.podIP}');
    const clusterIP = await jsonpath('svc dns-svc', '{.spec.clusterIP}');
    // The kubelet's files: the pod's own name in /etc/hosts (FQDN with its subdomain), the name server in resolv.conf.
    expect(await inPod('dns-0', 'hostname; grep -v "^#\\|^fe00\\|^::1\\|^127" /etc/hosts; cat /etc/resolv.conf'))
      .toBe(`dns-0\n${ip0}\tdns-0.dns-headless.default.svc.cluster.local\tdns-0\nnameserver 10.244.0.1\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n`);
    // A Service by each of its names, through the search path (dns-client may send DNS only: the
    // name server counts as a kube-dns pod for its policy).
    const svcNames = ['dns-svc', 'dns-svc.default', 'dns-svc.default.svc', 'dns-svc.default.svc.cluster.local'];
    expect(await resolveAll(svcNames)).toEqual(svcNames.map(() => clusterIP));
    // Headless: ready endpoints only, unless publishNotReadyAddresses; hostname records of endpoints.
    const headless = async () => {
      const [ready, all, pod0, pod1] = await resolveAll(['dns-headless', 'dns-all', 'dns-0.dns-headless', 'dns-1.dns-headless']);
      return { ready, all, pod0, pod1 };
    };
    expect(await headless()).toEqual({ ready: ip0, all: [ip0, ip1].sort().join(' '), pod0: ip0, pod1: '' });
    await inPod('dns-1', 'touch /tmp/ready');
    const both = [ip0, ip1].sort().join(' ');
    const want = { ready: both, all: both, pod0: ip0, pod1: ip1 };
    expect(await eventually(5000, async () => { const h = await headless(); return JSON.stringify(h) === JSON.stringify(want) && h; })).toEqual(want);
    // Unknown names fail at once (NXDOMAIN, nothing forwarded); a pod whose policy allows no egress cannot ask.
    const t = Date.now();
    expect(await addrs('no-such-service')).toBe('');
    expect(Date.now() - t).toBeLessThan(1500);
    expect((await inPod('dns-isolated', 'timeout 2 getent hosts dns-svc || echo exit=$?')).trim()).toBe('exit=124');
    // A deleted pod's records vanish within 2 s.
    const gone = Date.now();
    expect((await k('delete', 'pod', 'dns-1', '--wait=false')).code).toBe(0);
    expect(await eventually(2000, async () => { const h = await headless(); return h.ready === ip0 && h.pod1 === '' && !h.all.includes(ip1); })).toBe(true);
    const vanishedMs = Date.now() - gone;
    console.log(`[emulator] a deleted pod's DNS records vanished after ${vanishedMs} ms`);
    expect(vanishedMs).toBeLessThan(2000);
    expect((await k('delete', '-f', 'dns', '--grace-period=0', '--ignore-not-found')).code).toBe(0);
  }, 60000);
});
