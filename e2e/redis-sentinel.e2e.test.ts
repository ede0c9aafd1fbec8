/**
 * End-to-end: dist/ and its launch script on the pod emulator (real redis-server / redis-sentinel
 * processes in network and mount namespaces). One cluster is launched and then taken through the
 * failure scenarios in order, so each test starts from the state the previous one left, as an
 * operator's cluster would. See e2e/README.md.
 */
 
export {}; // a module, not a global script: its names stay its own
const fs = require('fs');
const os = require('os');
const path = require('path');
const { canRun } = require('./lib/harness');
const s = require('./lib/scenario');

const SECRET = 'redis-auth';
const SECRET_KEYS = ['client-password', 'replication-password', 'sentinel-password', 'admin-password'];

const skipReason: string | null = canRun();
const describeE2E = skipReason ? describe.skip : describe;

if (skipReason) {
  // Visible in the jest output as a skipped test with the reason, never a silent pass.
  test.skip(`e2e skipped: ${skipReason}`, () => undefined);
}

const READY = /ready to accept connections/i;
const MONITOR = /\+monitor master/;

async function until<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await s.sleep(500);
  }
}

function report(name: string, value: unknown): void {
   
  console.log(`[e2e] ${name}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
}

describeE2E('dist/ on the pod emulator', () => {
  let emu: any;
  const passed: string[] = [];
  const keySets: Array<[string, number]> = [];
  let seedWriter: any;
  let seedMonitor: any;
  let bootstrapIp = '';
  /** Every password the run used, and every text a user or operator sees, for the leak check at the end. */
  const passwords = new Set<string>();
  const launchOutputs: string[] = [];
  /** What the /proc sampler saw of the Redis and sentinel pods' processes: command line + environment, by argv[0]. */
  const processes = new Map<string, Set<string>>();

  async function secretData(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const key of SECRET_KEYS) {
      const r = await emu.kubectl(['get', 'secret', SECRET, '-o', `jsonpath={.data.${key}}`]);
      out[key] = Buffer.from(r.stdout.trim(), 'base64').toString();
    }
    return out;
  }

  /** Replaces the Secret with these keys, as `kubectl apply -f` of a file that only we can read. */
  async function applySecret(data: Record<string, string>): Promise<void> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8e-secret-'));
    try {
      const file = path.join(dir, 'secret.json');
      const manifest = { apiVersion: 'v1', kind: 'Secret', metadata: { name: SECRET }, type: 'Opaque',
        data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) };
      fs.writeFileSync(file, JSON.stringify(manifest), { mode: 0o600 });
      const a = await emu.kubectl(['apply', '-f', file]);
      expect(a.code).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Each Redis and sentinel container, and how often it logged that it loaded a changed Secret. */
  async function loadedCounts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const p of await emu.pods()) {
      for (const c of p.containers.filter((x: any) => ['master', 'redis', 'sentinel'].includes(x.name))) {
        out[`${p.name}/${c.name}`] = ((await logsOf(p.name, c.name)).match(/loaded the passwords of Secret redis-auth into the running/g) ?? []).length;
      }
    }
    return out;
  }

  /**
   * Samples /proc every 100 ms until stopped: the command line and environment of every process in
   * the network namespace of a Redis or sentinel pod (the emulator has no PID namespace, so the host
   * sees them all). redis-cli calls last milliseconds; sampling catches a good share of them.
   */
  async function sampleProcesses(): Promise<() => void> {
    const nets = new Set<string>();
    for (const p of await emu.pods()) {
      if (!p.containers.some((c: any) => ['master', 'redis', 'sentinel'].includes(c.name))) continue;
      const info = await emu.request({ op: 'exec-info', pod: p.name, container: p.containers[0].name });
      nets.add(fs.readlinkSync(`/proc/${info.holderPid}/ns/net`));
    }
    const sample = () => {
      for (const pid of fs.readdirSync('/proc').filter((d: string) => /^\d+$/.test(d))) {
        try {
          if (!nets.has(fs.readlinkSync(`/proc/${pid}/ns/net`))) continue;
          const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1');
          const seen = `${cmdline}\n${fs.readFileSync(`/proc/${pid}/environ`, 'latin1')}`;
          const name = path.basename(cmdline.split('\0')[0].split(' ')[0]);
          if (!processes.has(name)) processes.set(name, new Set());
          processes.get(name)!.add(seen);
        } catch { /* it ended */ }
      }
    };
    sample();
    const timer = setInterval(sample, 100);
    return () => clearInterval(timer);
  }

  async function logsOf(pod: string, container: string): Promise<string> {
    const r = await emu.kubectl(['logs', pod, '-c', container]);
    return r.stdout;
  }

  async function podNames(selector: string): Promise<string[]> {
    const r = await emu.kubectl(['get', 'pods', '-l', selector, '-o', 'jsonpath={.items[*].metadata.name}']);
    return r.stdout.split(/\s+/).filter(Boolean);
  }

  async function expectKeys(): Promise<void> {
    for (const [prefix, n] of keySets) {
      const r = await s.agent(emu, ['read', prefix, String(n)]);
      expect({ prefix, missing: r.missing, sample: r.sample }).toEqual({ prefix, missing: 0, sample: [] });
    }
  }

  async function writeAcked(prefix: string, n: number): Promise<void> {
    const w = await s.agent(emu, ['write-wait', prefix, String(n)]);
    expect(w.acked).toBe(n);
    keySets.push([prefix, n]);
  }

  function checkWriter(name: string, w: any): void {
    report(`${name} writer`, { attempted: w.attempted, acked: w.acked, lost: w.lost, longestGapMs: w.longestGapMs, masterOnly: w.masterOnly, errors: w.errors });
    expect(w.acked).toBeGreaterThan(0);
    expect({ lost: w.lost, sample: w.lostSample }).toEqual({ lost: 0, sample: [] });
  }

  function checkMonitor(name: string, m: any): void {
    report(`${name} masters accepting writes`, { max: m.maxAccepting, rounds: m.rounds, split: m.splitRounds });
    expect(m.rounds).toBeGreaterThan(5);
    expect(m.splitRounds).toEqual([]);
  }

  // Every scenario after the first runs on the cluster that the launch script built.
  async function launched(): Promise<void> {
    if (!passed.includes('seed')) throw new Error('not run: it needs the cluster from the seed tutorial test, which failed');
  }

  // A scenario starts from a healthy cluster, so that one failure does not hide in the next.
  async function healthyFirst(): Promise<void> {
    await launched();
    await s.waitHealthy(emu, { timeoutMs: 60000 });
  }

  beforeAll(async () => {
    report('manifests under test', s.DIST);
    emu = await s.startWithClient();
    report('emulator state dir', emu.stateDir);
  }, 60000);

  afterAll(async () => {
    if (!emu) return;
    const keep = passed.length < 12;
    await emu.stop({ keepLogs: keep });
    if (keep) report('logs kept for the failed run', emu.stateDir);
  }, 60000);

  test('the seed tutorial: the launch script bootstraps, scales, deletes the bootstrap pod and a new master is elected', async () => {
    await emu.request({ op: 'hold', match: 'delete pod redis-master' });
    const script = s.launch(emu);
    let scriptDone: any = null;
    script.then((r: any) => { scriptDone = r; });

    // The bootstrap master is ready and its sentinel monitors it (what the Kubernetes e2e asserted).
    await until('the bootstrap pod logs', 120000, async () => {
      if (scriptDone) throw new Error(`launch script ended early (${scriptDone.code}):\n${scriptDone.stdout}\n${scriptDone.stderr}`);
      return READY.test(await logsOf('redis-master', 'master')) && MONITOR.test(await logsOf('redis-master', 'sentinel'));
    });

    // The script has scaled and verified; hold it just before it deletes the bootstrap pod.
    await until('the launch script to reach the bootstrap delete', 180000, async () => {
      if (scriptDone) throw new Error(`launch script ended before deleting the bootstrap pod (${scriptDone.code}):\n${scriptDone.stdout}\n${scriptDone.stderr}`);
      return (await emu.request({ op: 'hold-status', match: 'delete pod redis-master' })).hits > 0;
    });

    // After scaling: every redis pod replicates from the bootstrap master, every sentinel monitors it.
    const before = await s.agent(emu, ['state']);
    report('state before the bootstrap delete', before);
    const boot = before.redis.find((r: any) => r.pod === 'redis-master');
    expect(boot && boot.role).toBe('master');
    bootstrapIp = boot.ip;
    expect(before.redis).toHaveLength(3);
    for (const r of before.redis.filter((x: any) => x !== boot)) {
      expect({ pod: r.pod, role: r.role, master: r.masterHost, link: r.link }).toEqual({ pod: r.pod, role: 'slave', master: bootstrapIp, link: 'up' });
    }
    expect(before.sentinels.length).toBeGreaterThanOrEqual(3);
    for (const x of before.sentinels) expect({ pod: x.pod, master: x.master }).toEqual({ pod: x.pod, master: bootstrapIp });
    for (const pod of await podNames('name=redis')) {
      if (pod !== 'redis-master') expect(await logsOf(pod, 'redis')).toMatch(READY);
    }
    for (const pod of await podNames('redis-sentinel=true')) expect(await logsOf(pod, 'sentinel')).toMatch(MONITOR);

    // Keys acknowledged by WAIT before the bootstrap pod goes; a Sentinel-aware client writing
    // through the failover; a watch for two masters.
    await writeAcked('seed', 1000);
    seedWriter = await s.agentBackground(emu, ['writer', 'w-seed']);
    seedMonitor = await s.agentBackground(emu, ['monitor']);
    await s.sleep(2000);

    await emu.request({ op: 'release', match: 'delete pod redis-master' });
    const r = await script;
    launchOutputs.push(r.stdout, r.stderr);
    report('launch script', `exit ${r.code} in ${r.ms} ms`);
    if (r.code !== 0) throw new Error(`launch script failed (${r.code}):\n${r.stdout}\n${r.stderr}`);

    // A new master among the replicas, every replica follows it, all sentinels agree, both
    // controllers at full count.
    const h = await s.waitHealthy(emu, { notMaster: bootstrapIp, timeoutMs: 60000 });
    expect(h.master.pod).toMatch(/^redis-[a-z0-9]{5}$/);
    // The launch made the Secret; the agent logged in with its client password all along.
    for (const p of Object.values(await secretData())) passwords.add(p);
    expect([...passwords].map((p) => /^[0-9a-f]{64}$/.test(p))).toEqual(SECRET_KEYS.map(() => true));
    expect((await emu.kubectl(['get', 'pod', 'redis-master', '--ignore-not-found', '-o', 'name'])).stdout).toBe('');
    passed.push('seed');
  }, 420000);

  test('no acknowledged write is lost when the bootstrap pod is deleted', async () => {
    await launched();
    await expectKeys();
    passed.push('wait-keys');
  }, 60000);

  test('a Sentinel-aware client (ioredis) writes through the failover without losing acknowledged writes', async () => {
    await launched();
    const w = await seedWriter.stop();
    checkWriter('bootstrap failover', w);
    report('longest window without a successful write (ms)', w.longestGapMs);
    checkMonitor('bootstrap failover', await seedMonitor.stop());
    passed.push('ioredis');
  }, 120000);

  test('security: no password gets NOAUTH; the client password cannot reconfigure, stop, replicate, flush, debug, load modules or command the sentinels; a forged hello moves no sentinel', async () => {
    await healthyFirst();
    const r = await s.agent(emu, ['security']);
    report('security', { master: r.master, noauth: r.noauth.length, refused: r.refused.length, hello: r.hello });
    for (const [where, what, reply] of r.noauth) expect({ where, what, reply }).toEqual({ where, what, reply: 'NOAUTH Authentication required.' });
    expect(r.noauth.length).toBe(6);
    expect(r.refused.filter(([, , reply]: string[]) => !/^NOPERM |^ERR (DEBUG|MODULE) command not allowed/.test(reply))).toEqual([]);
    expect(r.refused.length).toBe(3 * 17 + 3 * 11);
    expect(r.allowed).toEqual(['"OK"', '"v"', '0']);
    for (const [where, reply] of r.hello.replies) expect({ where, reply }).toEqual({ where, reply: expect.stringMatching(/^NOPERM /) });
    expect(r.hello.mastersAfter).toEqual(r.hello.mastersAfter.map(([pod]: string[]) => [pod, r.master]));
    expect(r.hello.target).not.toBe(r.master);
    await s.waitHealthy(emu, { timeoutMs: 30000 });
    passed.push('security');
  }, 120000);

  test('a pod without the client label reaches neither port, even with the password; the client pod reaches both', async () => {
    await launched();
    const w = await emu.kubectl(['wait', '--for=condition=Ready', 'pod/k8e-stranger', '--timeout=30s']);
    expect(w.code).toBe(0);
    const client = await s.agent(emu, ['reach']);
    const stranger = await emu.agent('k8e-stranger', 'client', ['reach']);
    report('reach', { client, stranger });
    expect(client.length).toBe(7); // 3 Redis, 3 sentinels, the Service
    expect(client.filter(([, r]: string[]) => r !== 'open')).toEqual([]);
    expect(stranger.map(([t]: string[]) => t)).toEqual(client.map(([t]: string[]) => t));
    expect(stranger.filter(([, r]: string[]) => r !== 'timeout')).toEqual([]);
    passed.push('reach');
  }, 60000);

  test('a second failover after the sentinel controller replaced a pod', async () => {
    await healthyFirst();
    const sentinels = await podNames('role=sentinel');
    expect(sentinels.length).toBe(3);
    const del = await emu.kubectl(['delete', 'pod', sentinels[0], '--wait=true', '--timeout=60s']);
    expect(del.code).toBe(0);
    await s.waitHealthy(emu, { timeoutMs: 90000 });

    const writer = await s.agentBackground(emu, ['writer', 'w-second']);
    const monitor = await s.agentBackground(emu, ['monitor']);
    await writeAcked('second', 500);
    const old = await s.masterPod(emu);
    await emu.request({ op: 'delete-pod', pod: old.pod, gracePeriod: 0 });
    const h = await s.waitHealthy(emu, { notMaster: old.ip, timeoutMs: 90000 });
    report('second failover', `${old.pod} (${old.ip}) -> ${h.master.pod} (${h.master.ip})`);
    checkWriter('second failover', await writer.stop());
    checkMonitor('second failover', await monitor.stop());
    await expectKeys();
    passed.push('second');
  }, 240000);

  for (const [label, holdMs] of [['faster', 0], ['slower', 12000]] as Array<[string, number]>) {
    test(`a crashed master keeps its data: its container restarts ${label} than down-after`, async () => {
      await healthyFirst();
      const writer = await s.agentBackground(emu, ['writer', `w-crash-${label}`]);
      const monitor = await s.agentBackground(emu, ['monitor']);
      await writeAcked(`crash-${label}`, 500);
      const old = await s.masterPod(emu);
      const pods = await emu.pods();
      const before = pods.find((p: any) => p.name === old.pod).containers.find((c: any) => c.name === 'redis').restartCount;
      const k = await emu.request({ op: 'kill', pod: old.pod, container: 'redis', match: 'redis-server', signal: 'SIGKILL', holdRestartMs: holdMs });
      expect(k.killed.length).toBe(1);
      await until('the container to restart', 60000, async () => {
        const p = (await emu.pods()).find((x: any) => x.name === old.pod);
        const c = p && p.containers.find((x: any) => x.name === 'redis');
        return c && c.restartCount > before && c.state === 'running';
      });
      const h = await s.waitHealthy(emu, { timeoutMs: 90000 });
      report(`crash ${label}`, `master was ${old.pod}, now ${h.master.pod}`);
      checkWriter(`crash ${label}`, await writer.stop());
      checkMonitor(`crash ${label}`, await monitor.stop());
      await expectKeys();
      passed.push(`crash-${label}`);
    }, 240000);
  }

  test('no quorum, no failover: 2 of 3 sentinels cut off, the master killed', async () => {
    await healthyFirst();
    const sentinels = await podNames('role=sentinel');
    expect(sentinels.length).toBe(3);
    const old = await s.masterPod(emu);
    const monitor = await s.agentBackground(emu, ['monitor']);
    const cut = sentinels.slice(0, 2);
    try {
      for (const p of cut) await emu.request({ op: 'partition', pod: p, on: true });
      await emu.request({ op: 'kill', pod: old.pod, container: 'redis', match: 'redis-server', signal: 'SIGKILL', holdRestartMs: 20000 });
      // Three times down-after without quorum: no replica may be promoted.
      const deadline = Date.now() + 15000;
      while (Date.now() < deadline) {
        const st = await s.agent(emu, ['state']);
        const promoted = st.redis.filter((r: any) => r.role === 'master' && r.pod !== old.pod);
        expect(promoted).toEqual([]);
        await s.sleep(1000);
      }
    } finally {
      for (const p of cut) await emu.request({ op: 'partition', pod: p, on: false });
    }
    const h = await s.waitHealthy(emu, { timeoutMs: 120000 });
    report('after the quorum came back', `master ${h.master.pod} (was ${old.pod})`);
    checkMonitor('no quorum', await monitor.stop());
    await expectKeys();
    passed.push('no-quorum');
  }, 240000);

  test('applying again is safe: kubectl apply -f dist and the launch script, still one master and every key', async () => {
    await healthyFirst();
    await writeAcked('again', 300);
    const monitor = await s.agentBackground(emu, ['monitor']);
    const a = await emu.kubectl(['apply', '-f', s.DIST]);
    report('kubectl apply -f dist', a.stdout.trim());
    expect(a.code).toBe(0);
    const r = await s.launch(emu);
    launchOutputs.push(r.stdout, r.stderr);
    expect(r.stdout).toContain(`secret/${SECRET} exists: keeping it`);
    report('launch script again', `exit ${r.code} in ${r.ms} ms`);
    if (r.code !== 0) throw new Error(`launch script failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    await s.waitHealthy(emu, { timeoutMs: 90000 });
    checkMonitor('apply again', await monitor.stop());
    await expectKeys();
    passed.push('again');
  }, 420000);

  test('a password rotation (docs/security.md) with the writer running loses no write and refuses no authenticated client', async () => {
    await healthyFirst();
    const old = await secretData();
    const next: Record<string, string> = Object.fromEntries(SECRET_KEYS.map((k) => [k, require('crypto').randomBytes(32).toString('hex')]));
    for (const p of Object.values(next)) passwords.add(p);
    const stopSampling = await sampleProcesses();
    const base = await loadedCounts();
    expect(Object.keys(base)).toHaveLength(6);
    const step = async (n: number, data: Record<string, string>) => {
      await applySecret(data);
      await until(`every Redis and sentinel container loaded step ${n}`, 60000, async () => {
        const now = await loadedCounts();
        return Object.keys(base).every((c) => now[c] >= base[c] + n);
      });
    };
    try {
      const a = await s.agentBackground(emu, ['writer', 'w-rotate-old']); // the old client password (its env at start)
      const monitor = await s.agentBackground(emu, ['monitor']);
      await s.sleep(2000);
      // 1. the new passwords as <key>-next
      await step(1, { ...old, ...Object.fromEntries(SECRET_KEYS.map((k) => [`${k}-next`, next[k]])) });
      // 2. swapped; the application moves to the new password (a new writer: its env has it)
      await step(2, { ...next, ...Object.fromEntries(SECRET_KEYS.map((k) => [`${k}-next`, old[k]])) });
      const b = await s.agentBackground(emu, ['writer', 'w-rotate-new']);
      await s.sleep(2000);
      const wa = await a.stop();
      // 3. the old ones removed
      await step(3, next);
      await s.sleep(2000);
      const wb = await b.stop();
      for (const [name, w] of [['old password', wa], ['new password', wb]] as Array<[string, any]>) {
        checkWriter(`rotation, ${name}`, w);
        const { masterOnlyPresentAfter: _, ...errors } = w.errors;
        expect({ name, errors, masterOnly: w.masterOnly }).toEqual({ name, errors: {}, masterOnly: 0 });
      }
      checkMonitor('rotation', await monitor.stop());
      await s.waitHealthy(emu, { timeoutMs: 30000 });
      await expectKeys();
    } finally {
      stopSampling();
    }
    passed.push('rotation');
  }, 300000);

  test('no password in dist/, the ConfigMap, any container log, the launch script\'s output, or the command line or environment of any process in the Redis and sentinel pods', async () => {
    await launched();
    expect(passwords.size).toBe(8);
    const leaks = (what: string, text: string) => [...passwords].filter((p) => text.includes(p)).map(() => what);
    const found: string[] = [];
    const walk = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true })
      .flatMap((e: any) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
    for (const f of walk(s.DIST)) found.push(...leaks(f, fs.readFileSync(f, 'utf8')));
    const cm = await emu.kubectl(['get', 'configmap', 'redis-config', '-o', 'jsonpath={.data}']);
    expect(cm.stdout).toContain('redis-users.acl');
    found.push(...leaks('ConfigMap redis-config', cm.stdout));
    // every container's log, of every pod the run had, every restart; the emulator's own logs
    const logs = walk(emu.stateDir).filter((f: string) => f.endsWith('.log'));
    expect(logs.filter((f: string) => f.includes(`${path.sep}logs${path.sep}`)).length).toBeGreaterThan(12);
    for (const f of logs) found.push(...leaks(f, fs.readFileSync(f, 'utf8')));
    for (const out of launchOutputs) found.push(...leaks('the launch script\'s output', out));
    expect(launchOutputs.length).toBe(4);
    // the processes seen during the rotation (and now): servers, scripts, probes, redis-cli
    const stopSampling = await sampleProcesses();
    await s.sleep(3000);
    stopSampling();
    report('processes seen in the Redis and sentinel pods', Object.fromEntries([...processes].map(([name, seen]) => [name, seen.size])));
    for (const name of ['redis-server', 'redis-sentinel', 'redis-cli']) expect(processes.get(name)?.size ?? 0).toBeGreaterThan(0);
    for (const [name, seen] of processes) for (const t of seen) found.push(...leaks(`a ${name} process`, t));
    expect(found).toEqual([]);
    passed.push('no-leak');
  }, 120000);
});
