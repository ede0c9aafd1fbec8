/**
 * End-to-end: the faults of issue 8 on one cluster launched by dist/launch/launch.sh on the pod
 * emulator. Each scenario starts from a healthy cluster, runs a WAIT-acknowledged ioredis writer,
 * the two-masters monitor and the sentinel event log around one fault, and asserts: no
 * acknowledged write lost, never two masters accepting writes, and recovery within a bound derived
 * from down-after (D) and failover-timeout (F) in e2e/lib/faults.js. The first fault comes right
 * after the launch; every later one meets a cluster that has been through failovers, and the
 * freeze runs in both. K8E_FAULTS=freeze,kill,... runs only the named scenarios (on a fresh
 * cluster). See e2e/README.md and docs/reliability.md.
 */

export {}; // a module, not a global script: its names stay its own
const { canRun } = require('./lib/harness');
const s = require('./lib/scenario');
const f = require('./lib/faults');

const skipReason: string | null = canRun();
const describeE2E = skipReason ? describe.skip : describe;
if (skipReason) test.skip(`e2e skipped: ${skipReason}`, () => undefined);

const ONLY = (process.env.K8E_FAULTS || '').split(',').filter(Boolean);
/** Scenarios that started and that passed: a run keeps its logs unless every one that started passed. */
const tally = { started: 0, passed: 0 };
/** A scenario the run includes (all, unless K8E_FAULTS names some). */
const scenario = (id: string) => (title: string, fn: () => Promise<void>, timeoutMs: number) => {
  if (ONLY.length && !ONLY.includes(id)) return test.skip(title, fn);
  return test(title, async () => {
    tally.started++;
    await fn();
    tally.passed++;
  }, timeoutMs);
};

/** What a pod that founds an empty cluster must say (issue 8 §2: "the logs ... say so plainly"). */
const DATA_GONE = /data[^\n]*\b(gone|lost)\b|\b(gone|lost)\b[^\n]*data/i;

function report(name: string, value: unknown): void {
  console.log(`[reliability] ${name}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
}

const sec = (ms: number | null) => (ms === null ? 'never' : `${(ms / 1000).toFixed(2)} s`);

describeE2E('issue 8: faults on one launched cluster', () => {
  let emu: any;
  const cs = f.clusterSettings();
  const b = f.bounds(cs);
  const ctx = { cs, b };
  let launchedOk = false;
  /** Every acknowledged write so far that the cluster must still hold (reset when all data goes). */
  let keySets: Array<{ prefix: string, runs: Array<[number, number]> }> = [];
  let n = 0;

  /**
   * Runs a fault on a healthy cluster, reports its numbers, and returns what broke: the common
   * checks (no acknowledged write lost, the earlier writes still there, never two masters, healthy
   * again within the bound) and the fault's own.
   */
  async function run(id: string, own: (o: any, inj: any) => string[], opts: { keepEarlier?: boolean } = {}) {
    if (!launchedOk) throw new Error('not run: the launch failed');
    await s.waitHealthy(emu, { timeoutMs: 60000 }).catch((e: Error) => {
      throw new Error(`the cluster was not healthy before the fault (an earlier scenario left it so): ${e.message.split('\n').slice(0, 6).join('\n')}`);
    });
    const prefix = `${id}-${++n}`;
    const { inj, obs, healthy, writer } = await f.observe(emu, f.FAULTS[id], ctx, prefix);
    report(id, f.summary(inj, obs));
    if (obs.lostSample.length) report(`${id} lost writes (first)`, obs.lostSample.map((x: any) => ({ seq: x.seq, atMs: x.t - inj.t0, via: x.via })));
    report(`${id} acknowledged by`, obs.ackedBy);
    const bad: string[] = [];
    if (obs.lostCounted === null) bad.push(`the acknowledged writes could not be checked: ${obs.verifyError}`);
    else if (obs.lostCounted) bad.push(`${obs.lostCounted} acknowledged writes lost`);
    if (obs.splitRounds.length) bad.push(`two masters accepted writes at once: ${JSON.stringify(obs.splitRounds.slice(0, 3))}`);
    if (obs.monitorRounds <= 5) bad.push(`the monitor ran only ${obs.monitorRounds} rounds`);
    if (obs.acked === 0) bad.push('the writer never had a write acknowledged');
    if (healthy) bad.push(`not healthy within ${sec(f.FAULTS[id].settleMs(b))} after the fault ended: ${healthy}`);
    bad.push(...own(obs, inj));
    if (!opts.keepEarlier) keySets = [];
    else if (keySets.length) {
      const v = await f.verifyKeys(emu, keySets);
      if (v.error) bad.push(`could not check the writes of earlier scenarios: ${v.error}`);
      if (v.missing) bad.push(`${v.missing} of ${v.checked} writes acknowledged in earlier scenarios are gone: ${JSON.stringify(v.byPrefix)}`);
    }
    keySets.push({ prefix, runs: writer.kept });
    expect({ scenario: id, fault: inj.detail, problems: bad }).toEqual({ scenario: id, fault: inj.detail, problems: [] });
    return { inj, obs };
  }

  /**
   * The failover bound of a fault: D + F, or D + 2F + 3 INFO periods when the sentinels report a
   * split election (-failover-abort-not-elected). A sentinel that is gone (the launch's bootstrap
   * pod, or one a fault deleted) counts toward the majority a leader needs until every janitor has
   * pruned it (PRUNE_AFTER_SECONDS); two candidates in one epoch can then both lose, and Sentinel
   * tries again only after 2F (docs/reliability.md, "One outlier"). The report names the split.
   */
  const failoverBound = (o: any): [number, string] => (o.failoverAborts.some((a: string) => a.endsWith('-failover-abort-not-elected'))
    ? [b.splitElectionMs, 'D + 2F + 3 INFO periods (a split election)'] : [b.failoverMs, 'D + F']);
  /** A master was lost: another accepts writes within the failover bound. */
  const failedOver = (o: any) => {
    const [bound, text] = failoverBound(o);
    return o.newMasterMs === null || o.newMasterMs > bound ? [`another master accepted writes after ${sec(o.newMasterMs)}, bound ${text} = ${sec(bound)}`] : [];
  };
  /** The writer has writes acknowledged again within clientMs of the fault's end. */
  const clientBack = (o: any) => (o.resumedAfterEndMs === null || o.resumedAfterEndMs > b.clientMs
    ? [`the writer's writes resumed ${sec(o.resumedAfterEndMs)} after the fault ended, bound D = ${sec(b.clientMs)}`] : []);

  beforeAll(async () => {
    report('manifests under test', s.DIST);
    report('bounds', { ...b, D: cs.downAfterMs, F: cs.failoverTimeoutMs });
    emu = await s.startWithClient();
    report('emulator state dir', emu.stateDir);
    const r = await s.launch(emu);
    report('launch script', `exit ${r.code} in ${r.ms} ms`);
    if (r.code !== 0) throw new Error(`launch script failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    await s.waitHealthy(emu, { timeoutMs: 60000 });
    launchedOk = true;
  }, 480000);

  afterAll(async () => {
    if (!emu) return;
    const keep = tally.passed < tally.started || !launchedOk;
    await emu.stop({ keepLogs: keep });
    if (keep) report('logs kept for the failed run', emu.stateDir);
  }, 60000);

  scenario('freeze')('a master frozen for 20 s right after the launch loses no acknowledged write and is replaced', async () => {
    await run('freeze', (o) => [...failedOver(o), ...clientBack(o)]);
  }, 300000);

  scenario('kill')('a killed master (restart after the failover) is replaced and rejoins as a replica', async () => {
    await run('kill', (o) => {
      const [bound, text] = failoverBound(o);
      return [
        ...failedOver(o),
        ...(o.writerOutageMs > bound ? [`the writer was out for ${sec(o.writerOutageMs)}, bound ${text} = ${sec(bound)}`] : []),
      ];
    }, { keepEarlier: true });
  }, 300000);

  scenario('cut-master')('a master cut off alone is replaced, and rejoins as a replica when the network heals', async () => {
    // Not clientBack: the writer is on the majority side, and what crossed the cut (its pending
    // command, the old master's refusal or close of the connection) was dropped; TCP sends it again
    // only when its retransmission timer, backed off to seconds by then, runs out after the heal.
    // Main and the issue 8 pods both showed 6.5 s; the cluster's part is the failover, asserted here.
    await run('cut-master', (o) => [...failedOver(o)], { keepEarlier: true });
  }, 300000);

  scenario('cut-minority')('a master cut off with a replica and the clients stops acknowledging before the majority can promote', async () => {
    await run('cut-minority', (o) => [
      ...(o.ackedAfterFence ? [`the cut-off side acknowledged writes later than D = ${sec(b.fenceMs)} after the cut`] : []),
      ...clientBack(o),
    ], { keepEarlier: true });
  }, 300000);

  scenario('planned-delete')('a planned delete of the master hands over first (preStop)', async () => {
    const { obs } = await run('planned-delete', (o) => [
      ...failedOver(o),
      ...(o.writerOutageMs > b.plannedMs ? [`writes stopped for ${sec(o.writerOutageMs)} on a planned delete, bound D = ${sec(b.plannedMs)}`] : []),
    ], { keepEarlier: true });
    report('planned delete: refused-writes window', `${sec(obs.writerOutageMs)} (target < ${sec(b.plannedTargetMs)}: ${obs.writerOutageMs < b.plannedTargetMs ? 'met' : 'NOT met'})`);
  }, 300000);

  scenario('freeze')('a master frozen for 20 s after earlier failovers (two deleted pods among the replicas the sentinels remember) loses no acknowledged write', async () => {
    await run('freeze', (o) => [...failedOver(o), ...clientBack(o)], { keepEarlier: true });
  }, 300000);

  scenario('delete-sentinels')('every sentinel pod deleted at once: writes go on, the new sentinels find the master, and fail it over', async () => {
    await run('delete-sentinels', (o) => [
      ...(o.writerOutageMs > b.clientMs ? [`the writer was out for ${sec(o.writerOutageMs)} though the master never went, bound D = ${sec(b.clientMs)}`] : []),
      ...(o.switches ? [`${o.switches} +switch-master events: a failover of a master that never went`] : []),
    ], { keepEarlier: true });
    // The new sentinels must be able to fail the master over: kill it.
    await run('kill', (o) => [...failedOver(o)], { keepEarlier: true });
  }, 420000);

  scenario('kill-thrice')('a master killed three times 20 s apart while the janitors forget a deleted sentinel is failed over each time', async () => {
    // Both kills come before the janitors have pruned the deleted sentinel (failoverBound).
    await run('kill-thrice', (o) => {
      const [bound, boundText] = failoverBound(o);
      return [
        ...(o.noGoodReplica.length ? [`a failover leader knew no replica to promote (-failover-abort-no-good-slave): ${o.noGoodReplica.join(', ')}`] : []),
        ...(o.longestNoMasterMs > bound ? [`no master accepted writes for ${sec(o.longestNoMasterMs)}, bound ${boundText} = ${sec(bound)}`] : []),
      ];
    }, { keepEarlier: true });
  }, 420000);

  scenario('delete-all')('every pod deleted at once: the cluster comes back by itself with one master and says the data is gone', async () => {
    await run('delete-all', (o) => [
      ...(o.newMasterMs === null || o.newMasterMs > b.foundMs ? [`a master accepted writes after ${sec(o.newMasterMs)}, bound DISCOVERY_TIMEOUT + 3 INFO periods = ${sec(b.foundMs)}`] : []),
      // The application's own path back: the sentinel Service, the new sentinels, the new master.
      ...(o.resumedAfterEndMs === null || o.resumedAfterEndMs > b.foundMs ? [`the writer's writes resumed after ${sec(o.resumedAfterEndMs)}, bound ${sec(b.foundMs)}`] : []),
    ]);
    let said = '';
    for (const p of await f.redisPods(emu)) {
      const logs = (await emu.kubectl(['logs', p.name, '-c', 'redis'])).stdout;
      const line = logs.split('\n').find((l: string) => DATA_GONE.test(l));
      if (line) said = `${p.name}: ${line.trim()}`;
    }
    report('delete-all: what the logs say', said || 'nothing about the data');
    expect(said).toMatch(DATA_GONE);
  }, 420000);

  scenario('delete-all-launch')('every pod deleted, then launch.sh at once: it repairs or re-bootstraps without a second master', async () => {
    if (!launchedOk) throw new Error('not run: the launch failed');
    await s.waitHealthy(emu, { timeoutMs: 60000 });
    const monitor = await s.agentBackground(emu, ['monitor']);
    const pods = [...await f.redisPods(emu), ...await f.sentinelPods(emu)].map((p: any) => p.name);
    const t0 = Date.now();
    await emu.deletePods(pods, { gracePeriod: 0 });
    const r = await s.launch(emu, { timeoutMs: 600000 });
    report('launch.sh after every pod was deleted', `exit ${r.code} in ${r.ms} ms`);
    report('launch.sh said', r.stdout.split('\n').filter((l: string) => /survey|found|bootstrap|master|data/i.test(l)).slice(0, 30).join('\n'));
    const h = await s.waitHealthy(emu, { timeoutMs: 60000 }).catch((e: Error) => e);
    const m = await monitor.stop();
    report('delete-all-launch', `healthy after ${sec(Date.now() - t0)}; masters accepting writes at once at most ${m.maxAccepting}`);
    expect({ code: r.code, stderr: r.stderr.split('\n').filter(Boolean).slice(0, 12) }).toEqual({ code: 0, stderr: [] });
    expect(h).not.toBeInstanceOf(Error);
    expect(m.splitRounds).toEqual([]);
    // The cluster launched afresh (or founded by its pods) takes writes again, acknowledged by WAIT,
    // through the sentinel Service: the master it names takes 200 keys, each batch acknowledged.
    const ww = await s.agent(emu, ['write-wait', 'after-relaunch', '200']);
    report('after launch.sh: write-wait through the Service', ww);
    expect({ acked: ww.acked, notAcked: ww.notAcked }).toEqual({ acked: 200, notAcked: 0 });
    // And an application's ioredis writer, through the Service, within the time a new cluster's
    // sentinels get to know it.
    const writer = await f.startWriter(emu, 'after-relaunch-ioredis');
    const from = Date.now();
    await s.sleep(b.sentinelsMs);
    const w = await writer.result();
    const first = w.acks.length ? w.acks[0][0] - from : null;
    report('after launch.sh: ioredis writer', { acked: w.acked, lost: w.lost, firstAckMs: first, errors: w.errors });
    expect({ acked: w.acked > 0, lost: w.lost }).toEqual({ acked: true, lost: 0 });
  }, 720000);
});
