// @ts-check
'use strict';
// A pod and its containers as the emulator keeps them: identity (name, uid, IP, network namespace,
// state directory), node, phase, owner, and each container's process and probe state. Plain
// records: the pod runtime (runtime/) and the scheduler (nodes/) change them, the network and the
// controllers read them.

const path = require('path');
const crypto = require('crypto');
const { podIP } = require('./addresses');
const { iso, now } = require('./util');

/** @typedef {import('kubernetes-models/v1').IPodSpec} PodSpec */
/** @typedef {import('kubernetes-models/v1').IContainer} ContainerSpec */
/** @typedef {'readiness' | 'liveness' | 'startup'} ProbeKind */
/** @typedef {import('./types').Labels} Labels */

class Container {
  /** @param {Pod} pod @param {ContainerSpec} spec */
  constructor(pod, spec) {
    this.pod = pod;
    this.spec = spec;
    this.name = spec.name;
    /** @type {import('child_process').ChildProcess | null} the main process (leader of the container's process group) */
    this.proc = null;
    /** @type {number | null} */
    this.pid = null;
    this.restartCount = 0;
    /** @type {Record<string, unknown>} `status.containerStatuses[].state` */
    this.state = { waiting: { reason: 'ContainerCreating' } };
    /** @type {{ terminated?: { exitCode: number, reason: string, startedAt: string, finishedAt: string } }} */
    this.lastState = {};
    /** The startup probe passed (or there is none). */
    this.started = false;
    this.ready = false;
    this.readyStreak = 0;
    /** @type {Record<ProbeKind, number>} */
    this.failStreak = { readiness: 0, liveness: 0, startup: 0 };
    /** Probe timers of the current instance. @type {Set<NodeJS.Timeout>} */
    this.timers = new Set();
    /** A test control: no restart before this time (ms since the epoch). */
    this.holdRestartUntil = 0;
    /** Which run of the container this is (0, 1, …): names its log file. */
    this.instance = 0;
    /** @type {NodeJS.Timeout | null} */
    this.restartTimer = null;
    /** When the current instance started (ms since the epoch). */
    this.startedAt = 0;
    /** Kubelet back-off steps taken since the container last ran 10 minutes. */
    this.backoffLevel = 0;
  }

  /** The kubelet-style log of one run (`kubectl logs`, `--previous`). @param {number} [instance] */
  logPath(instance = this.instance) {
    return path.join(this.pod.dir, 'logs', `${this.name}.${instance}.log`);
  }

  /** Runs fn after ms, unless the timers are cleared first (the instance ended). @param {number} ms @param {() => void} fn */
  later(ms, fn) {
    const t = setTimeout(() => { this.timers.delete(t); fn(); }, ms);
    this.timers.add(t);
  }

  /** Stops the probe timers of the current instance. */
  clearTimers() {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** Drops a scheduled restart. */
  cancelRestart() {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
  }
}

class Pod {
  /**
   * @param {object} p
   * @param {string} p.ns
   * @param {string} p.name
   * @param {PodSpec} p.spec
   * @param {Labels} [p.labels]
   * @param {Labels} [p.annotations]
   * @param {number} p.index the pod's number in this run: names its network namespace and veth and picks its IP
   * @param {string} p.prefix the run's namespace prefix (k8e-<id>)
   * @param {string} p.stateDir the run's state directory
   */
  constructor({ ns, name, spec, labels, annotations, index, prefix, stateDir }) {
    this.ns = ns;
    this.name = name;
    this.uid = crypto.randomUUID();
    this.spec = spec;
    /** @type {Labels} */
    this.labels = { ...(labels || {}) };
    /** @type {Labels} */
    this.annotations = { ...(annotations || {}) };
    /** @type {import('./types').OwnerRef | null} */
    this.owner = null;
    this.index = index;
    this.ip = podIP(index);
    this.netns = `${prefix}-p${index}`;
    this.veth = `vp${index}`;
    /** Logs, volumes, /etc and /tmp of the pod. */
    this.dir = path.join(stateDir, 'pods', `${ns}_${name}_${index}`);
    this.created = now();
    /** The node the scheduler bound the pod to (spec.nodeName), and that node's address (status.hostIP). @type {string | null} */
    this.nodeName = null;
    /** @type {string | null} */
    this.hostIP = null;
    /** Why the scheduler could not place the pod yet (the PodScheduled condition's message), or null. @type {string | null} */
    this.unschedulable = null;
    /** @type {'Pending' | 'Running' | 'Succeeded' | 'Failed'} */
    this.phase = 'Pending';
    /** @type {number | null} */
    this.deletionTimestamp = null;
    /** When SIGKILL ends whatever is left (ms since the epoch). */
    this.graceDeadline = 0;
    /** @type {number | null} */
    this.startTime = null;
    /** The pause container: holds the pod's mount and UTS namespaces. @type {import('child_process').ChildProcess | null} */
    this.holder = null;
    this.containers = (spec.containers || []).map((c) => new Container(this, c));
    /** A test froze every process of the pod (SIGSTOP) and has not thawed it yet. */
    this.frozen = false;
    /** Teardown began: the pod is on its way out of the store. */
    this.finishing = false;
    /** Torn down and out of the store. */
    this.gone = false;
    /** @type {() => void} */
    let markGone = () => undefined;
    /** Resolves when the pod is gone. @type {Promise<void>} */
    this.goneP = new Promise((resolve) => { markGone = resolve; });
    this.markGone = () => { this.gone = true; markGone(); };
  }

  get terminating() { return this.deletionTimestamp !== null; }

  /** The pod's host name: spec.hostname, or its name. */
  get hostname() { return this.spec.hostname || this.name; }

  /** Ready as a Service and a controller count it. */
  get isReady() {
    return this.phase === 'Running' && !this.terminating && this.containers.every((c) => c.ready);
  }

  /** Neither Succeeded nor Failed, nor terminating: a controller counts it. */
  get active() {
    return !this.terminating && this.phase !== 'Failed' && this.phase !== 'Succeeded';
  }
}

/**
 * A container port by number or by name, as probes and Services name them.
 * @param {Pod} pod
 * @param {number | string} port
 */
function resolvePort(pod, port) {
  if (typeof port === 'number' || /^\d+$/.test(String(port))) return Number(port);
  for (const c of pod.spec.containers || []) for (const p of c.ports || []) if (p.name === port) return p.containerPort;
  throw new Error(`pod ${pod.name} has no port named ${port}`);
}

/**
 * The pod as `kubectl get pod` shows it.
 * @param {Pod} pod
 * @returns {import('./types').KubeObject}
 */
function podView(pod) {
  const ready = pod.isReady;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: pod.name, namespace: pod.ns, uid: pod.uid, labels: pod.labels, annotations: pod.annotations,
      creationTimestamp: iso(pod.created),
      ...(pod.deletionTimestamp !== null ? { deletionTimestamp: iso(pod.deletionTimestamp) } : {}),
      ...(pod.owner ? { ownerReferences: [{ apiVersion: 'v1', kind: pod.owner.kind, name: pod.owner.name, uid: pod.owner.uid, controller: true }] } : {}),
    },
    spec: { ...pod.spec, ...(pod.nodeName ? { nodeName: pod.nodeName } : {}) },
    status: {
      phase: pod.phase,
      podIP: pod.phase === 'Pending' ? undefined : pod.ip,
      podIPs: pod.phase === 'Pending' ? undefined : [{ ip: pod.ip }],
      hostIP: pod.hostIP || undefined,
      startTime: pod.startTime ? iso(pod.startTime) : undefined,
      conditions: pod.nodeName ? [
        { type: 'Initialized', status: 'True' },
        { type: 'Ready', status: ready ? 'True' : 'False' },
        { type: 'ContainersReady', status: pod.containers.every((c) => c.ready) ? 'True' : 'False' },
        { type: 'PodScheduled', status: 'True' },
      ] : [
        { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: pod.unschedulable || '' },
      ],
      containerStatuses: pod.containers.map((c) => ({
        name: c.name, image: c.spec.image, ready: c.ready, started: !!c.proc && c.started,
        restartCount: c.restartCount, state: c.state, lastState: c.lastState,
      })),
    },
  };
}

module.exports = { Pod, Container, resolvePort, podView };
