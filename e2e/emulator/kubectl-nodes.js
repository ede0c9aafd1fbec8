// @ts-check
'use strict';
// kubectl's node verbs, client-side logic as in kubectl itself: `cordon` and `uncordon` set
// spec.unschedulable; `drain` cordons, checks the node's pods against its flags (a pod without a
// controller needs --force, one with an emptyDir --delete-emptydir-data), then evicts each pod
// through the eviction API (cluster.evict: a PodDisruptionBudget may refuse with 429, and the pod
// is tried again every 5 s, as kubectl does), waits for each to be gone (a pod back with the same
// name and a new uid counts as gone), and says "drained". Evicted pods run their preStop hooks and
// grace period.

const { now } = require('./util');
const { UsageError, parseFlags, one, parseSelector, parseDuration, goDuration } = require('./kubectl-args');

/** @typedef {import('./cluster').Cluster} Cluster */
/** @typedef {import('./pod').Pod} Pod */
/** @typedef {{ out: (d: string | Buffer) => void, err: (d: string | Buffer) => void }} IO */
/** @typedef {(pred: () => boolean, timeoutMs: number, signal: AbortSignal) => Promise<boolean>} WaitFor */

/** How long kubectl drain waits before it asks again for an eviction a budget refused. */
const EVICTION_RETRY_MS = 5000;

/** @param {number} ms @param {AbortSignal} signal */
function sleep(ms, signal) {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(t); resolve(undefined); });
  });
}

class NodeVerbs {
  /** @param {Cluster} cluster @param {WaitFor} waitFor */
  constructor(cluster, waitFor) {
    this.cluster = cluster;
    this.waitFor = waitFor;
  }

  /**
   * `cordon NODE` / `uncordon NODE`.
   * @param {string[]} args @param {boolean} on @param {IO} io
   */
  async cordon(args, on, io) {
    const { pos } = parseFlags(args, [], []);
    if (pos.length !== 1) throw new UsageError(`${on ? '' : 'un'}cordon NODE`);
    return this.setCordon(pos[0], on, io) ? 0 : 1;
  }

  /** @param {string} name @param {boolean} on @param {IO} io @returns {boolean} whether the node exists */
  setCordon(name, on, io) {
    if (!this.cluster.nodes.get(name)) { io.err(`Error from server (NotFound): nodes "${name}" not found\n`); return false; }
    const changed = this.cluster.nodes.setUnschedulable(name, on);
    io.out(`node/${name} ${changed ? '' : 'already '}${on ? 'cordoned' : 'uncordoned'}\n`);
    return true;
  }

  /**
   * `drain NODE [--ignore-daemonsets] [--delete-emptydir-data] [--force] [--pod-selector=SEL]
   * [--grace-period=N] [--timeout=D] [--disable-eviction]`.
   * @param {string[]} args @param {IO} io @param {AbortSignal} signal
   */
  async drain(args, io, signal) {
    const { flags, pos } = parseFlags(args, ['--timeout', '--grace-period', '--pod-selector'],
      ['--ignore-daemonsets', '--delete-emptydir-data', '--force', '--disable-eviction']);
    if (pos.length !== 1) throw new UsageError('drain NODE');
    const name = pos[0];
    const timeout = parseDuration(one(flags, '--timeout'), 0);
    const deadline = timeout > 0 ? now() + timeout : Infinity;
    const g = one(flags, '--grace-period');
    if (g !== undefined && !/^-?\d+$/.test(g)) throw new UsageError(`--grace-period=${g}`);
    const gracePeriod = g === undefined || Number(g) < 0 ? undefined : Number(g);
    const selected = parseSelector(one(flags, '--pod-selector') || '');
    const force = one(flags, '--force') === 'true';
    const emptyDirOk = one(flags, '--delete-emptydir-data') === 'true';
    if (!this.setCordon(name, true, io)) return 1;

    // kubectl's filters, in its order: local storage, then pods without a controller.
    /** @type {Map<string, string[]>} error → the pods it names */
    const refusals = new Map();
    /** @type {string[]} */
    const unmanaged = [];
    /** @type {Pod[]} */
    const pods = [];
    for (const pod of this.cluster.store.pods().filter((p) => p.nodeName === name && !p.gone && selected(p.labels))) {
      const id = `${pod.ns}/${pod.name}`;
      const finished = pod.phase === 'Succeeded' || pod.phase === 'Failed';
      if (!finished && !emptyDirOk && (pod.spec.volumes || []).some((v) => v.emptyDir)) {
        const why = 'cannot delete Pods with local storage (use --delete-emptydir-data to override)';
        refusals.set(why, [...(refusals.get(why) || []), id]);
        continue;
      }
      if (!pod.owner) {
        if (!force) {
          const why = 'cannot delete Pods that declare no controller (use --force to override)';
          refusals.set(why, [...(refusals.get(why) || []), id]);
          continue;
        }
        unmanaged.push(id);
      }
      pods.push(pod);
    }
    if (refusals.size) return this.failed(name, [...refusals].map(([why, ids]) => `${why}: ${ids.join(', ')}`), io);
    if (unmanaged.length) io.err(`Warning: deleting Pods that declare no controller: ${unmanaged.join(', ')}\n`);

    const disable = one(flags, '--disable-eviction') === 'true';
    const results = await Promise.all(pods.map((pod) => this.evictOne(pod, { gracePeriod, deadline, timeout, disable }, io, signal)));
    const errors = results.filter((e) => e !== null);
    if (signal.aborted) return 1;
    if (errors.length) return this.failed(name, /** @type {string[]} */ (errors), io);
    io.out(`node/${name} drained\n`);
    return 0;
  }

  /**
   * Evicts one pod (or deletes it, --disable-eviction), retrying while a budget refuses, then waits
   * until it is gone. The error kubectl reports for it, or null.
   * @param {Pod} pod
   * @param {{ gracePeriod: number | undefined, deadline: number, timeout: number, disable: boolean }} opts
   * @param {IO} io
   * @param {AbortSignal} signal
   * @returns {Promise<string | null>}
   */
  async evictOne(pod, { gracePeriod, deadline, timeout, disable }, io, signal) {
    const ref = `pods/"${pod.name}" -n "${pod.ns}"`;
    const present = () => this.cluster.pod(pod.ns, pod.name) === pod && !pod.gone;
    for (;;) {
      if (signal.aborted) return 'aborted';
      if (!disable) io.out(`evicting pod ${pod.ns}/${pod.name}\n`);
      if (now() > deadline) return `error when evicting ${ref}: global timeout reached: ${goDuration(timeout)}`;
      if (!present()) return null;
      if (disable) { this.cluster.runtime.deletePod(pod, { gracePeriod }).catch(() => undefined); break; }
      const r = this.cluster.evict(pod, { gracePeriod });
      if ('gone' in r) break;
      if (r.refused.code !== 429) return `error when evicting ${ref}: ${r.refused.message}`;
      io.err(`error when evicting ${ref} (will retry after ${EVICTION_RETRY_MS / 1000}s): ${r.refused.message}\n`);
      await sleep(EVICTION_RETRY_MS, signal);
    }
    const gone = await this.waitFor(() => !present(), Math.max(0, deadline - now()), signal);
    if (!gone) return `error when waiting for pod "${pod.name}" in namespace "${pod.ns}" to terminate: global timeout reached: ${goDuration(timeout)}`;
    io.out(`pod/${pod.name} ${disable ? 'deleted' : 'evicted'}\n`);
    return null;
  }

  /** What kubectl drain prints when it stops on errors. @param {string} node @param {string[]} errors @param {IO} io */
  failed(node, errors, io) {
    const agg = errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`;
    io.err(`error: unable to drain node "${node}" due to error: ${agg}, continuing command...\nThere are pending nodes to be drained:\n ${node}\n${errors.join('\n')}\n`);
    return 1;
  }
}

module.exports = { NodeVerbs };
