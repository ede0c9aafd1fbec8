// @ts-check
'use strict';
// The faults of issue 8 on a launched cluster, and what each one did to the writes: shared by the
// reliability scenarios (e2e/reliability.e2e.test.ts) and the benchmarks (bench/). A fault is
// injected while a WAIT-acknowledged writer (fault-agent.js), the two-masters monitor and the
// sentinel event log (agent.js) run in the client pod; observe() waits for the cluster to heal and
// reports the outage, the lost writes and the master timeline, measured against the bounds below.

const fs = require('fs');
const path = require('path');
const YAML = require('yaml');
const s = require('./scenario');

const FAULT_AGENT = path.join(__dirname, 'fault-agent.js');

/** @typedef {import('./harness').Emulator} Emulator */
/** @typedef {import('./agent').RedisState} RedisState */

// Redis Sentinel 7.0's own periods (src/sentinel.c), which the bounds below are built from.
/** SENTINEL_INFO_PERIOD: a sentinel asks a master and its replicas for INFO this often (1 s during a failover). */
const SENTINEL_INFO_PERIOD_MS = 10000;
/** SENTINEL_PUBLISH_PERIOD: hello messages; a returning old master is converted after 4 of them. */
const SENTINEL_PUBLISH_PERIOD_MS = 2000;

/**
 * What the synthesized manifests say about timing: the Sentinel settings of sentinel.conf, the
 * pods' cluster.env, and the Redis pods' grace period.
 * @param {string} dist
 */
function clusterSettings(dist = s.DIST) {
  const docs = fs.readdirSync(dist).filter((f) => f.endsWith('.k8s.yaml'))
    .flatMap((f) => YAML.parseAllDocuments(fs.readFileSync(path.join(dist, f), 'utf8'), { version: '1.1' }).map((d) => d.toJS()));
  const config = docs.find((d) => d && d.kind === 'ConfigMap');
  const data = (config && config.data) || {};
  const conf = data['sentinel.conf'] || '';
  /** @param {RegExp} re */
  const num = (re) => { const m = re.exec(conf); return m ? Number(m[1]) : NaN; };
  /** @type {Record<string, string>} */
  const env = {};
  for (const m of String(data['cluster.env'] || '').matchAll(/^([A-Z_]+)='?([^'\n]*)'?$/gm)) env[m[1]] = m[2];
  // The Redis pods' owner: the redis ReplicationController, or (StatefulSet topology) the Redis StatefulSet.
  const rc = docs.find((d) => d && (d.kind === 'ReplicationController' || d.kind === 'StatefulSet')
    && d.spec.template.spec.containers.some((/** @type {any} */ c) => c.name === 'redis'));
  const settings = {
    downAfterMs: num(/down-after-milliseconds \S+ (\d+)/),
    failoverTimeoutMs: num(/failover-timeout \S+ (\d+)/),
    discoveryTimeoutSeconds: Number(env.DISCOVERY_TIMEOUT_SECONDS),
    redisGraceSeconds: (rc && rc.spec.template.spec.terminationGracePeriodSeconds) ?? 30,
    env,
  };
  for (const k of /** @type {const} */ (['downAfterMs', 'failoverTimeoutMs', 'discoveryTimeoutSeconds'])) {
    if (!Number.isFinite(settings[k])) throw new Error(`cannot read ${k} from the manifests in ${dist}`);
  }
  return settings;
}
/** @typedef {ReturnType<typeof clusterSettings>} ClusterSettings */

/**
 * The recovery bounds the scenarios assert, each from the cluster's own settings (D = downAfter,
 * F = failoverTimeout), not from a run that happened to be fast.
 * @param {ClusterSettings} cs
 */
function bounds(cs) {
  const D = cs.downAfterMs;
  const F = cs.failoverTimeoutMs;
  const sentinelsMs = 3 * SENTINEL_INFO_PERIOD_MS;
  return {
    // A lost master (killed, frozen, cut off) is seen down after D; failover-timeout is the time
    // Sentinel itself gives a failover to elect, promote and reconfigure the replicas. A new master
    // that accepts writes later than D + F comes from a failover that stalled or aborted (issue 8
    // §1, §4, §5).
    failoverMs: D + F,
    // A failover whose leader election split (-failover-abort-not-elected: two candidates in one
    // epoch, neither with a majority of the sentinels it knows, a deleted one among them until each
    // janitor has pruned it): Sentinel starts the next election only 2F after the first, then
    // elects and promotes within about three INFO periods (docs/reliability.md, "One outlier").
    splitElectionMs: D + 2 * F + sentinelsMs,
    // From the end of a fault (thaw, heal, a restarted container) to a healthy cluster: even when
    // only Sentinel acts, it sees the returning old master's role at its next INFO, converts it to
    // a replica 4 hello periods later (+convert-to-slave) and sees it replicate at the next INFO.
    rejoinMs: 2 * SENTINEL_INFO_PERIOD_MS + 4 * SENTINEL_PUBLISH_PERIOD_MS,
    // From the end of a fault to the writer's next acknowledged write: a deposed master that can
    // see the sentinels again must drop its clients (and the replicas notice a silent master)
    // within about D.
    clientMs: D,
    // A master cut off from the sentinels with a replica and clients stops acknowledging writes
    // before the majority side can promote another, which takes at least D.
    fenceMs: D,
    // New sentinels monitor the master, know its replicas (from its INFO) and each other: a new
    // sentinel pod starts and finds the master in seconds; three INFO periods leave two to spare.
    sentinelsMs,
    // Every pod lost: each pod decides (founds, follows) within DISCOVERY_TIMEOUT_SECONDS or its
    // container exits (docs/state-machine.md); then the sentinels as above.
    foundMs: cs.discoveryTimeoutSeconds * 1000 + sentinelsMs,
    // A planned delete hands over before the pod stops: never longer than an unplanned failover's
    // detection alone. The target is under 1 s: reported beside it.
    plannedMs: D,
    plannedTargetMs: 1000,
    // The StatefulSet topology's master goes home (masterOnFirstPod): from a healthy cluster with
    // the master elsewhere, the home pod is ready for it for HOME_AFTER_SECONDS, and the hand-back
    // is a planned handover (under D); a rejoin's time to spare. null: no home.
    homeMs: cs.env.MASTER_HOME_POD ? Number(cs.env.HOME_AFTER_SECONDS) * 1000 + D + 2 * SENTINEL_INFO_PERIOD_MS + 4 * SENTINEL_PUBLISH_PERIOD_MS : null,
    // The benchmark's target for the maximum of writes-resumed after a kill (issue 8 §1).
    benchTargetMs: D + 3000,
  };
}
/** @typedef {ReturnType<typeof bounds>} Bounds */

/**
 * A process of fault-agent.js in the client pod; result() ends it ("stop" on stdin, or stdin's
 * end) and resolves with its JSON line; lastAck() is when a writer last said a write was
 * acknowledged (0: not yet).
 * @param {Emulator} emu
 * @param {string[]} args
 * @param {string} [input] written to its stdin at once (a verify's key sets)
 */
async function faultAgent(emu, args, input) {
  const child = await emu.spawnInPod(s.CLIENT_POD, 'client', [process.execPath, FAULT_AGENT, ...args]);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => { out += d; });
  child.stderr?.on('data', (d) => { err += d; });
  const closed = new Promise((resolve) => child.on('close', resolve));
  if (input !== undefined) child.stdin?.end(input);
  return {
    lastAck: () => Number((/^ack (\d+)$/m.exec(out.split('\n').slice(-3).reverse().join('\n')) || [])[1] || 0),
    /** @returns {Promise<any>} */
    result: async (timeoutMs = 120000) => {
      if (input === undefined) child.stdin?.end('stop\n');
      const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await closed;
      clearTimeout(t);
      try { return JSON.parse(out.trim().split('\n').pop() || ''); } catch { throw new Error(`fault-agent ${args[0]} failed (${code}): ${err}\n${out.slice(-2000)}`); }
    },
  };
}

/** @param {Emulator} emu @param {string} prefix */
function startWriter(emu, prefix) { return faultAgent(emu, ['writer', prefix]); }

/**
 * Which acknowledged keys of earlier writers (their `kept` runs) the master lacks now; error when
 * no master could be asked.
 * @param {Emulator} emu
 * @param {Array<{ prefix: string, runs: Array<[number, number]> }>} sets
 * @returns {Promise<{ master?: string, checked?: number, missing?: number, byPrefix?: Array<{ prefix: string, missing: number, sample: number[] }>, error?: string }>}
 */
async function verifyKeys(emu, sets) {
  try {
    return await (await faultAgent(emu, ['verify'], JSON.stringify(sets))).result();
  } catch (e) {
    return { error: /** @type {Error} */ (e).message.split('\n')[0] };
  }
}

// ------------------------------------------------------------------ the cluster as the faults see it

/** @param {Emulator} emu @returns {Promise<Array<{ name: string, ip: string, labels: Record<string, string>, containers: Array<{ name: string }> }>>} */
async function livePods(emu) {
  return (await emu.pods()).filter((/** @type {any} */ p) => !p.terminating && p.phase === 'Running');
}

/** @param {Emulator} emu */
async function sentinelPods(emu) {
  return (await livePods(emu)).filter((p) => p.containers.some((c) => c.name === 'sentinel'));
}

/** @param {Emulator} emu */
async function redisPods(emu) {
  return (await livePods(emu)).filter((p) => p.containers.some((c) => c.name === 'redis' || c.name === 'master'));
}

/** @param {Emulator} emu @param {string} pod the container of a Redis pod that runs redis-server */
async function redisContainer(emu, pod) {
  const p = (await redisPods(emu)).find((x) => x.name === pod);
  if (!p) throw new Error(`no running Redis pod ${pod}`);
  return p.containers.some((c) => c.name === 'redis') ? 'redis' : 'master';
}

/**
 * The master, and the other Redis pods, as they report themselves.
 * @param {Emulator} emu
 * @returns {Promise<{ master: RedisState, replicas: RedisState[] }>}
 */
async function roles(emu) {
  /** @type {import('./agent').ClusterState} */
  const st = await s.agent(emu, ['state']);
  const masters = st.redis.filter((r) => r.role === 'master');
  if (masters.length !== 1) throw new Error(`want one master, the Redis pods say: ${JSON.stringify(st.redis)}`);
  return { master: masters[0], replicas: st.redis.filter((r) => r !== masters[0]) };
}

// ----------------------------------------------------------------------------------- the faults

/**
 * What an injection did: when it began (t0) and ended (tEnd: thaw, heal, the restart the kill
 * allowed; t0 when it has no end), the master it hit, and (cut-minority) from when a lost write
 * counts as a failure rather than as what Sentinel cannot promise, the servers whose
 * acknowledgements went with their data (lossFreeVia: deleted with their emptyDir), and from when the
 * cut-off side must acknowledge nothing (fencedFrom).
 * @typedef {{ t0: number, tEnd: number, pod?: string, ip?: string, failover: boolean, lossFreeAfter?: number, lossFreeVia?: string[], fencedFrom?: number, detail: string }} Injection
 * @typedef {{ cs: ClusterSettings, b: Bounds, health?: { ready?: (emu: Emulator) => Promise<Record<string, number>>, redis?: number, sentinels?: number } }} FaultContext
 *   health: how waitHealthy judges this topology (default: the classic one's controllers)
 * @typedef {{ name: string, what: string, inject: (emu: Emulator, ctx: FaultContext) => Promise<Injection>, settleMs: (b: Bounds) => number }} Fault
 */

/** @param {Emulator} emu @param {string} pod @param {number} holdRestartMs */
async function killRedis(emu, pod, holdRestartMs) {
  const killed = await emu.kill(pod, await redisContainer(emu, pod), { match: 'redis-server', signal: 'SIGKILL', holdRestartMs });
  if (killed.length !== 1) throw new Error(`kill of redis-server in ${pod} signalled ${killed.length} processes`);
}

/**
 * Splits the network for down-after + failover-timeout (a failover's time on the majority side),
 * then heals it: on one side the pods that `side` picks, on the other every other pod.
 * @param {Emulator} emu
 * @param {Bounds} b
 * @param {(master: RedisState, replicas: RedisState[]) => string[]} side
 * @returns {Promise<Injection>}
 */
async function cutOff(emu, b, side) {
  const { master, replicas } = await roles(emu);
  const pods = side(master, replicas);
  const t0 = Date.now();
  await emu.split(pods);
  await s.sleep(b.failoverMs);
  await emu.heal();
  return { t0, tEnd: Date.now(), pod: master.pod, ip: master.ip, failover: true, detail: `cut ${pods.join(', ')} off` };
}

/** How long a frozen master stays frozen (issue 8 §1: a stalled VM or a long fork). */
const FREEZE_MS = 20000;

/** @type {Record<string, Fault>} */
const FAULTS = {
  'freeze': {
    name: 'freeze',
    what: `the master pod frozen (SIGSTOP of every process) for ${FREEZE_MS / 1000} s, then thawed`,
    settleMs: (b) => b.rejoinMs,
    inject: async (emu) => {
      const { master } = await roles(emu);
      const t0 = Date.now();
      await emu.freeze(master.pod);
      await s.sleep(FREEZE_MS);
      await emu.thaw(master.pod);
      return { t0, tEnd: Date.now(), pod: master.pod, ip: master.ip, failover: true, detail: `froze ${master.pod}` };
    },
  },
  'cut-master': {
    name: 'cut-master',
    what: 'the master pod alone cut off from every other pod for down-after + failover-timeout, then healed',
    settleMs: (b) => b.rejoinMs,
    inject: async (emu, { b }) => cutOff(emu, b, (master) => [master.pod]),
  },
  'cut-minority': {
    name: 'cut-minority',
    what: 'the master, one replica and the client pod cut off from the rest (a minority that still has clients) for down-after + failover-timeout, then healed',
    settleMs: (b) => b.rejoinMs,
    inject: async (emu, { b }) => {
      const inj = await cutOff(emu, b, (master, replicas) => [master.pod, replicas[0].pod, s.CLIENT_POD]);
      // Writes the minority side acknowledged before it could know it was cut off are lost when
      // the majority promotes a replica that never saw them: what asynchronous replication with
      // WAIT 1 cannot promise (docs/reliability.md). From fenceMs on, none may be acknowledged.
      return { ...inj, lossFreeAfter: inj.t0 + b.fenceMs, fencedFrom: inj.t0 + b.fenceMs };
    },
  },
  'kill': {
    name: 'kill',
    what: 'the master\'s redis-server SIGKILLed, its container restarting only after down-after + failover-timeout',
    settleMs: (b) => b.rejoinMs,
    inject: async (emu, { b }) => {
      const { master } = await roles(emu);
      const t0 = Date.now();
      await killRedis(emu, master.pod, b.failoverMs);
      return { t0, tEnd: t0 + b.failoverMs, pod: master.pod, ip: master.ip, failover: true, detail: `killed redis-server in ${master.pod}` };
    },
  },
  'delete-sentinels': {
    name: 'delete-sentinels',
    what: 'every sentinel pod deleted in one instant with grace 0',
    settleMs: (b) => b.sentinelsMs,
    inject: async (emu) => {
      const { master } = await roles(emu);
      const pods = (await sentinelPods(emu)).map((p) => p.name);
      const t0 = Date.now();
      await emu.deletePods(pods, { gracePeriod: 0 });
      return { t0, tEnd: t0, pod: master.pod, ip: master.ip, failover: false, detail: `deleted ${pods.join(', ')}` };
    },
  },
  'delete-all': {
    name: 'delete-all',
    what: 'every Redis and sentinel pod deleted in one instant with grace 0 (a node restart; emptyDir: the data is gone)',
    settleMs: (b) => b.foundMs,
    inject: async (emu) => {
      const redis = await redisPods(emu);
      const pods = [...redis, ...await sentinelPods(emu)].map((p) => p.name);
      const t0 = Date.now();
      await emu.deletePods(pods, { gracePeriod: 0 });
      // What the deleted pods acknowledged is gone with their emptyDir volumes, by design (an
      // acknowledgement can reach the client just after t0: the pods it came from tell).
      return { t0, tEnd: t0, failover: false, lossFreeVia: redis.map((p) => p.ip), detail: `deleted ${pods.join(', ')}` };
    },
  },
  'kill-thrice': {
    name: 'kill-thrice',
    what: 'a sentinel pod deleted (grace 0: its dead entry sets the janitors to work), then the master\'s redis-server SIGKILLed three times, 20 s apart, '
      + 'each time the master of the moment, each container restarting 15 s later',
    settleMs: (b) => b.rejoinMs,
    inject: async (emu, { cs }) => {
      const t0 = Date.now();
      const [sentinel] = (await sentinelPods(emu)).map((p) => p.name);
      await emu.deletePods([sentinel], { gracePeriod: 0 });
      // The others see it down after down-after; the first kill falls in the janitors' first rounds.
      await s.sleep(cs.downAfterMs + 2000);
      /** @type {string[]} */
      const hit = [`deleted ${sentinel}`];
      let last = Date.now();
      for (let i = 0; i < 3; i++) {
        if (i) await s.sleep(Math.max(0, last + 20000 - Date.now()));
        const { master } = await roles(emu).catch(() => ({ master: null }));
        last = Date.now();
        if (!master) { hit.push('(no single master to kill)'); continue; }
        await killRedis(emu, master.pod, 15000);
        hit.push(`killed ${master.pod}@${Math.round((last - t0) / 1000)}s`);
      }
      return { t0, tEnd: last + 15000, failover: true, detail: hit.join(', ') };
    },
  },
  'planned-delete': {
    name: 'planned-delete',
    what: 'kubectl delete pod of the master (its grace period, preStop hooks)',
    settleMs: (b) => b.rejoinMs,
    inject: async (emu, { cs }) => {
      const { master } = await roles(emu);
      const t0 = Date.now();
      const r = await emu.kubectl(['delete', 'pod', master.pod, `--timeout=${cs.redisGraceSeconds + 30}s`], { timeoutMs: (cs.redisGraceSeconds + 60) * 1000 });
      if (r.code !== 0) throw new Error(`kubectl delete pod ${master.pod}: ${r.stderr}`);
      return { t0, tEnd: Date.now(), pod: master.pod, ip: master.ip, failover: true, detail: `deleted ${master.pod} in ${Date.now() - t0} ms` };
    },
  },
};

// ----------------------------------------------------------------------------- what a fault did

/**
 * @typedef {{ t: number, accepting: string[] }} MasterChange a change of the set of pods that accept a write (agent.js monitor)
 * @typedef {{ from: number, to: number, ms: number }} Gap
 */

/**
 * Periods in [from, to] when no Redis pod the client can reach accepted a write.
 * @param {MasterChange[]} timeline
 * @param {number} from
 * @param {number} to
 * @returns {Gap[]}
 */
function noMasterPeriods(timeline, from, to) {
  /** @type {Gap[]} */
  const out = [];
  /** @type {number | null} */
  let since = null;
  for (const c of timeline) {
    if (c.t > to) break;
    if (!c.accepting.length && since === null) since = Math.max(c.t, from);
    if (c.accepting.length && since !== null) { if (c.t > from) out.push({ from: since, to: c.t, ms: c.t - since }); since = null; }
  }
  if (since !== null) out.push({ from: since, to, ms: to - since });
  return out;
}

/**
 * What a fault did to the writes and the masters.
 * @param {Injection} inj
 * @param {any} w fault-agent writer result
 * @param {{ masterTimeline: MasterChange[], splitRounds: unknown[], rounds: number }} m agent.js monitor result
 * @param {Array<{ t: number, sentinel: string, channel: string, msg: string }>} ev agent.js events
 * @param {number} healthyAt when the cluster was healthy again (NaN: never, within its bound)
 */
function analyse(inj, w, m, ev, healthyAt) {
  const end = Number.isFinite(healthyAt) ? healthyAt : w.stopped;
  /** @type {Gap[]} */
  const gaps = w.gaps.filter((/** @type {Gap} */ g) => g.to > inj.t0 && g.from < end);
  const longest = gaps.reduce((a, g) => (g.ms > a.ms ? g : a), { from: inj.t0, to: inj.t0, ms: 0 });
  /**
   * When the first write after t was acknowledged (the start of its 100 ms slot: at most that much
   * late, never early), or null: none was. After a delete of every pod, only an acknowledgement from
   * a new server counts (one from a deleted pod may arrive just after the delete).
   */
  const ackAfter = (/** @type {number} */ t) => {
    if (inj.lossFreeVia) {
      const firsts = Object.entries(w.byServer).filter(([via]) => !inj.lossFreeVia?.includes(via)).map(([, x]) => /** @type {any} */ (x).first);
      return firsts.length ? Math.min(...firsts) : null;
    }
    const slot = (w.acks || []).find((/** @type {[number, number]} */ a) => a[0] >= t);
    return slot ? slot[0] : null;
  };
  const oldTag = inj.pod && inj.ip ? `${inj.pod}@${inj.ip}` : null;
  // The first moment after t0 that a master other than the one the fault hit accepted a write.
  const next = m.masterTimeline.find((c) => c.t >= inj.t0 && c.accepting.length && !(oldTag && c.accepting.includes(oldTag)));
  /** @type {Array<{ seq: number, t: number, via: string }>} */
  const lostWrites = w.lostWrites || [];
  const counted = (/** @type {{ t: number, via: string }} */ x) => (inj.lossFreeAfter === undefined || x.t >= inj.lossFreeAfter)
    && !(inj.lossFreeVia || []).includes(x.via);
  /** Whether the writer had a write acknowledged in [a, b]: no gap of its covers the interval. */
  const ackedIn = (/** @type {number} */ a, /** @type {number} */ b) => !w.gaps.some((/** @type {Gap} */ g) => g.from <= a && g.to >= b);
  const noMaster = noMasterPeriods(m.masterTimeline, inj.t0, end);
  return {
    acked: w.acked,
    // Writes the master took but no replica confirmed in WAIT's second: not acknowledged, never lost.
    masterOnly: w.masterOnly,
    lost: w.lost,
    // Writes lost that the fault excuses (acknowledged before lossFreeAfter: the pods' data went, or
    // a cut-off minority acknowledged them before it could know), and those it does not.
    lostExcused: lostWrites.filter((x) => !counted(x)).length,
    lostCounted: w.lost === null ? null : w.lost - lostWrites.filter((x) => !counted(x)).length,
    lostSample: lostWrites.filter(counted).slice(0, 5),
    lostWindow: lostWrites.length ? { first: lostWrites[0].t - inj.t0, last: lostWrites[lostWrites.length - 1].t - inj.t0 } : null,
    ackedBy: w.byServer,
    writerOutageMs: longest.ms,
    // cut-minority: a write acknowledged between the fence and the heal (the cut-off side acknowledged
    // writes while the majority could promote another master).
    ackedAfterFence: inj.fencedFrom !== undefined && inj.tEnd > inj.fencedFrom ? ackedIn(inj.fencedFrom, inj.tEnd) : false,
    resumedAfterEndMs: (() => { const t = ackAfter(inj.tEnd); return t === null ? null : t - inj.tEnd; })(),
    writerErrors: w.errors,
    newMasterMs: next ? next.t - inj.t0 : null,
    newMaster: next ? next.accepting.join(',') : null,
    noMasterMs: noMaster.reduce((a, g) => a + g.ms, 0),
    longestNoMasterMs: noMaster.reduce((a, g) => Math.max(a, g.ms), 0),
    healthyAfterEndMs: Number.isFinite(healthyAt) ? healthyAt - inj.tEnd : null,
    splitRounds: m.splitRounds,
    monitorRounds: m.rounds,
    failoverAborts: ev.filter((e) => e.t >= inj.t0 && e.channel.startsWith('-failover-abort')).map((e) => `${e.sentinel} ${e.channel}`),
    // A failover leader that knows no replica it can promote (issue 8 §4): not a lost election,
    // which Sentinel retries by design, but a cluster that cannot fail over.
    noGoodReplica: ev.filter((e) => e.t >= inj.t0 && e.channel === '-failover-abort-no-good-slave').map((e) => e.sentinel),
    switches: ev.filter((e) => e.t >= inj.t0 && e.channel === '+switch-master').length,
    verifyError: w.verifyError,
  };
}
/** @typedef {ReturnType<typeof analyse>} Observation */

/**
 * Runs one fault on a healthy cluster with the writer, the monitor and the event log around it,
 * then waits (within the fault's bound) until the cluster is healthy again.
 * @param {Emulator} emu
 * @param {Fault} fault
 * @param {FaultContext} ctx
 * @param {string} prefix the writer's keys
 * @param {{ monitor?: { stop: () => Promise<any> } }} [opts] a monitor (agent.js) already running, to
 *   watch the time before the fault too; observe() stops it
 * @returns {Promise<{ inj: Injection, obs: Observation, healthy: string | null, writer: any, monitor: any }>} healthy: null, or why not
 */
async function observe(emu, fault, ctx, prefix, opts = {}) {
  const monitor = opts.monitor || await s.agentBackground(emu, ['monitor']);
  const events = await s.agentBackground(emu, ['events']);
  const writer = await startWriter(emu, prefix);
  // Some writes on the healthy cluster first, so that an outage has a start.
  await s.sleep(1500);
  let inj;
  try {
    inj = await fault.inject(emu, ctx);
  } catch (e) {
    await Promise.allSettled([writer.result(), monitor.stop(), events.stop()]);
    throw e;
  }
  /** @type {string | null} */
  let healthy = null;
  let healthyAt = NaN;
  try {
    const timeoutMs = Math.max(5000, inj.tEnd + fault.settleMs(ctx.b) - Date.now());
    await s.waitHealthy(emu, { ...ctx.health, timeoutMs, notMaster: inj.failover && inj.ip ? inj.ip : null });
    healthyAt = Date.now();
  } catch (e) {
    healthy = /** @type {Error} */ (e).message.split('\n').slice(0, 8).join('\n');
  }
  // The application's way back may take longer than the cluster's (a new set of sentinels to find):
  // the writer gets the time new sentinels get to know the master to have a write acknowledged.
  const healed = Date.now();
  while (writer.lastAck() < healed && Date.now() - healed < ctx.b.sentinelsMs) await s.sleep(250);
  // A few writes on the healed cluster, so that the writer's last outage has an end.
  await s.sleep(1500);
  const w = await writer.result();
  const m = await monitor.stop();
  const ev = (await events.stop()).events;
  return { inj, obs: analyse(inj, w, m, ev, healthyAt), healthy, writer: w, monitor: m };
}

/** One line of numbers for a log. @param {Injection} inj @param {Observation} o */
function summary(inj, o) {
  /** @param {number | null} ms */
  const sec = (ms) => (ms === null ? 'never' : `${(ms / 1000).toFixed(2)} s`);
  return `${inj.detail}: acked ${o.acked} (not acknowledged by a replica: ${o.masterOnly}), lost ${o.lost} (counted ${o.lostCounted}, excused ${o.lostExcused}); `
    + `writer outage ${sec(o.writerOutageMs)}, writes ${sec(o.resumedAfterEndMs)} after the fault ended; `
    + `another master accepting writes after ${sec(o.newMasterMs)} (${o.newMaster}); no master ${sec(o.noMasterMs)} (longest ${sec(o.longestNoMasterMs)}); `
    + `healthy ${sec(o.healthyAfterEndMs)} after the fault ended; +switch-master ${o.switches}; aborts ${o.failoverAborts.length ? o.failoverAborts.join(', ') : 0}; `
    + `split rounds ${o.splitRounds.length}; writer errors ${JSON.stringify(o.writerErrors)}`;
}

module.exports = {
  FAULTS, FREEZE_MS, SENTINEL_INFO_PERIOD_MS, clusterSettings, bounds, observe, analyse, noMasterPeriods, summary,
  startWriter, verifyKeys, roles, redisPods, sentinelPods, killRedis,
};
