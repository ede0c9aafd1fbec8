#!/usr/bin/env node
// @ts-check
'use strict';
// npm run bench:failover [-- --topology classic,statefulset,statefulset-separate] [-- --trials 10]
//   [-- --updates 3] [-- --restarts 1] [-- --settle 40] [-- --out FILE]
//
// A benchmark, not a test: brings each topology up on its own e2e pod emulator, one after another
// in this one process, and measures them side by side (issue 8 §1, issue 11 §5). Topologies (all
// three unless --topology names some; `-- --trials 5 --settle 10` alone runs all three):
//   classic                dist/ by dist/launch/launch.sh (bootstrap pod, two ReplicationControllers)
//   statefulset            dist/statefulset/ by `kubectl apply` alone: sentinels as sidecars in the Redis pods
//   statefulset-separate   the same instance synthesized with SentinelPlacement.STATEFUL_SET (the
//                          sentinels in a StatefulSet of their own), into a temporary folder
//                          from the built library (lib/: npm run build); K8E_DIST moves the other two
// Per topology, from a healthy cluster each time (settle S seconds first):
//   up                     launch.sh (classic) or kubectl apply (StatefulSet) → healthy
//   kill, N trials         the master's pod killed outright (every container SIGKILLed, its IP gone,
//                          as when a node dies under it) while an ioredis client writes through the
//                          sentinel Service; from the kill: detection (first +odown), promotion (first
//                          +switch-master), writes resumed (first SET + WAIT 1 acknowledged); the
//                          acknowledged writes missing from the final master
//   rolling update, U      StatefulSet only: a changed pod template applied (e2e/lib/statefulset.js)
//                          with the WAIT-acknowledged writer of e2e/lib/faults.js running; per
//                          handover (another pod became the one master) its write-unavailability
//                          window (the writer's gap at it), and the writer's gaps at no handover;
//                          whether the master's pod was replaced last; then (masterOnFirstPod) the
//                          time until the master is back on ordinal 0 and the hand-back's window;
//                          issue 11's targets: every handover's window under 1 s, master last
//   restart, R             every Redis and sentinel pod deleted with grace 0; StatefulSet: the
//                          volumes kept; classic: the fault delete-all (emptyDir: the data goes, by
//                          design), recovered by the pods themselves without launch.sh (as
//                          docs/reliability.md states); → healthy and → writes resumed
// Then one table, rows the measures, columns the topologies, cells "median (max)", and the JSON of
// every trial. It states the target of issue 8 §1 per topology: the maximum of writes resumed under
// down-after + 3 s. Needs root (see e2e/README.md).

const fs = require('fs');
const os = require('os');
const { canRun } = require('../e2e/lib/harness');
const s = require('../e2e/lib/scenario');
const f = require('../e2e/lib/faults');
const sts = require('../e2e/lib/statefulset');
const { arg, stats, sec } = require('./failover-lib');

/** @typedef {import('../e2e/lib/harness').Emulator} Emulator */
/**
 * @typedef {{ trial: number, killed: string, sdownMs: number | null, detectionMs: number | null, promotionMs: number | null, killMs: number,
 *   resumedMs: number | null, acked: number, lost: number | null, healthy: boolean }} KillTrial
 * @typedef {{ update: number, detail: string, order: string[], masterLast: boolean, windowsMs: Array<number | null>, homeWindowsMs: Array<number | null>, homeMs: number | null,
 *   otherGapsMs: number[], acked: number, lostCounted: number | null, healthy: string | null }} UpdateRun
 * @typedef {{ restart: number, detail: string, healthyMs: number | null, resumedMs: number | null, acked: number, lostCounted: number | null, lostExcused: number, healthy: string | null }} RestartRun
 * @typedef {{ name: string, title: string, dist: string, settings: { downAfterMs: number, failoverTimeoutMs: number, benchTargetMs: number, plannedTargetMs: number }, upMs: number | null,
 *   kills: KillTrial[], updates: UpdateRun[] | null, restarts: RestartRun[], restartHow: string, error: string | null }} TopologyResult
 */

/**
 * How the benchmark brings up, judges and restarts each topology.
 * @typedef {{ title: string, dist: string, cs: import('../e2e/lib/faults').ClusterSettings, start: () => Promise<Emulator>, up: (emu: Emulator) => Promise<void>,
 *   health: import('../e2e/lib/faults').FaultContext['health'], restart: import('../e2e/lib/faults').Fault, restartHow: string,
 *   topo: import('../e2e/lib/statefulset').Topology | null, cleanup: () => void }} Topology
 */

/** @returns {Topology} */
function classic() {
  return {
    title: 'classic (launch.sh)',
    dist: s.DIST,
    cs: f.clusterSettings(s.DIST),
    start: () => s.startWithClient(),
    up: async (emu) => {
      const l = await s.launch(emu);
      if (l.code !== 0) throw new Error(`launch failed (${l.code}):\n${l.stdout}\n${l.stderr}`);
      await s.waitHealthy(emu, { timeoutMs: 120000 });
    },
    health: {},
    restart: f.FAULTS['delete-all'],
    restartHow: 'every pod deleted with grace 0 (emptyDir: data gone), back by the pods themselves, no launch.sh',
    topo: null,
    cleanup: () => undefined,
  };
}

/** @param {string} title @param {string} dist @param {() => void} cleanup @returns {Topology} */
function statefulSet(title, dist, cleanup) {
  const topo = sts.topology(dist);
  const health = { ready: topo.ready };
  return {
    title,
    dist,
    cs: f.clusterSettings(dist),
    start: sts.start,
    up: async (emu) => {
      const a = await emu.kubectl(['apply', '-f', dist], { timeoutMs: 180000 });
      if (a.code !== 0) throw new Error(`kubectl apply -f ${dist} failed (${a.code}): ${a.stderr}`);
      await s.waitHealthy(emu, { timeoutMs: 180000, ...health });
    },
    health,
    restart: sts.restartAll(),
    restartHow: 'every Redis and sentinel pod deleted with grace 0, volumes kept',
    topo,
    cleanup,
  };
}

/** @type {Record<string, () => Topology>} */
const TOPOLOGIES = {
  'classic': classic,
  'statefulset': () => statefulSet('StatefulSet, sentinel sidecars', sts.DIST, () => undefined),
  'statefulset-separate': () => {
    const dist = sts.synthesize({ sentinelPlacement: sts.library().props.SentinelPlacement.STATEFUL_SET });
    return statefulSet('StatefulSet, sentinel StatefulSet', dist, () => fs.rmSync(dist, { recursive: true, force: true }));
  },
};

/** @param {unknown} e */
const firstLines = (e) => /** @type {Error} */ (e).message.split('\n').slice(0, 6).join('\n');

/**
 * N times: the master's pod killed with grace 0 while the ioredis writer runs.
 * @param {Emulator} emu @param {Topology} t @param {{ trials: number, settle: number }} opts @param {KillTrial[]} results
 */
async function killTrials(emu, t, { trials, settle }, results) {
  for (let i = 1; i <= trials; i++) {
    await settled(emu, t, Math.max(0, settle - 3));
    const events = await s.agentBackground(emu, ['events']);
    const writer = await s.agentBackground(emu, ['writer', `bench-${i}`], { env: { K8E_OK_TIMES: '1' } });
    await s.sleep(3000);
    const old = await s.masterPod(emu);
    const t0 = Date.now();
    // Returns once every process of the pod is dead and its network namespace is gone.
    await emu.request({ op: 'delete-pod', pod: old.pod, gracePeriod: 0, wait: true });
    const tGone = Date.now();
    let healthy = true;
    try {
      await s.waitHealthy(emu, { notMaster: old.ip, timeoutMs: 120000, ...t.health });
    } catch (e) {
      healthy = false;
      console.error(`trial ${i}: ${firstLines(e)}`);
    }
    await s.sleep(1000);
    const w = await writer.stop();
    /** @type {Array<{ t: number, channel: string, msg: string }>} */
    const ev = (await events.stop()).events;
    /** @param {(e: { channel: string, msg: string }) => boolean} pred @returns {number | null} ms from the kill */
    const first = (pred) => { const e = ev.find((x) => x.t >= t0 && pred(x)); return e ? e.t - t0 : null; };
    /** @type {KillTrial} */
    const r = {
      trial: i,
      killed: `${old.pod} (${old.ip})`,
      sdownMs: first((x) => x.channel === '+sdown' && x.msg.startsWith('master ')),
      detectionMs: first((x) => x.channel === '+odown'),
      promotionMs: first((x) => x.channel === '+switch-master'),
      killMs: tGone - t0,
      resumedMs: (() => { const x = /** @type {number[]} */ (w.okTimes || []).find((y) => y > tGone); return x ? x - t0 : null; })(),
      acked: w.acked,
      lost: w.lost,
      healthy,
    };
    results.push(r);
    console.log(`kill ${i}: killed ${r.killed}; detection ${sec(r.detectionMs)}, promotion ${sec(r.promotionMs)}, writes resumed ${sec(r.resumedMs)}, acked ${r.acked}, lost ${r.lost}${healthy ? '' : ', NOT HEALTHY AFTER'}`);
    if (!healthy) throw new Error(`not healthy 120 s after kill ${i}`);
  }
}

/**
 * Before each fault: a healthy cluster, with the master on its home pod when it has one (its
 * hand-back must not fall into the next measurement), then `settle` seconds.
 * @param {Emulator} emu @param {Topology} t @param {number} settle
 */
async function settled(emu, t, settle) {
  await s.waitHealthy(emu, { timeoutMs: 120000, ...t.health });
  const b = f.bounds(t.cs);
  if (b.homeMs !== null) await sts.masterHome(emu, t.cs, b.homeMs);
  await s.sleep(settle * 1000);
}

/**
 * One fault with the faults.js writer, monitor and event log around it, after the settle.
 * @param {Emulator} emu @param {Topology} t @param {import('../e2e/lib/faults').Fault} fault @param {string} prefix @param {number} settle
 */
async function observed(emu, t, fault, prefix, settle) {
  await settled(emu, t, settle);
  const r = await f.observe(emu, fault, { cs: t.cs, b: f.bounds(t.cs), health: t.health }, prefix);
  console.log(`${prefix}: ${f.summary(r.inj, r.obs)}`);
  return r;
}

/**
 * Rolling updates, each to a new revision of the Redis pods' template.
 * @param {Emulator} emu @param {Topology} t @param {import('../e2e/lib/statefulset').Topology} topo @param {{ updates: number, settle: number }} opts @param {UpdateRun[]} out
 */
async function rollingUpdates(emu, t, topo, { updates, settle }, out) {
  const b = f.bounds(t.cs);
  for (let i = 1; i <= updates; i++) {
    /** @type {string[]} */
    let order = [];
    let updateEnd = 0;
    /** @type {number | null} */
    let homeMs = null;
    const fault = {
      name: 'rolling-update', what: 'a changed pod template applied', settleMs: (/** @type {import('../e2e/lib/faults').Bounds} */ bb) => bb.rejoinMs,
      inject: async () => {
        const u = await sts.rollingUpdate(emu, topo, `bench-${i + 1}`);
        if (!/statefulset.apps\/\S+ configured/.test(u.applied.stdout)) throw new Error(`the changed template was not applied: ${u.applied.stdout}${u.applied.stderr}`);
        order = u.order;
        updateEnd = u.tEnd;
        // With a home pod (masterOnFirstPod) the master hands back after the update: measured too.
        if (b.homeMs !== null) homeMs = await sts.masterHome(emu, t.cs, b.homeMs);
        return { t0: u.t0, tEnd: Date.now(), pod: u.master.pod, failover: false, detail: `applied revision bench-${i + 1}; master was ${u.master.pod}` };
      },
    };
    const { inj, obs, healthy, writer, monitor } = await observed(emu, t, fault, `update-${i}`, settle);
    const gaps = sts.writeWindows(writer, inj);
    // To the monitor's end: it sees the home pod accept writes a moment after masterHome saw its role.
    const { handovers, otherGapsMs } = sts.handoverWindows(monitor.masterTimeline, gaps, inj.t0, Infinity);
    const windowsMs = handovers.filter((h) => h.t <= updateEnd).map((h) => h.windowMs);
    const homeWindowsMs = handovers.filter((h) => h.t > updateEnd).map((h) => h.windowMs);
    const masterLast = order.length > 0 && order[order.length - 1].includes('(master)');
    out.push({ update: i, detail: inj.detail, order, masterLast, windowsMs, homeWindowsMs, homeMs, otherGapsMs, acked: obs.acked, lostCounted: obs.lostCounted, healthy });
    const ms = (/** @type {Array<number | null>} */ xs) => xs.map((x) => (x === null ? 'under 250 ms' : `${x} ms`)).join(', ') || 'none';
    console.log(`update ${i}: pods replaced ${order.join(', ')}; handovers ${windowsMs.length}, their windows ${ms(windowsMs)}; `
      + `${homeMs === null ? '' : `master home ${sec(homeMs)} after the update, hand-back windows ${ms(homeWindowsMs)}; `}other writer gaps ${ms(otherGapsMs)}`);
    // A gap over the planned-handover target (issue 11: 1 s) gets the writer's connection events beside it.
    for (const g of gaps.filter((w) => w.ms > b.plannedTargetMs)) {
      console.log(`  the writer's connection events in its ${g.ms} ms gap: ${sts.gapEvents(writer, g)}`);
    }
    if (healthy) throw new Error(`not healthy after update ${i}: ${healthy}`);
  }
}

/**
 * Whole-cluster restarts.
 * @param {Emulator} emu @param {Topology} t @param {{ restarts: number, settle: number }} opts @param {RestartRun[]} out
 */
async function restarts(emu, t, { restarts: n, settle }, out) {
  for (let i = 1; i <= n; i++) {
    const { inj, obs, healthy } = await observed(emu, t, t.restart, `restart-${i}`, settle);
    out.push({
      restart: i, detail: inj.detail, healthyMs: obs.healthyAfterEndMs, resumedMs: obs.resumedAfterEndMs,
      acked: obs.acked, lostCounted: obs.lostCounted, lostExcused: obs.lostExcused, healthy,
    });
    if (healthy) throw new Error(`not healthy after restart ${i}: ${healthy}`);
  }
}

/**
 * Brings one topology up on its own emulator and measures it; a failure ends this topology (its
 * logs kept), not the run.
 * @param {string} name @param {{ trials: number, updates: number, restarts: number, settle: number }} opts
 * @returns {Promise<TopologyResult>}
 */
async function bench(name, opts) {
  const t = TOPOLOGIES[name]();
  const cs = t.cs;
  const b = f.bounds(cs);
  /** @type {TopologyResult} */
  const r = {
    name, title: t.title, dist: t.dist, settings: { downAfterMs: cs.downAfterMs, failoverTimeoutMs: cs.failoverTimeoutMs, benchTargetMs: b.benchTargetMs, plannedTargetMs: b.plannedTargetMs }, upMs: null,
    kills: [], updates: t.topo && opts.updates ? [] : null, restarts: [], restartHow: t.restartHow, error: null,
  };
  console.log(`\n== ${name}: ${t.title}, manifests ${t.dist}, down-after ${cs.downAfterMs} ms, failover-timeout ${cs.failoverTimeoutMs} ms`);
  /** @type {Emulator | null} */
  let emu = null;
  try {
    emu = await t.start();
    if (t.topo) {
      // The Secret comes from outside the manifests (the pods wait for it): made before the clock starts.
      const c = await sts.createSecret(emu);
      if (c.code !== 0) throw new Error(`kubectl create secret: ${c.stderr}`);
    }
    const t0 = Date.now();
    await t.up(emu);
    r.upMs = Date.now() - t0;
    console.log(`up: healthy after ${sec(r.upMs)}`);
    await killTrials(emu, t, opts, r.kills);
    if (t.topo && r.updates) await rollingUpdates(emu, t, t.topo, opts, r.updates);
    // Last: the classic restart takes the data with it.
    await restarts(emu, t, opts, r.restarts);
  } catch (e) {
    r.error = firstLines(e);
    console.error(`${name}: ${r.error}`);
  } finally {
    // Logs are kept for a failure and for lost acknowledged writes: both want a diagnosis.
    const lostAny = [...r.kills.map((k) => k.lost), ...(r.updates || []).map((u) => u.lostCounted), ...r.restarts.map((x) => x.lostCounted)].some((n) => n !== 0);
    if (emu) {
      await emu.stop({ keepLogs: r.error !== null || lostAny });
      if (r.error || lostAny) console.error(`${name}: logs kept in ${emu.stateDir}${lostAny ? ' (acknowledged writes lost or not checked)' : ''}`);
    }
    t.cleanup();
  }
  return r;
}

/** "median (max)" of the values, and how many are missing. @param {Array<number | null>} xs @param {string} [none] what a missing value means */
function cell(xs, none = 'n/a') {
  const st = stats(xs);
  const missing = xs.length - st.n;
  return st.n ? `${sec(st.median)} (${sec(st.max)})${missing ? `, ${missing} of ${xs.length} ${none}` : ''}` : (xs.length ? none : 'n/a');
}

/** @param {TopologyResult[]} results @param {{ trials: number, updates: number, restarts: number, settle: number }} opts */
function report(results, opts) {
  const lost = (/** @type {Array<{ acked: number, lost?: number | null, lostCounted?: number | null }>} */ xs) => {
    const n = xs.map((x) => (x.lost !== undefined ? x.lost : x.lostCounted));
    const total = n.some((x) => x === null || x === undefined) ? 'unknown' : n.reduce((/** @type {number} */ a, x) => a + Number(x), 0);
    return xs.length ? `${total} of ${xs.reduce((a, x) => a + x.acked, 0)}` : 'n/a';
  };
  /** @param {string} measure @param {(r: TopologyResult) => string} value */
  const row = (measure, value) => `| ${measure} | ${results.map(value).join(' | ')} |`;
  const upd = (/** @type {TopologyResult} */ r, /** @type {(u: UpdateRun[]) => string} */ fn) => (r.updates ? fn(r.updates) : 'n/a');
  const settingsText = [...new Set(results.map((r) => `down-after ${r.settings.downAfterMs} ms, failover-timeout ${r.settings.failoverTimeoutMs} ms`))].join('; ');
  /** @type {string[]} */
  const targets = [];
  for (const r of results) {
    const b = r.settings;
    const res = stats(r.kills.map((k) => k.resumedMs));
    if (opts.trials > 0) targets.push(`${r.name}: the maximum of writes resumed after a kill under down-after + 3 s = ${sec(b.benchTargetMs)}: `
      + `${res.max !== null && res.max < b.benchTargetMs && res.n === opts.trials ? 'met' : 'NOT met'}`
      + ` (maximum ${sec(res.max)}, median ${sec(res.median)}${res.n < opts.trials ? `; ${opts.trials - res.n} of ${opts.trials} trials without writes resumed` : ''}).`);
    if (r.updates && opts.updates > 0) {
      const w = r.updates.flatMap((u) => [...u.windowsMs, ...u.homeWindowsMs]);
      const st = stats(w);
      targets.push(`${r.name}: the write-unavailability window of every planned handover in a rolling update under ${sec(b.plannedTargetMs)} (issue 11 §5): `
        + `${r.updates.length === opts.updates && w.length > 0 && (st.max === null || st.max < b.plannedTargetMs) ? 'met' : 'NOT met'}`
        + ` (${w.length} handovers and hand-backs in ${r.updates.length} of ${opts.updates} updates, ${w.length - st.n} under the writer's 0.25 s gap threshold, maximum ${st.max === null ? 'under 0.25 s' : sec(st.max)}).`);
      const last = r.updates.filter((u) => u.masterLast).length;
      targets.push(`${r.name}: a rolling update replaces the replicas first and the master last (issue 11 §2): ${last === opts.updates ? 'met' : 'NOT met'} (${last} of ${opts.updates} updates).`);
    }
  }
  return [
    `Failover benchmark (\`npm run bench:failover\`), ${new Date().toISOString()}, on the e2e pod emulator (emulator-only), ${os.cpus().length} cores; ${settingsText};`,
    `per topology ${opts.trials} master kills, ${opts.updates} rolling updates (StatefulSet only), ${opts.restarts} whole-cluster restarts, each ${opts.settle} s after the cluster was healthy.`,
    `Cells: median (max). Restart: ${results.map((r) => `${r.name}: ${r.restartHow}`).join('; ')}.`,
    '',
    `| measure | ${results.map((r) => r.title).join(' | ')} |`,
    `|---|${results.map(() => '---|').join('')}`,
    row('up → healthy (classic: launch.sh; StatefulSet: kubectl apply)', (r) => sec(r.upMs)),
    row('kill master → detection (first +odown)', (r) => cell(r.kills.map((k) => k.detectionMs), 'without +odown')),
    row('kill master → promotion (first +switch-master)', (r) => cell(r.kills.map((k) => k.promotionMs), 'without +switch-master')),
    row('kill master → writes resumed (ioredis, SET + WAIT 1)', (r) => cell(r.kills.map((k) => k.resumedMs), 'never')),
    row('kill master: acknowledged writes lost', (r) => lost(r.kills)),
    row('rolling update: write-unavailability window per handover', (r) => upd(r, (u) => cell(u.flatMap((x) => x.windowsMs), 'under 0.25 s'))),
    row('rolling update: handovers; master replaced last; writer gaps > 0.25 s at no handover', (r) => upd(r, (u) => {
      const other = u.flatMap((x) => x.otherGapsMs);
      return `${u.reduce((a, x) => a + x.windowsMs.length, 0)} in ${u.length} updates; master last in ${u.filter((x) => x.masterLast).length} of ${u.length}; `
        + `${other.length}${other.length ? ` (max ${sec(Math.max(...other))})` : ''}`;
    })),
    row('after an update: master back on ordinal 0 (from the update\'s end)', (r) => upd(r, (u) => (u.some((x) => x.homeMs !== null) ? cell(u.map((x) => x.homeMs)) : 'n/a (no home)'))),
    row('after an update: write-unavailability window of the hand-back', (r) => upd(r, (u) => {
      const w = u.flatMap((x) => x.homeWindowsMs);
      return w.length ? `${cell(w, 'under 0.25 s')}; ${w.length} hand-backs` : 'n/a';
    })),
    row('rolling update: acknowledged writes lost', (r) => upd(r, (u) => lost(u))),
    row('whole-cluster restart → healthy', (r) => cell(r.restarts.map((x) => x.healthyMs), 'never')),
    row('whole-cluster restart → writes resumed', (r) => cell(r.restarts.map((x) => x.resumedMs), 'never')),
    row('whole-cluster restart: acknowledged writes lost', (r) => (r.restarts.length
      ? `${lost(r.restarts)}${r.restarts.some((x) => x.lostExcused) ? ` (+${r.restarts.reduce((a, x) => a + x.lostExcused, 0)} excused: emptyDir data gone)` : ''}` : 'n/a')),
    '',
    ...targets.map((x) => `Target, ${x}`),
    ...results.filter((r) => r.error).map((r) => `FAILED ${r.name}: ${String(r.error).split('\n')[0]}`),
    '',
  ].join('\n');
}

async function main() {
  const reason = canRun();
  if (reason) { console.error(`bench:failover cannot run: ${reason}`); process.exit(2); }
  const names = String(arg('topology', Object.keys(TOPOLOGIES).join(','))).split(',').filter(Boolean);
  const unknown = names.filter((x) => !TOPOLOGIES[x]);
  if (unknown.length) { console.error(`bench:failover: unknown topology ${unknown.join(', ')}; known: ${Object.keys(TOPOLOGIES).join(', ')}`); process.exit(2); }
  const opts = {
    trials: Number(arg('trials', '10')),
    updates: Number(arg('updates', '3')),
    restarts: Number(arg('restarts', '1')),
    // Seconds between a healthy cluster and the next fault. Short values put the kill inside the
    // entry scripts' janitor window after the previous failover (see the report in docs).
    settle: Number(arg('settle', '40')),
  };
  /** @type {string | null} */
  const out = arg('out', null);
  console.log(`failover benchmark: topologies ${names.join(', ')}; ${opts.trials} kills, ${opts.updates} rolling updates, ${opts.restarts} restarts each, settle ${opts.settle} s`);
  /** @type {TopologyResult[]} */
  const results = [];
  for (const name of names) results.push(await bench(name, opts));
  const md = report(results, opts);
  console.log(`\n${md}`);
  console.log(JSON.stringify({ opts, results }, null, 0));
  if (out) fs.writeFileSync(out, `${md}\n<details><summary>per trial</summary>\n\n\`\`\`json\n${JSON.stringify(results, null, 1)}\n\`\`\`\n</details>\n`);
  process.exit(results.some((r) => r.error) ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(1); });
