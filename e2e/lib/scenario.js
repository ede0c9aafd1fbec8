// @ts-check
'use strict';
// Shared steps of the e2e tests and the failover benchmark: start an emulator with a client pod,
// launch dist/ with the emitted launch script, and judge the cluster's health from what the Redis
// and Sentinel processes themselves report.

const path = require('path');
const { Emulator } = require('./harness');

const ROOT = path.resolve(__dirname, '..', '..');
// The manifests and launch script under test. K8E_DIST lets a developer try a candidate dist/
// (e.g. a fixed launch script) without touching the committed one; tests print which one ran.
const DIST = process.env.K8E_DIST ? path.resolve(process.env.K8E_DIST) : path.join(ROOT, 'dist');
const CLIENT_POD = 'k8e-client';
const CLIENT_MANIFEST = path.join(__dirname, '..', 'fixtures', 'client-pod.yaml');

/** @typedef {import('./agent').ClusterState} ClusterState */
/** @typedef {import('./agent').RedisState} RedisState */
/** @typedef {{ ok: boolean, problems: string[], master: RedisState | undefined, state?: ClusterState }} Verdict */

/** @param {number} ms @returns {Promise<void>} */
function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

/**
 * A new emulator run with the test's client pod ready: by default the classic topology's client on
 * the emulator's three nodes; the StatefulSet topology brings its own client and a node for it.
 * @param {{ nodes?: import('./harness').NodeSpec[], manifest?: string }} [opts]
 */
async function startWithClient({ nodes, manifest = CLIENT_MANIFEST } = {}) {
  const emu = await Emulator.start({ nodes });
  const a = await emu.kubectl(['apply', '-f', manifest]);
  if (a.code !== 0) throw new Error(`client pod: ${a.stderr}`);
  const w = await emu.kubectl(['wait', '--for=condition=Ready', `pod/${CLIENT_POD}`, '--timeout=30s']);
  if (w.code !== 0) throw new Error(`client pod not ready: ${w.stderr}`);
  return emu;
}

/** Runs dist/launch/launch.sh against the run. @param {Emulator} emu @param {{ timeoutMs?: number }} [opts] */
function launch(emu, { timeoutMs = 300000 } = {}) {
  return emu.run('bash', [path.join(DIST, 'launch', 'launch.sh')], { timeoutMs, env: { LAUNCH_POLL_SECONDS: '1' } });
}

/** The agent in the client pod. @param {Emulator} emu @param {string[]} args @param {{ timeoutMs?: number }} [opts] */
function agent(emu, args, opts) { return emu.agent(CLIENT_POD, 'client', args, opts); }
/** @param {Emulator} emu @param {string[]} args @param {{ env?: Record<string, string> }} [opts] */
function agentBackground(emu, args, opts) { return emu.agentBackground(CLIENT_POD, 'client', args, opts); }

/**
 * Healthy: one master; every other Redis pod replicates from it with the link up; every sentinel
 * names it and passes CKQUORUM; both controllers have all their pods ready.
 * @param {ClusterState} st what the agent's `state` saw
 * @param {Record<string, number>} rcs ready pods of each controller
 * @param {{ redis?: number, sentinels?: number }} [want]
 * @returns {Verdict}
 */
function judge(st, rcs, { redis = 3, sentinels = 3 } = {}) {
  /** @type {string[]} */
  const problems = [];
  const masters = st.redis.filter((r) => r.role === 'master');
  if (masters.length !== 1) problems.push(`${masters.length} Redis pods report role master: ${masters.map((m) => m.pod).join(', ')}`);
  const master = masters[0];
  if (st.redis.length !== redis) problems.push(`${st.redis.length} Redis pods running, want ${redis}`);
  for (const r of st.redis) {
    if (r.error) problems.push(`${r.pod}: ${r.error}`);
    else if (master && r !== master && !(r.role === 'slave' && r.masterHost === master.host && r.link === 'up')) {
      problems.push(`${r.pod} is ${r.role} of ${r.masterHost} link ${r.link}, not a synced replica of ${master.host}`);
    }
  }
  if (st.sentinels.length !== sentinels) problems.push(`${st.sentinels.length} sentinel pods running, want ${sentinels}`);
  for (const s of st.sentinels) {
    if (s.error) problems.push(`${s.pod}: ${s.error}`);
    else if (!master || s.master !== master.host) problems.push(`sentinel ${s.pod} names ${s.master}`);
    else if (!/^OK/.test(String(s.ckquorum))) problems.push(`sentinel ${s.pod} CKQUORUM: ${s.ckquorum}`);
    else {
      // A sentinel that does not know the live replicas cannot promote one (-failover-abort-no-good-slave).
      for (const r of st.redis) {
        if (r === master || r.error) continue;
        if (!(s.knownReplicas || []).includes(`${r.host}:slave`)) problems.push(`sentinel ${s.pod} does not know replica ${r.pod} (${r.host}) as healthy: ${JSON.stringify(s.knownReplicas)}`);
      }
      for (const o of st.sentinels) {
        if (o === s || o.error) continue;
        if (!(s.knownSentinels || []).includes(`${o.host}:sentinel`)) problems.push(`sentinel ${s.pod} does not know sentinel ${o.pod} (${o.host}) as healthy`);
      }
    }
  }
  for (const [name, ready] of Object.entries(rcs)) {
    const want = name === 'redis' ? redis : sentinels;
    if (ready !== want) problems.push(`rc/${name} has ${ready} of ${want} pods ready`);
  }
  return { ok: problems.length === 0, problems, master };
}

/** @param {Emulator} emu @returns {Promise<Record<string, number>>} readyReplicas of each controller */
async function rcReady(emu) {
  /** @type {Record<string, number>} */
  const out = {};
  for (const rc of ['redis', 'redis-sentinel']) {
    const r = await emu.kubectl(['get', 'rc', rc, '-o', 'jsonpath={.status.readyReplicas}']);
    out[rc] = Number(r.stdout || 0);
  }
  return out;
}

/**
 * Waits until judge() finds the cluster healthy (and, with notMaster, with another master).
 * `ready` counts the ready pods of each owner (rcReady: the classic topology's controllers).
 * @param {Emulator} emu
 * @param {{ timeoutMs?: number, notMaster?: string | null, redis?: number, sentinels?: number, ready?: (emu: Emulator) => Promise<Record<string, number>> }} [opts]
 * @returns {Promise<Verdict & { master: RedisState }>}
 */
async function waitHealthy(emu, { timeoutMs = 90000, notMaster = null, ready = rcReady, ...want } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    /** @type {ClusterState} */
    const st = await agent(emu, ['state']);
    const last = judge(st, await ready(emu), want);
    last.state = st;
    if (last.ok && notMaster && last.master && last.master.ip === notMaster) { last.ok = false; last.problems.push(`master is still ${notMaster}`); }
    if (last.ok && last.master) return { ...last, master: last.master };
    if (Date.now() > deadline) {
      throw new Error(`cluster not healthy after ${timeoutMs} ms:\n  ${last.problems.join('\n  ')}\n${JSON.stringify(st, null, 1)}`);
    }
    await sleep(1000);
  }
}

/** @param {Emulator} emu @returns {Promise<RedisState>} the one Redis pod that reports role master */
async function masterPod(emu) {
  /** @type {ClusterState} */
  const st = await agent(emu, ['state']);
  const masters = st.redis.filter((r) => r.role === 'master');
  if (masters.length !== 1) throw new Error(`expected one master, got ${JSON.stringify(st.redis)}`);
  return masters[0];
}

module.exports = { ROOT, DIST, CLIENT_POD, startWithClient, launch, agent, agentBackground, judge, waitHealthy, rcReady, masterPod, sleep };
