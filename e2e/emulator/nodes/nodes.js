// @ts-check
'use strict';
// The emulated nodes: a few named nodes (k8e-node-a, -b, -c by default), each with the labels
// kubernetes.io/hostname and topology.kubernetes.io/zone and an address of its own. Every node's
// pods run in the one node network namespace: a node is where the scheduler binds a pod
// (spec.nodeName, status.hostIP) and what a fault takes away. This part gives Nodes their meaning
// (`kubectl get nodes`, cordon), evicts the pods that do not tolerate a NoExecute taint (the taint
// manager), and carries the tests' node faults:
// - lost: every pod on the node dies at once, as with grace 0 (its volumes stay: they are claims),
//   and the node turns NotReady and unreachable-tainted, so nothing new lands on it. The pods leave
//   the API at once, as after Kubernetes' non-graceful node shutdown (the out-of-service taint), so
//   their controllers replace them elsewhere without the 5-minute toleration of a real cluster.
// - back: Ready again; the scheduler places what waits.

const crypto = require('crypto');
const { Unsupported, now, iso } = require('../util');
const { nodeIP } = require('../addresses');

/** @typedef {import('../types').NodeState} NodeState */
/** @typedef {import('../types').Taint} Taint */
/** @typedef {import('../types').StoredObject} StoredObject */
/** @typedef {import('kubernetes-models/v1').IToleration} Toleration */
/** @typedef {import('../pod').Pod} Pod */

/**
 * An emulated node as a run asks for it: a name, a zone, and optionally more labels and taints of
 * its own from the start.
 * @typedef {{ name: string, zone: string, labels?: Record<string, string>, taints?: Array<{ key: string, value?: string, effect: string }> }} NodeSpec
 */

/** The nodes a run has without `Emulator.start({ nodes })`: three nodes, one zone each. @type {NodeSpec[]} */
const DEFAULT_NODES = [
  { name: 'k8e-node-a', zone: 'k8e-zone-a' },
  { name: 'k8e-node-b', zone: 'k8e-zone-b' },
  { name: 'k8e-node-c', zone: 'k8e-zone-c' },
];
const HOSTNAME_LABEL = 'kubernetes.io/hostname';
const ZONE_LABEL = 'topology.kubernetes.io/zone';
/** The taints Kubernetes puts on a cordoned node and on one whose kubelet stopped posting status. */
const UNSCHEDULABLE_TAINT = 'node.kubernetes.io/unschedulable';
const UNREACHABLE_TAINT = 'node.kubernetes.io/unreachable';
/** The kubelet version a node reports. */
const KUBELET_VERSION = 'v1.28.0-k8e';

/**
 * Whether one of the tolerations tolerates the taint (Kubernetes' ToleratesTaint): the effect
 * matches or is empty; the key matches, or is empty with operator Exists (every key); Exists
 * matches any value, Equal (the default) the same value.
 * @param {Toleration[] | undefined} tolerations
 * @param {Taint} taint
 * @returns {Toleration | undefined} the first toleration that does
 */
function toleration(tolerations, taint) {
  return (tolerations || []).find((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.key ? t.key !== taint.key : t.operator !== 'Exists') return false;
    if (t.operator === 'Exists') return true;
    if (t.operator && t.operator !== 'Equal') throw new Unsupported(`toleration operator ${t.operator}`);
    return (t.value || '') === (taint.value || '');
  });
}

/** @param {Taint} t @returns {string} a taint as the scheduler's messages print it */
function taintText(t) { return `{${t.key}: ${t.value || ''}}`; }

/**
 * Checks a taint the tests set.
 * @param {unknown} t
 * @returns {Taint}
 */
function checkTaint(t) {
  const x = /** @type {Taint} */ (t);
  if (!x || typeof x.key !== 'string' || !x.key) throw new Error(`taint ${JSON.stringify(t)}: needs a key`);
  if (!['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(x.effect)) throw new Error(`taint ${x.key}: effect ${x.effect}: use NoSchedule, PreferNoSchedule or NoExecute`);
  return { key: x.key, ...(x.value !== undefined ? { value: String(x.value) } : {}), effect: x.effect, timeAdded: now() };
}

/** @typedef {import('../types').Controller} Controller */
/** @typedef {import('../types').NodeView} NodeView */

/** @implements {Controller} @implements {NodeView} */
class Nodes {
  /**
   * @param {object} p
   * @param {import('../types').StoreView} p.store
   * @param {import('../types').PodControl} p.pods
   * @param {import('../types').PodLifecycleSink} p.sink
   * @param {NodeSpec[]} [p.specs] the run's nodes (DEFAULT_NODES without)
   */
  constructor({ store, pods, sink, specs = DEFAULT_NODES }) {
    this.store = store;
    this.pods = pods;
    this.sink = sink;
    if (!specs.length) throw new Error('an emulated cluster needs at least one node');
    /** The Node objects, for the cluster to store. @type {StoredObject[]} */
    this.objects = specs.map((s, i) => {
      if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(s.name) || !s.zone) throw new Error(`node ${JSON.stringify(s)}: needs a DNS-1123 name and a zone`);
      /** @type {NodeState} */
      const node = {
        name: s.name, ip: nodeIP(i), taints: (s.taints || []).map(checkTaint), unschedulable: false, ready: true, lostAt: null,
        labels: { ...(s.labels || {}), [HOSTNAME_LABEL]: s.name, [ZONE_LABEL]: s.zone, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' },
      };
      return {
        kind: 'Node', ns: '', name: s.name, uid: crypto.randomUUID(), created: now(),
        manifest: { apiVersion: 'v1', kind: 'Node', metadata: { name: s.name, labels: node.labels } }, lastApplied: null, live: { node },
      };
    });
    const fixed = () => { throw new Unsupported('the emulated nodes are fixed for a run (Emulator.start({ nodes })); use cordon, uncordon, drain or the node test controls'); };
    /** @type {import('../types').KindHandler[]} */
    this.kinds = [{
      kind: 'Node', apiVersion: 'v1', resource: 'nodes', shortNames: ['no'], clusterScoped: true,
      create: fixed, admit: fixed, terminate: async () => fixed(),
      view: (obj) => this.view(/** @type {NodeState} */ (obj.live.node), obj),
    }];
  }

  // ---------------------------------------------------------------- NodeView

  /** @returns {NodeState[]} in the run's order */
  list() { return this.objects.map((o) => /** @type {NodeState} */ (o.live.node)); }

  /** @param {string} name */
  get(name) { return this.list().find((n) => n.name === name); }

  /** @param {NodeState} node @returns {Taint[]} */
  taints(node) {
    const at = node.lostAt || 0;
    return [
      ...node.taints,
      ...(node.unschedulable ? [{ key: UNSCHEDULABLE_TAINT, effect: /** @type {const} */ ('NoSchedule') }] : []),
      ...(node.ready ? [] : [
        { key: UNREACHABLE_TAINT, effect: /** @type {const} */ ('NoSchedule'), timeAdded: at },
        { key: UNREACHABLE_TAINT, effect: /** @type {const} */ ('NoExecute'), timeAdded: at },
      ]),
    ];
  }

  /** @param {string} name @returns {NodeState} */
  must(name) {
    const node = this.get(name);
    if (!node) throw new Error(`nodes "${name}" not found`);
    return node;
  }

  // ---------------------------------------------------------------- kubectl and the tests

  /**
   * Cordons or uncordons a node (spec.unschedulable).
   * @param {string} name
   * @param {boolean} on
   * @returns {boolean} whether it changed
   */
  setUnschedulable(name, on) {
    const node = this.must(name);
    if (node.unschedulable === on) return false;
    node.unschedulable = on;
    this.sink.event(`node ${name} ${on ? 'cordoned' : 'uncordoned'}`);
    this.sink.podsChanged();
    this.sink.changed();
    return true;
  }

  /**
   * A test control: the node's own taints (those Kubernetes adds for a cordoned or lost node come
   * on top). A NoExecute taint evicts the pods on the node that do not tolerate it.
   * @param {string} name
   * @param {unknown[]} taints
   */
  setTaints(name, taints) {
    const node = this.must(name);
    if (!Array.isArray(taints)) throw new Error('taints: a list of { key, value, effect }');
    const old = new Map(node.taints.map((t) => [`${t.key}=${t.value || ''}:${t.effect}`, t.timeAdded]));
    node.taints = taints.map(checkTaint).map((t) => ({ ...t, timeAdded: old.get(`${t.key}=${t.value || ''}:${t.effect}`) ?? t.timeAdded }));
    this.sink.event(`node ${name} taints: ${node.taints.map((t) => `${t.key}=${t.value || ''}:${t.effect}`).join(', ') || 'none'}`);
    this.sink.podsChanged();
    this.sink.changed();
  }

  /**
   * A test fault: the node is lost. Every pod on it dies at once (SIGKILL, its network gone, as a
   * crashed machine), terminating ones too; the pods leave the API, their claims stay; the node is
   * NotReady and gets no pod until it is back.
   * @param {string} name
   * @returns {Pod[]} the pods that died
   */
  lose(name) {
    const node = this.must(name);
    node.ready = false;
    node.lostAt = now();
    const victims = this.store.pods().filter((p) => p.nodeName === name && !p.gone);
    this.sink.event(`node ${name} lost: ${victims.map((p) => p.name).join(', ') || 'no pods'} killed`);
    this.pods.deletePods(victims, { gracePeriod: 0 }).catch((e) => this.sink.event(`node ${name} lost: ${e.message}`));
    this.sink.podsChanged();
    this.sink.changed();
    return victims;
  }

  /** A test fault ends: the node is Ready again. @param {string} name */
  restore(name) {
    const node = this.must(name);
    node.ready = true;
    node.lostAt = null;
    this.sink.event(`node ${name} back`);
    this.sink.podsChanged();
    this.sink.changed();
  }

  /** The taint manager: pods on a node with a NoExecute taint they do not tolerate (or no longer: tolerationSeconds) are deleted. */
  reconcile() {
    const pods = this.store.pods().filter((p) => p.nodeName && !p.terminating && !p.gone);
    for (const node of this.list()) {
      const noExecute = this.taints(node).filter((t) => t.effect === 'NoExecute');
      if (!noExecute.length) continue;
      for (const pod of pods.filter((p) => p.nodeName === node.name)) {
        const evict = noExecute.find((t) => {
          const tol = toleration(pod.spec.tolerations, t);
          if (!tol) return true;
          return tol.tolerationSeconds !== undefined && now() >= (t.timeAdded || 0) + tol.tolerationSeconds * 1000;
        });
        if (!evict) continue;
        this.sink.event(`taint manager: deleting pod ${pod.name} from node ${node.name}: it does not tolerate ${taintText(evict)}:NoExecute`);
        this.pods.deletePod(pod).catch((e) => this.sink.event(`delete ${pod.name}: ${e.message}`));
      }
    }
  }

  /**
   * A Node as `kubectl get node` shows it.
   * @param {NodeState} node
   * @param {StoredObject} obj
   * @returns {import('../types').KubeObject}
   */
  view(node, obj) {
    const taints = this.taints(node);
    return {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: node.name, uid: obj.uid, creationTimestamp: iso(obj.created), labels: { ...node.labels } },
      spec: {
        ...(node.unschedulable ? { unschedulable: true } : {}),
        ...(taints.length ? { taints: taints.map((t) => ({ key: t.key, ...(t.value ? { value: t.value } : {}), effect: t.effect, ...(t.timeAdded ? { timeAdded: iso(t.timeAdded) } : {}) })) } : {}),
      },
      status: {
        addresses: [{ type: 'InternalIP', address: node.ip }, { type: 'Hostname', address: node.name }],
        conditions: [node.ready
          ? { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }
          : { type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' }],
        nodeInfo: { kubeletVersion: KUBELET_VERSION, operatingSystem: 'linux', architecture: 'amd64' },
      },
    };
  }
}

module.exports = { Nodes, DEFAULT_NODES, toleration, taintText, HOSTNAME_LABEL, ZONE_LABEL, UNSCHEDULABLE_TAINT, UNREACHABLE_TAINT };
