/**
 * End-to-end: the StatefulSet topology (dist/statefulset/, issue 11) on the pod emulator, brought up
 * by `kubectl apply` alone: no launch script. One applied cluster is shared by the scenarios, in
 * order; each starts from a healthy cluster and runs a WAIT-acknowledged ioredis writer, the
 * two-masters monitor and the sentinel event log around one fault (e2e/lib/faults.js), and asserts:
 * no acknowledged write lost (also none of the earlier scenarios'), never two masters accepting
 * writes, healthy again within the fault's bound. The measured numbers are printed as
 * `[statefulset] ...` lines. K8E_STS=apply,kill-master,... runs only the named scenarios (apply
 * always runs). See e2e/README.md.
 */

export {}; // a module, not a global script: its names stay its own
const fs = require('fs');
const path = require('path');
const { canRun, DEFAULT_NODES } = require('./lib/harness');
const s = require('./lib/scenario');
const f = require('./lib/faults');
const sts = require('./lib/statefulset');

const skipReason: string | null = canRun();
const describeE2E = skipReason ? describe.skip : describe;
if (skipReason) test.skip(`e2e skipped: ${skipReason}`, () => undefined);

const DIST = sts.DIST;
const ONLY = (process.env.K8E_STS || '').split(',').filter(Boolean);

const sec = (ms: number | null) => (ms === null ? 'never' : `${(ms / 1000).toFixed(2)} s`);
function report(name: string, value: unknown): void {
  console.log(`[statefulset] ${name}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
}

describeE2E('issue 11: the StatefulSet topology, applied with kubectl alone', () => {
  let emu: any;
  const cs = f.clusterSettings(DIST);
  const b = f.bounds(cs);
  const topo = sts.topology(DIST);
  /** How the faults' health check sees this topology: the Redis StatefulSet's ready pods. */
  const ready = topo.ready;
  /** How many Redis and sentinel pods a healthy cluster has now (scale changes it). */
  const want = { redis: 3, sentinels: 3 };
  // Getters: observe() reads them after the fault, which may have scaled the StatefulSet.
  const ctx = () => ({ cs, b, health: { ready, get redis() { return want.redis; }, get sentinels() { return want.sentinels; } } });
  const healthy = (timeoutMs: number) => s.waitHealthy(emu, { timeoutMs, ready, ...want });
  const k = (...args: string[]) => emu.kubectl(args, { timeoutMs: 180000 });
  let appliedOk = false;
  const tally = { started: 0, passed: 0 };
  /** Every acknowledged write so far: the volumes keep them through every scenario. */
  const keySets: Array<{ prefix: string, runs: Array<[number, number]> }> = [];
  let n = 0;

  const scenario = (id: string) => (title: string, fn: () => Promise<void>, timeoutMs: number) => {
    if (id !== 'apply' && ONLY.length && !ONLY.includes(id)) return test.skip(title, fn);
    return test(title, async () => {
      tally.started++;
      if (id !== 'apply' && !appliedOk) throw new Error('not run: the apply failed');
      await fn();
      tally.passed++;
    }, timeoutMs);
  };

  /**
   * One fault with the writer, the monitor and the event log around it (faults.observe); returns
   * the observation and the problems: the common ones and the fault's own.
   */
  async function run(id: string, fault: any, own: (o: any, inj: any) => string[] = () => []) {
    await healthy(90000).catch((e: Error) => {
      throw new Error(`the cluster was not healthy before ${id}: ${e.message.split('\n').slice(0, 6).join('\n')}`);
    });
    // The master goes home (masterOnFirstPod) by itself: every scenario starts from there, and no
    // hand-back falls into its measurement.
    const homeMs = await sts.masterHome(emu, cs, b.homeMs).catch((e: Error) => {
      throw new Error(`before ${id}, within ${sec(b.homeMs)} of a healthy cluster: ${e.message}`);
    });
    if (homeMs !== null && homeMs > 1000) report(`${id}: the master went back to its home pod first`, `${sec(homeMs)} after the cluster was healthy`);
    const prefix = `${id}-${++n}`;
    const { inj, obs, healthy: notHealthy, writer, monitor } = await f.observe(emu, fault, ctx(), prefix);
    report(id, f.summary(inj, obs));
    if (obs.lostSample.length) report(`${id} lost writes (first)`, obs.lostSample.map((x: any) => ({ seq: x.seq, atMs: x.t - inj.t0, via: x.via })));
    const bad: string[] = [];
    if (obs.lostCounted === null) bad.push(`the acknowledged writes could not be checked: ${obs.verifyError}`);
    else if (obs.lostCounted) bad.push(`${obs.lostCounted} acknowledged writes lost`);
    if (obs.splitRounds.length) bad.push(`two masters accepted writes at once: ${JSON.stringify(obs.splitRounds.slice(0, 3))}`);
    if (obs.acked === 0) bad.push('the writer never had a write acknowledged');
    if (notHealthy) bad.push(`not healthy within ${sec(fault.settleMs(b))} after the fault ended: ${notHealthy}`);
    bad.push(...own(obs, inj));
    // No handover or hand-back leaves a Redis with its replication pings stopped (its replicas
    // would time out whenever writes pause).
    const stopped = (await s.agent(emu, ['state'])).redis.filter((r: any) => r.pingPeriod !== cs.env.REPL_PING_SECONDS);
    if (stopped.length) bad.push(`repl-ping-replica-period is not ${cs.env.REPL_PING_SECONDS} on ${stopped.map((r: any) => `${r.pod} (${r.pingPeriod})`).join(', ')}`);
    if (keySets.length) {
      const v = await f.verifyKeys(emu, keySets);
      if (v.error) bad.push(`could not check the writes of earlier scenarios: ${v.error}`);
      if (v.missing) bad.push(`${v.missing} of ${v.checked} writes acknowledged in earlier scenarios are gone: ${JSON.stringify(v.byPrefix)}`);
    }
    keySets.push({ prefix, runs: writer.kept });
    expect({ scenario: id, fault: inj.detail, problems: bad }).toEqual({ scenario: id, fault: inj.detail, problems: [] });
    return { inj, obs, writer, monitor };
  }

  /** A fault of this file: what it does, and how long the cluster gets to be healthy after it ends. */
  const fault = (name: string, settleMs: (bb: any) => number, inject: () => Promise<any>) => ({ name, what: name, settleMs, inject });
  const redisPodNames = async () => (await f.redisPods(emu)).map((p: any) => p.name).sort();
  const nodeOf = async (pod: string) => (await k('get', 'pod', pod, '-o', 'jsonpath={.spec.nodeName}')).stdout;
  /** Until every pod of the StatefulSet is ready again (a replaced pod, a new revision). */
  const settled = (timeoutMs: number) => topo.settled(emu, timeoutMs);
  const failedOver = (o: any) => (o.newMasterMs === null || o.newMasterMs > b.failoverMs
    ? [`another master accepted writes after ${sec(o.newMasterMs)}, bound D + F = ${sec(b.failoverMs)}`] : []);

  beforeAll(async () => {
    report('manifests under test', DIST);
    report('bounds', { ...b, D: cs.downAfterMs, F: cs.failoverTimeoutMs });
    emu = await sts.start();
    report('emulator state dir', emu.stateDir);
  }, 60000);

  afterAll(async () => {
    if (!emu) return;
    const keep = tally.passed < tally.started;
    await emu.stop({ keepLogs: keep });
    if (keep) report('logs kept for the failed run', emu.stateDir);
  }, 60000);

  scenario('apply')('kubectl apply -f dist/statefulset into an empty namespace reaches health by itself; applying again changes nothing', async () => {
    // The Secret comes from outside the manifests, as a GitOps setup provides it (sealed or external
    // secrets); the pods wait for it.
    const c = await sts.createSecret(emu);
    expect(c.code).toBe(0);

    const objects = fs.readdirSync(DIST).reduce((m: number, file: string) => m + (fs.readFileSync(path.join(DIST, file), 'utf8').match(/^kind: /gm) || []).length, 0);
    const t0 = Date.now();
    const first = await k('apply', '-f', DIST);
    expect({ code: first.code, stderr: first.stderr }).toEqual({ code: 0, stderr: '' });
    const h = await healthy(180000);
    const applyMs = Date.now() - t0;
    report('apply → healthy', `${sec(applyMs)} (master ${h.master.pod})`);
    appliedOk = true;

    // Again, with the writer running: every object unchanged, nothing restarts, no write lost.
    const { obs } = await run('apply-again', fault('apply-again', () => 5000, async () => {
      const t = Date.now();
      const again = await k('apply', '-f', DIST);
      const lines = again.stdout.split('\n').filter(Boolean);
      report('second apply', lines.join('; '));
      expect(again.code).toBe(0);
      expect(lines.filter((l: string) => !/ unchanged$/.test(l))).toEqual([]);
      expect(lines.length).toBe(objects);
      return { t0: t, tEnd: Date.now(), failover: false, detail: 'kubectl apply -f dist/statefulset again' };
    }), (o) => (o.switches ? [`${o.switches} +switch-master events`] : []));
    expect(obs.writerOutageMs).toBeLessThan(1000);
  }, 300000);

  scenario('kill-master')('the master pod killed (grace 0): another is promoted; the pod comes back with a new IP and is found by name', async () => {
    let before = '';
    const { inj } = await run('kill-master', fault('kill-master', (bb) => bb.rejoinMs, async () => {
      const { master } = await f.roles(emu);
      before = master.ip;
      const t0 = Date.now();
      await emu.deletePods([master.pod], { gracePeriod: 0 });
      return { t0, tEnd: t0, pod: master.pod, ip: master.ip, failover: true, detail: `deleted ${master.pod} (${master.ip}) with grace 0` };
    }), (o) => [...failedOver(o)]);
    const back = (await f.redisPods(emu)).find((p: any) => p.name === inj.pod);
    report('kill-master: the pod came back', `${inj.pod} ${before} → ${back && back.ip}`);
    expect(back && back.ip).not.toBe(before);
  }, 300000);

  scenario('restart-all')('every pod killed at once, volumes kept, one replica behind: back to health by itself with the newest data', async () => {
    // The replica with the lowest ordinal falls behind first: its data lacks acknowledged writes.
    const { obs } = await run('restart-all', sts.restartAll({ freezeBehind: true }), (o: any) => (o.resumedAfterEndMs === null || o.resumedAfterEndMs > b.foundMs
      ? [`writes resumed after ${sec(o.resumedAfterEndMs)}, bound DISCOVERY_TIMEOUT + 3 INFO periods = ${sec(b.foundMs)}`] : []));
    report('restart-all → healthy', `${sec(obs.healthyAfterEndMs)}; writes resumed after ${sec(obs.resumedAfterEndMs)} (bound ${sec(b.foundMs)})`);
  }, 420000);

  scenario('kill-sentinels')('every sentinel killed at once: writes go on, and they come back agreeing on the master (no failover)', async () => {
    await run('kill-sentinels', fault('kill-sentinels', (bb) => bb.sentinelsMs, async () => {
      const pods = await redisPodNames();
      const t0 = Date.now();
      await Promise.all(pods.map((p: string) => emu.kill(p, 'sentinel', { match: 'redis-sentinel', signal: 'SIGKILL' })));
      return { t0, tEnd: t0, failover: false, detail: `killed redis-sentinel in ${pods.join(', ')}` };
    }), (o) => [
      ...(o.writerOutageMs > b.clientMs ? [`the writer was out for ${sec(o.writerOutageMs)} though the master never went`] : []),
      ...(o.switches ? [`${o.switches} +switch-master events: a failover of a master that never went`] : []),
    ]);
  }, 300000);

  scenario('empty-master')('the master restarted with an empty volume (its claim deleted): it does not wipe its replicas', async () => {
    await run('empty-master', fault('empty-master', (bb) => bb.rejoinMs, async () => {
      const { master } = await f.roles(emu);
      const t0 = Date.now();
      expect((await k('delete', 'pvc', `data-${master.pod}`, '--wait=false')).code).toBe(0);
      await emu.deletePods([master.pod], { gracePeriod: 0 });
      return { t0, tEnd: t0, pod: master.pod, ip: master.ip, failover: true, detail: `deleted the claim and the pod of ${master.pod} with grace 0` };
    }), (o) => [...failedOver(o)]);
  }, 300000);

  scenario('rolling-update')('a rolling update (a changed pod template applied) with the writer running: replicas first, the master last, one short handover; then the master goes home', async () => {
    let order: string[] = [];
    let updateEnd = 0;
    let master = '';
    const home = cs.env.MASTER_HOME_POD;
    const { obs, inj, writer, monitor } = await run('rolling-update', fault('rolling-update', (bb) => bb.rejoinMs, async () => {
      const u = await sts.rollingUpdate(emu, topo, '2');
      expect(u.applied.stdout).toMatch(/statefulset.apps\/redis-ha configured/);
      order = u.order;
      updateEnd = u.tEnd;
      master = u.master.pod;
      // ... and the hand-back to the home pod, with the writer still running
      const backMs = await sts.masterHome(emu, cs, b.homeMs);
      report('rolling-update: the master back on its home pod', `${sec(backMs)} after the update ended`);
      return { t0: u.t0, tEnd: Date.now(), pod: u.master.pod, failover: false, detail: `applied a new template; master was ${u.master.pod}` };
    }));
    report('rolling-update: pods replaced in order', order.join(', '));
    // To the monitor's end: it sees the home pod accept writes a moment after masterHome saw its role.
    const { handovers, otherGapsMs } = sts.handoverWindows(monitor.masterTimeline, sts.writeWindows(writer, inj), inj.t0, Infinity);
    const text = (hs: any[]) => hs.map((h) => `to ${h.pod} at ${((h.t - inj.t0) / 1000).toFixed(1)} s, window ${h.windowMs === null ? 'under the writer\'s gap threshold' : `${h.windowMs} ms`}`).join('; ') || 'none';
    const during = handovers.filter((h: any) => h.t <= updateEnd);
    const back = handovers.filter((h: any) => h.t > updateEnd);
    report('rolling-update: handovers during the update', text(during));
    report('rolling-update: hand-backs after it', text(back));
    report('rolling-update: writer gaps at no handover', otherGapsMs.map((ms: number) => `${ms} ms`).join(', ') || 'none');
    // A gap over the planned-handover target gets the writer's connection events beside it.
    for (const g of sts.writeWindows(writer, inj).filter((w: any) => w.ms > b.plannedTargetMs)) {
      report(`rolling-update: the writer's connection events in its ${g.ms} ms gap at ${((g.from - inj.t0) / 1000).toFixed(1)} s`, sts.gapEvents(writer, g));
    }
    expect(obs.writerOutageMs).toBeLessThan(b.plannedMs);
    // The master was on its home pod, ordinal 0, which the StatefulSet controller replaces last:
    // the replicas first, the master last, one handover; then one hand-back home.
    expect({ master, lastReplaced: (order[order.length - 1] || '').split(' ')[0], during: during.length, back: back.map((h: any) => h.pod) })
      .toEqual({ master: home, lastReplaced: home, during: 1, back: [home] });
  }, 420000);

  scenario('node-lost')('the master\'s node lost: another master within the failover bound; the pod is rescheduled with its volume', async () => {
    let node = '';
    await run('node-lost', fault('node-lost', (bb) => bb.rejoinMs + 10000, async () => {
      const { master } = await f.roles(emu);
      node = await nodeOf(master.pod);
      const t0 = Date.now();
      await emu.nodeLost(node);
      return { t0, tEnd: t0, pod: master.pod, ip: master.ip, failover: true, detail: `lost ${node} (master ${master.pod})` };
    }), (o) => [...failedOver(o)]);
    await emu.nodeBack(node);
  }, 300000);

  scenario('drain')('a drain of the master\'s node under the PodDisruptionBudget: the master hands over first', async () => {
    let node = '';
    await run('drain', fault('drain', (bb) => bb.rejoinMs, async () => {
      const { master } = await f.roles(emu);
      node = await nodeOf(master.pod);
      const t0 = Date.now();
      const r = await k('drain', node, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=120s');
      report('drain', `${node}: exit ${r.code} in ${Date.now() - t0} ms`);
      expect(r.code).toBe(0);
      await settled(120000);
      return { t0, tEnd: Date.now(), pod: master.pod, ip: master.ip, failover: false, detail: `drained ${node} (master ${master.pod})` };
    }), (o) => (o.writerOutageMs > b.plannedMs ? [`writes stopped for ${sec(o.writerOutageMs)}, bound D = ${sec(b.plannedMs)}`] : []));
    await k('uncordon', node);
  }, 300000);

  scenario('cut-master')('the master cut off, then healed: replaced, and rejoins as a replica', async () => {
    await run('cut-master', f.FAULTS['cut-master'], (o) => [...failedOver(o)]);
  }, 300000);

  scenario('dns-gone')('the master\'s DNS record gone while it is down (its pod deleted, the new one cannot be scheduled): the failover is not blocked', async () => {
    const nodes = DEFAULT_NODES.map((x: any) => x.name);
    await run('dns-gone', fault('dns-gone', (bb) => bb.rejoinMs + 20000, async () => {
      const { master } = await f.roles(emu);
      for (const node of nodes) await k('cordon', node);
      const t0 = Date.now();
      await emu.deletePods([master.pod], { gracePeriod: 0 });
      // Held away for a whole failover's time: the name does not resolve meanwhile.
      await s.sleep(b.failoverMs);
      const resolves = (await k('exec', s.CLIENT_POD, '--', 'getent', 'hosts', `${master.pod}.redis-ha-headless.default.svc`)).stdout.trim();
      report('dns-gone: the master\'s name while it was away', resolves || 'does not resolve');
      for (const node of nodes) await k('uncordon', node);
      return { t0, tEnd: Date.now(), pod: master.pod, ip: master.ip, failover: true, detail: `deleted ${master.pod} with every node cordoned for ${sec(b.failoverMs)}` };
    }), (o) => [...failedOver(o)]);
  }, 300000);

  scenario('scale')('scale 3 → 5 → 3 with the writer running', async () => {
    /** Scales the Redis StatefulSet (and with it the sidecar sentinels) to `n`, until healthy at that size. */
    const scaleTo = (n: number) => async () => {
      const t0 = Date.now();
      expect((await k('scale', `statefulset/${topo.redis}`, `--replicas=${n}`)).code).toBe(0);
      want.redis = n;
      want.sentinels = n;
      await settled(180000);
      return { t0, tEnd: Date.now(), failover: false, detail: `scaled to ${n}` };
    };
    await run('scale-up', fault('scale-up', (bb) => bb.sentinelsMs, scaleTo(5)));
    await run('scale-down', fault('scale-down', (bb) => bb.sentinelsMs + 60000, scaleTo(3)));
  }, 600000);
});
