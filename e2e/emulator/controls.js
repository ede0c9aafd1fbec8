// @ts-check
'use strict';
// Test-only controls (not kubectl; e2e/lib/harness.js and the in-pod agent call them through the
// daemon): the pods as the tests see them, what `kubectl exec` would get, holding kubectl calls
// that match some words until released (to act at an exact point of the launch script), and the
// faults: SIGKILL of a named process in a container with a chosen restart delay, freezing a pod
// (SIGSTOP of all its processes) and thawing it, deleting several pods in one instant with any
// grace period (0: a crashed node, as far as the pods can tell), cutting a pod off the network,
// splitting the pods in two sides, losing a node and bringing it back, a node's taints, and
// wiping a claim's volume. A new fault control is one more op here.

/** @typedef {import('./cluster').Cluster} Cluster */
/** @typedef {{ op: string, [field: string]: any }} Request */

class TestControls {
  /** @param {Cluster} cluster */
  constructor(cluster) {
    this.cluster = cluster;
    /** @type {Array<{ match: string, hits: number, waiters: Array<() => void> }>} */
    this.holds = [];
  }

  /**
   * Holds a kubectl call whose argv contains a held word sequence, until released or aborted.
   * @param {string[]} argv
   * @param {AbortSignal} signal
   * @returns {Promise<void>}
   */
  holdIfMatched(argv, signal) {
    const line = ` ${argv.join(' ')} `;
    const h = this.holds.find((x) => line.includes(` ${x.match} `));
    if (!h) return Promise.resolve();
    h.hits++;
    this.cluster.event(`holding kubectl ${argv.join(' ')}`);
    return new Promise((resolve) => {
      h.waiters.push(resolve);
      signal.addEventListener('abort', () => resolve());
    });
  }

  /** @param {string | undefined} ns @param {string} name */
  findPod(ns, name) {
    const pod = this.cluster.pod(ns || 'default', name);
    if (!pod) throw new Error(`pod ${name} not found`);
    return pod;
  }

  /** Every pod, as the tests and the in-pod agent read them. */
  summary() {
    return this.cluster.store.pods().map((p) => ({
      name: p.name, ns: p.ns, ip: p.ip, netns: p.netns, labels: p.labels, phase: p.phase, ready: p.isReady,
      terminating: p.terminating, holderPid: p.holder && p.holder.pid, owner: p.owner && p.owner.name, created: p.created, node: p.nodeName,
      partitioned: this.cluster.network.isCut(p), side: this.cluster.network.splitSide(p), frozen: p.frozen,
      containers: p.containers.map((c) => ({ name: c.name, pid: c.pid, ready: c.ready, restartCount: c.restartCount, state: Object.keys(c.state)[0], log: c.logPath() })),
    }));
  }

  /**
   * @param {Request} req
   * @returns {Promise<object>} the op's result
   */
  async handle(req) {
    const runtime = this.cluster.runtime;
    switch (req.op) {
      case 'pods': return { pods: this.summary() };
      case 'exec-info': {
        const pod = this.findPod(req.ns, req.pod);
        const c = pod.containers.find((x) => x.name === req.container) || pod.containers[0];
        return { holderPid: pod.holder && pod.holder.pid, env: runtime.containers.env(c).env, ip: pod.ip };
      }
      case 'kill': {
        // Kill processes of one container whose command line matches, e.g. redis-server.
        const pod = this.findPod(req.ns, req.pod);
        const c = pod.containers.find((x) => x.name === req.container);
        if (!c) throw new Error(`no container ${req.container}`);
        if (req.holdRestartMs) c.holdRestartUntil = Date.now() + req.holdRestartMs;
        const pids = runtime.containers.pids(c).filter((p) => !req.match || p.cmdline.join(' ').includes(req.match));
        for (const p of pids) process.kill(p.pid, req.signal || 'SIGKILL');
        this.cluster.event(`test killed ${pids.map((p) => `${p.pid}(${p.cmdline.join(' ')})`).join(', ')} in ${pod.name}/${c.name} hold=${req.holdRestartMs || 0}`);
        return { killed: pids };
      }
      case 'freeze':
      case 'thaw':
        return { signalled: runtime.freeze(this.findPod(req.ns, req.pod), req.op === 'freeze') };
      case 'partition': {
        this.cluster.network.setCut(this.findPod(req.ns, req.pod), !!req.on);
        return { ok: true };
      }
      case 'split': {
        /** @type {string[]} */
        const names = req.pods;
        if (!Array.isArray(names) || !names.length) throw new Error('split needs pods: the names on one side');
        this.cluster.network.setSplit(names.map((n) => this.findPod(req.ns, n)));
        return { ok: true };
      }
      case 'heal':
        this.cluster.network.setSplit(null);
        return { ok: true };
      case 'delete-pod':
      case 'delete-pods': {
        /** @type {string[]} */
        const names = req.op === 'delete-pod' ? [req.pod] : req.pods;
        // Every name is resolved before the first deletion, so that one instant covers them all.
        const pods = names.map((n) => this.findPod(req.ns, n));
        const p = runtime.deletePods(pods, { gracePeriod: req.gracePeriod });
        if (req.wait) await p;
        return { deleted: pods.map((x) => ({ pod: x.name, deletionTimestamp: x.deletionTimestamp })) };
      }
      case 'nodes':
        return { nodes: this.cluster.nodes.list().map((n) => ({ ...n, taints: this.cluster.nodes.taints(n), pods: this.cluster.store.pods().filter((p) => p.nodeName === n.name && !p.gone).map((p) => p.name) })) };
      case 'node-lost':
        return { killed: this.cluster.nodes.lose(req.node).map((p) => p.name) };
      case 'node-back':
        this.cluster.nodes.restore(req.node);
        return { ok: true };
      case 'taint':
        this.cluster.nodes.setTaints(req.node, req.taints);
        return { ok: true };
      case 'wipe-claim':
        return { removed: this.cluster.runtime.claims.wipe(req.ns || 'default', req.claim) };
      case 'hold':
        this.holds.push({ match: req.match, hits: 0, waiters: [] });
        return { ok: true };
      case 'hold-status': {
        const h = this.holds.find((x) => x.match === req.match);
        return { hits: h ? h.hits : 0 };
      }
      case 'release': {
        const i = this.holds.findIndex((x) => x.match === req.match);
        if (i >= 0) { const [h] = this.holds.splice(i, 1); h.waiters.forEach((w) => w()); }
        return { ok: true };
      }
      default: throw new Error(`unknown op ${req.op}`);
    }
  }
}

module.exports = { TestControls };
