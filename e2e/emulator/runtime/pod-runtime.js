// @ts-check
'use strict';
// The pod runtime (the API server's pod storage and every node's kubelet): hands each new pod to the
// scheduler and starts it once bound (volumes, network, sandbox, then its containers), deletes it
// gracefully (preStop hooks, SIGTERM, SIGKILL after the grace period) and tears it down. It gives
// Pods, ConfigMaps, Secrets and PersistentVolumeClaims (claims.js) their meaning, and lets
// controllers create, adopt and delete pods (PodControl) and claims (ClaimControl), and the
// scheduler bind pods (PodBinder).

const fs = require('fs');
const path = require('path');
const { Unsupported, now, signalGroup } = require('../util');
const { Pod, podView } = require('../pod');
const { MountPoints, volumeBinds, refreshConfigVolumes } = require('./volumes');
const { startHolder, sandboxProcesses } = require('./sandbox');
const { ContainerRuntime } = require('./containers');
const { Claims } = require('./claims');

/** @typedef {import('../types').StoredObject} StoredObject */
/** @typedef {import('../types').KubeObject} KubeObject */
/** @typedef {import('kubernetes-models/v1').IPodSpec} PodSpec */

/** @typedef {import('../types').PodControl} PodControl */
/** @typedef {import('../types').PodBinder} PodBinder */

/** @implements {PodControl} @implements {PodBinder} */
class PodRuntime {
  /**
   * @param {object} p
   * @param {string} p.stateDir
   * @param {string} p.prefix the run's namespace prefix (k8e-<id>)
   * @param {import('../types').PodStore} p.store
   * @param {import('../types').PodLifecycleSink} p.sink
   * @param {import('../types').PodNetwork} p.network
   * @param {import('../types').PodScheduler} p.scheduler places every new pod
   * @param {number} p.backoffScale
   */
  constructor({ stateDir, prefix, store, sink, network, scheduler, backoffScale }) {
    this.stateDir = stateDir;
    this.prefix = prefix;
    this.store = store;
    this.sink = sink;
    this.network = network;
    this.scheduler = scheduler;
    /** PersistentVolumeClaims and their volumes; the cluster reconciles them with the controllers. */
    this.claims = new Claims({ stateDir, store, sink });
    this.nextPodIndex = 2;
    this.closed = false;
    this.mountPoints = new MountPoints(stateDir);
    this.containers = new ContainerRuntime({
      sink, store, backoffScale,
      serviceEnv: (ns) => network.serviceEnv(ns),
      onStopped: (pod) => this.finish(pod),
    });
    /** @param {StoredObject} obj */
    const refresh = (obj) => refreshConfigVolumes(store, obj, (pod, e) => sink.event(`refresh ${pod.name}: ${e.message}`));
    /** @type {import('../types').KindHandler[]} */
    this.kinds = [
      {
        kind: 'Pod',
        apiVersion: 'v1',
        resource: 'pods',
        shortNames: ['po'],
        create: (obj) => {
          const meta = obj.manifest.metadata;
          const pod = this.newPod(obj.ns, obj.name, /** @type {PodSpec} */ (obj.manifest.spec || {}), meta.labels, meta.annotations);
          obj.pod = pod;
          obj.uid = pod.uid;
          this.scheduler.schedule(pod);
        },
        admit: (obj, doc) => {
          if (JSON.stringify(obj.manifest.spec || {}) !== JSON.stringify(doc.spec || {})) {
            throw new Error(`The Pod "${obj.name}" is invalid: spec: Forbidden: pod updates may not change fields other than image, activeDeadlineSeconds, tolerations`);
          }
        },
        updated: (obj) => { if (obj.pod) obj.pod.labels = { ...(obj.manifest.metadata.labels || {}) }; },
        terminate: (obj, opts) => (obj.pod ? this.deletePod(obj.pod, opts) : Promise.resolve()),
        view: (obj) => podView(/** @type {Pod} */ (obj.pod)),
      },
      // Volumes follow their ConfigMap or Secret: an optional one fills when its object comes
      // later, and empties when it goes.
      { kind: 'ConfigMap', apiVersion: 'v1', resource: 'configmaps', shortNames: ['cm'], create: refresh, updated: refresh, deleted: refresh },
      { kind: 'Secret', apiVersion: 'v1', resource: 'secrets', shortNames: [], create: refresh, updated: refresh, deleted: refresh },
      ...this.claims.kinds,
    ];
  }

  /**
   * @param {string} ns
   * @param {string} name
   * @param {PodSpec} spec
   * @param {import('../types').Labels} [labels]
   * @param {import('../types').Labels} [annotations]
   */
  newPod(ns, name, spec, labels, annotations) {
    return new Pod({ ns, name, spec, labels, annotations, index: this.nextPodIndex++, prefix: this.prefix, stateDir: this.stateDir });
  }

  /** Starts a pod in the background; a pod that cannot start is Failed. @param {Pod} pod */
  run(pod) {
    this.start(pod).catch((e) => this.failed(pod, e));
  }

  // ---------------------------------------------------------------- PodControl

  /**
   * @param {string} ns
   * @param {string} name
   * @param {import('../types').PodTemplate} template
   * @param {import('../types').OwnerRef} owner
   */
  createPod(ns, name, template, owner) {
    const meta = template.metadata || {};
    const spec = template.spec || /** @type {PodSpec} */ ({});
    /** @type {KubeObject} */
    const doc = { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, labels: meta.labels, annotations: meta.annotations }, spec };
    const pod = this.newPod(ns, name, spec, meta.labels, meta.annotations);
    pod.owner = owner;
    this.store.add({ kind: 'Pod', ns, name, uid: pod.uid, created: now(), manifest: doc, lastApplied: null, live: {}, pod });
    this.scheduler.schedule(pod);
    return pod;
  }

  /**
   * PodBinder: the scheduler placed the pod; its node's kubelet starts it.
   * @param {Pod} pod
   * @param {import('../types').NodeState} node
   */
  bind(pod, node) {
    if (pod.nodeName || pod.terminating || pod.gone) return;
    pod.nodeName = node.name;
    pod.hostIP = node.ip;
    pod.unschedulable = null;
    this.run(pod);
    this.sink.changed();
  }

  /** @param {Pod} pod @param {import('../types').OwnerRef} owner */
  adoptPod(pod, owner) {
    pod.owner = owner;
  }

  /**
   * Graceful deletion: the pod leaves every endpoint and stops counting for its controller at
   * once; preStop exec hooks run, then SIGTERM; SIGKILL after the grace period. Then its
   * namespaces go and the pod leaves the store.
   * @param {Pod} pod
   * @param {import('../types').DeleteOptions} [opts]
   * @returns {Promise<void>} once the pod is gone
   */
  deletePod(pod, opts = {}) {
    return this.deletePods([pod], opts);
  }

  /**
   * Deletes pods in one instant: they share one deletionTimestamp and get their signals (grace 0:
   * SIGKILL, as a crashed node) in one loop, before anyone hears of it: a controller that
   * reconciles on the news starts replacements, which takes a while, and must not come between.
   * @param {Pod[]} pods
   * @param {import('../types').DeleteOptions} [opts]
   * @returns {Promise<void>} once every one is gone
   */
  async deletePods(pods, { gracePeriod } = {}) {
    const at = now();
    const live = [...new Set(pods)].filter((p) => !p.gone);
    const starting = live.filter((p) => !p.terminating);
    // A second delete may shorten a terminating pod's grace period, never lengthen it, as the API
    // server allows (a lost node, `kubectl delete --grace-period=0` of a pod stuck in its preStop).
    const graceMs = gracePeriod === undefined ? null : gracePeriod * 1000;
    const hastened = graceMs === null ? [] : live.filter((p) => p.terminating && at + graceMs < p.graceDeadline);
    for (const pod of hastened) {
      pod.graceDeadline = at + Number(graceMs);
      this.sink.event(`deleting pod ${pod.name} again: grace shortened to ${graceMs} ms`);
      const killAll = () => { for (const c of pod.containers) if (c.proc) this.containers.kill(c, 0, 'SIGKILL'); };
      if (graceMs === 0) killAll(); else setTimeout(killAll, Number(graceMs));
    }
    for (const pod of starting) {
      pod.deletionTimestamp = at;
      pod.graceDeadline = at + (gracePeriod ?? (pod.spec.terminationGracePeriodSeconds ?? 30)) * 1000;
    }
    for (const pod of starting) this.stopContainers(pod);
    for (const pod of starting) {
      this.sink.event(`deleting pod ${pod.name} (grace ${pod.graceDeadline - at} ms)`);
      this.finish(pod);
    }
    if (starting.length) {
      this.sink.podsChanged();
      this.sink.changed();
    }
    await Promise.all(pods.map((p) => p.goneP));
  }

  /**
   * A terminating pod's containers: preStop exec hooks, then SIGTERM, and SIGKILL at the grace
   * deadline; with no grace, SIGKILL at once.
   * @param {Pod} pod
   */
  stopContainers(pod) {
    const grace = pod.graceDeadline - Number(pod.deletionTimestamp);
    for (const c of pod.containers) {
      c.cancelRestart();
      c.clearTimers();
      c.ready = false;
      if (!c.proc) continue;
      const pre = c.spec.lifecycle && c.spec.lifecycle.preStop;
      if (pre && pre.exec && grace > 0) {
        this.containers.preStop(c, pre.exec.command || [], grace).then(() => this.containers.kill(c, Math.max(0, pod.graceDeadline - now()) + 1));
      } else {
        this.containers.kill(c, grace, grace === 0 ? 'SIGKILL' : 'SIGTERM');
      }
    }
    setTimeout(() => { for (const c of pod.containers) if (c.proc) this.containers.kill(c, 0, 'SIGKILL'); }, grace + 50);
  }

  // ---------------------------------------------------------------- test faults

  /**
   * Freezes every process of the pod (SIGSTOP: all containers, their children, execs), as a
   * stalled node or a paused VM would; or thaws them (SIGCONT). Processes that start later (the
   * kubelet's exec probes, a new exec) run: probes of a frozen server time out, so it turns
   * not ready, as under a kubelet that still runs.
   * @param {Pod} pod
   * @param {boolean} on
   * @returns {number[]} the processes signalled
   */
  freeze(pod, on) {
    if (!pod.holder) throw new Error(`pod ${pod.name} has no sandbox yet`);
    const signal = on ? 'SIGSTOP' : 'SIGCONT';
    /** @type {Set<number>} */
    const done = new Set();
    // Again until no new process shows up: one may fork while the others are being stopped.
    for (let pass = 0; pass < 5; pass++) {
      const fresh = sandboxProcesses(pod).filter((pid) => !done.has(pid));
      if (!fresh.length) break;
      for (const pid of fresh) {
        try { process.kill(pid, signal); done.add(pid); } catch { /* gone */ }
      }
    }
    pod.frozen = on;
    this.sink.event(`test ${on ? 'froze' : 'thawed'} pod ${pod.name}: ${signal} to ${[...done].join(' ')}`);
    return [...done];
  }

  // ---------------------------------------------------------------- lifecycle

  /** @param {Pod} pod @param {unknown} err */
  failed(pod, err) {
    const e = /** @type {Error} */ (err);
    this.sink.event(`pod ${pod.name} failed to start: ${e.stack || e}`);
    pod.phase = 'Failed';
    this.sink.changed();
  }

  /** @param {Pod} pod */
  async start(pod) {
    for (const k of /** @type {const} */ (['initContainers', 'ephemeralContainers'])) {
      const list = pod.spec[k];
      if (list && list.length) throw new Unsupported(`pod ${pod.name}: ${k}`);
    }
    if (pod.spec.hostNetwork) throw new Unsupported(`pod ${pod.name}: hostNetwork`);
    for (const c of pod.containers) {
      const hooks = c.spec.lifecycle || {};
      if (hooks.postStart) throw new Unsupported(`pod ${pod.name}: container ${c.name}: postStart`);
      if (hooks.preStop && !hooks.preStop.exec) throw new Unsupported(`pod ${pod.name}: container ${c.name}: preStop ${Object.keys(hooks.preStop)}`);
    }
    fs.mkdirSync(path.join(pod.dir, 'logs'), { recursive: true });
    const binds = volumeBinds(this.store, pod, this.mountPoints);
    binds.push(...this.network.attach(pod));
    await startHolder(pod, binds);
    const holder = /** @type {import('child_process').ChildProcess} */ (pod.holder);
    holder.on('exit', () => { if (!pod.terminating && !this.closed) this.sink.event(`holder of ${pod.name} died`); });
    if (pod.terminating) return;
    pod.phase = 'Running';
    pod.startTime = now();
    this.sink.event(`pod ${pod.name} running at ${pod.ip} (netns ${pod.netns}, holder ${holder.pid})`);
    for (const c of pod.containers) this.containers.start(c);
    this.sink.changed();
  }

  /** A terminating pod whose last container stopped is torn down and leaves the store. @param {Pod} pod */
  finish(pod) {
    if (pod.gone || pod.finishing) return;
    if (pod.containers.some((c) => c.proc)) return;
    pod.finishing = true;
    this.teardown(pod);
    pod.markGone();
    const obj = this.store.get('Pod', pod.ns, pod.name);
    if (obj && obj.pod === pod) this.store.remove(obj);
    this.sink.event(`pod ${pod.name} deleted`);
    this.sink.podsChanged();
    this.sink.changed();
  }

  /** Ends every process of the pod and removes its network namespace. @param {Pod} pod */
  teardown(pod) {
    for (const c of pod.containers) {
      c.cancelRestart();
      c.clearTimers();
      if (c.proc) signalGroup(c.proc.pid, 'SIGKILL');
    }
    if (pod.holder && pod.holder.exitCode === null) signalGroup(pod.holder.pid, 'SIGKILL');
    this.network.detach(pod);
  }

  /** Ends every pod at once. (The harness removes the mount points: see MountPoints.) */
  close() {
    this.closed = true;
    this.containers.close();
    for (const pod of this.store.pods()) {
      try { this.teardown(pod); } catch (e) { this.sink.event(`teardown ${pod.name}: ${/** @type {Error} */ (e).message}`); }
    }
  }
}

module.exports = { PodRuntime };
