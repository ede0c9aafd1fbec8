// @ts-check
'use strict';
// The scheduler: binds each new pod to a node, or leaves it Pending with the reason Kubernetes'
// scheduler gives ("0/3 nodes are available: …"), and tries again every second and whenever pods
// or nodes change. Filters, in the default profile's order: a lost node (NotReady), a cordoned
// node, taints (NoSchedule, NoExecute) against tolerations, nodeSelector and required node
// affinity, topology spread constraints with DoNotSchedule, required pod anti-affinity (the pod's
// own terms and those of the pods already placed). Scores, each normalised to 0–100 and weighted
// as in the default profile: PreferNoSchedule taints (3), preferred node affinity (2), spreading
// (2: the pod's ScheduleAnyway constraints, or Kubernetes' default spreading of a controller's pods
// over hostnames and zones), preferred pod anti-affinity (2), and fewer pods on the node (1). Ties
// go to the first node in the run's order, where Kubernetes picks at random: placements repeat.
// A pod that names spec.nodeName skips all this, as on a cluster. Its claims must exist and not
// be terminating. Required pod affinity (podAffinity) is not emulated and leaves the pod Pending
// with "unsupported".

const { Unsupported, labelSelectorMatches } = require('../util');
const { toleration, taintText, HOSTNAME_LABEL, ZONE_LABEL, UNSCHEDULABLE_TAINT, UNREACHABLE_TAINT } = require('./nodes');

/** @typedef {import('../pod').Pod} Pod */
/** @typedef {import('../types').NodeState} NodeState */
/** @typedef {import('kubernetes-models/v1').IPodAffinityTerm} AffinityTerm */
/** @typedef {import('kubernetes-models/v1').INodeSelectorRequirement} NodeRequirement */
/** @typedef {import('kubernetes-models/v1').ITopologySpreadConstraint} SpreadConstraint */
/** @typedef {import('@kubernetes-models/apimachinery/apis/meta/v1/LabelSelector').ILabelSelector} LabelSelector */

/** Score weights of Kubernetes' default scheduler profile. */
const WEIGHTS = { taints: 3, nodeAffinity: 2, spread: 2, antiAffinity: 2, fewerPods: 1 };
/** Kubernetes' default spreading for a controller's pods that have no constraints of their own. */
const DEFAULT_SPREAD = [{ topologyKey: HOSTNAME_LABEL, maxSkew: 3 }, { topologyKey: ZONE_LABEL, maxSkew: 5 }];

/**
 * Whether a node's labels meet one node selector requirement (In, NotIn, Exists, DoesNotExist, Gt, Lt).
 * @param {NodeRequirement} r
 * @param {Record<string, string>} labels
 */
function nodeRequirementMet(r, labels) {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const v = labels[r.key];
  switch (r.operator) {
    case 'In': return has && (r.values || []).includes(v);
    case 'NotIn': return !has || !(r.values || []).includes(v);
    case 'Exists': return has;
    case 'DoesNotExist': return !has;
    case 'Gt': return has && Number(v) > Number((r.values || [])[0]);
    case 'Lt': return has && Number(v) < Number((r.values || [])[0]);
    default: throw new Unsupported(`node selector operator ${r.operator}`);
  }
}

/** @param {{ matchExpressions?: NodeRequirement[], matchFields?: unknown[] }} term @param {NodeState} node */
function nodeTermMet(term, node) {
  if (term.matchFields && term.matchFields.length) throw new Unsupported('node affinity matchFields');
  return (term.matchExpressions || []).every((r) => nodeRequirementMet(r, node.labels));
}

/** Normalises raw scores to 0–100 (all equal: 0, no preference). @param {number[]} raw */
function normalise(raw) {
  const max = Math.max(...raw);
  const min = Math.min(...raw);
  return raw.map((v) => (max === min ? 0 : ((v - min) * 100) / (max - min)));
}

/** @typedef {import('../types').Controller} Controller */
/** @typedef {import('../types').PodScheduler} PodScheduler */

/** @implements {Controller} @implements {PodScheduler} */
class Scheduler {
  /**
   * @param {object} p
   * @param {import('../types').StoreView} p.store
   * @param {import('../types').NodeView} p.nodes
   * @param {import('../types').PodBinder} p.binder
   * @param {import('../types').EventSink} p.sink
   */
  constructor({ store, nodes, binder, sink }) {
    this.store = store;
    this.nodes = nodes;
    this.binder = binder;
    this.sink = sink;
    /** @type {import('../types').KindHandler[]} */
    this.kinds = [];
  }

  /** Binds the pod, or records why it waits. @param {Pod} pod */
  schedule(pod) {
    if (pod.nodeName || pod.terminating || pod.gone) return;
    let result;
    try {
      result = this.place(pod);
    } catch (e) {
      const err = /** @type {Error} */ (e);
      result = { message: err instanceof Unsupported ? `kubectl emulator: unsupported: ${err.message}` : err.message };
    }
    if ('node' in result) {
      this.sink.event(`scheduler: pod ${pod.name} on node ${result.node.name}`);
      this.binder.bind(pod, result.node);
      return;
    }
    if (pod.unschedulable !== result.message) {
      pod.unschedulable = result.message;
      this.sink.event(`scheduler: pod ${pod.name} is Pending: ${result.message}`);
      this.sink.changed();
    }
  }

  /** Tries every pod that waits for a node, oldest first. */
  reconcile() {
    for (const pod of this.store.pods()) if (!pod.nodeName) this.schedule(pod);
  }

  /**
   * @param {Pod} pod
   * @returns {{ node: NodeState } | { message: string }}
   */
  place(pod) {
    const all = this.nodes.list();
    for (const v of pod.spec.volumes || []) {
      if (!v.persistentVolumeClaim) continue;
      const name = v.persistentVolumeClaim.claimName;
      const claim = this.store.get('PersistentVolumeClaim', pod.ns, name);
      if (!claim) return { message: `0/${all.length} nodes are available: persistentvolumeclaim "${name}" not found.` };
      if (claim.live.claim && claim.live.claim.deletionTimestamp !== null) return { message: `0/${all.length} nodes are available: persistentvolumeclaim "${name}" is being deleted.` };
    }
    if (pod.spec.nodeName) {
      const node = this.nodes.get(pod.spec.nodeName);
      if (!node) return { message: `node "${pod.spec.nodeName}" not found` };
      if (!node.ready) return { message: `node "${node.name}" is not ready` };
      return { node };
    }
    const affinity = pod.spec.affinity || {};
    if (affinity.podAffinity) throw new Unsupported(`pod ${pod.name}: podAffinity`);
    const placed = this.store.pods().filter((p) => p !== pod && p.nodeName && !p.gone);
    /** @type {Map<string, number>} */
    const reasons = new Map();
    /** @type {NodeState[]} */
    const feasible = [];
    for (const node of all) {
      const why = this.filter(pod, node, placed);
      if (why) reasons.set(why, (reasons.get(why) || 0) + 1);
      else feasible.push(node);
    }
    if (!feasible.length) {
      const list = [...reasons].map(([why, n]) => `${n} ${why}`).sort();
      return { message: `0/${all.length} nodes are available: ${list.join(', ')}.` };
    }
    const scores = this.score(pod, feasible, placed);
    let best = 0;
    for (let i = 1; i < feasible.length; i++) if (scores[i] > scores[best]) best = i;
    return { node: feasible[best] };
  }

  /**
   * Why the pod cannot go to the node (a reason as Kubernetes words it), or null when it can.
   * @param {Pod} pod
   * @param {NodeState} node
   * @param {Pod[]} placed every other pod bound to a node
   * @returns {string | null}
   */
  filter(pod, node, placed) {
    const tolerations = pod.spec.tolerations;
    if (!node.ready) return `node(s) had untolerated taint {${UNREACHABLE_TAINT}: }`;
    if (node.unschedulable && !toleration(tolerations, { key: UNSCHEDULABLE_TAINT, effect: 'NoSchedule' })) return 'node(s) were unschedulable';
    const untolerated = this.nodes.taints(node).find((t) => t.key !== UNSCHEDULABLE_TAINT && t.effect !== 'PreferNoSchedule' && !toleration(tolerations, t));
    if (untolerated) return `node(s) had untolerated taint ${taintText(untolerated)}`;
    if (!this.nodeMatches(pod, node)) return "node(s) didn't match Pod's node affinity/selector";
    for (const c of (pod.spec.topologySpreadConstraints || []).filter((x) => x.whenUnsatisfiable === 'DoNotSchedule')) {
      if (!(c.topologyKey in node.labels)) return "node(s) didn't match pod topology spread constraints (missing required label)";
      const counts = this.domainCounts(pod, c.topologyKey, c.labelSelector, placed);
      const min = Math.min(...counts.values());
      const self = c.labelSelector && labelSelectorMatches(c.labelSelector, pod.labels) ? 1 : 0;
      if ((counts.get(node.labels[c.topologyKey]) || 0) + self - min > c.maxSkew) return "node(s) didn't match pod topology spread constraints";
    }
    const anti = affinity(pod).required;
    if (anti.some((term) => this.sameDomain(node, term, pod, placed).length)) return "node(s) didn't match pod anti-affinity rules";
    for (const other of placed) {
      for (const term of affinity(other).required) {
        if (!this.termSelects(term, other, pod)) continue;
        const at = this.nodes.get(/** @type {string} */ (other.nodeName));
        if (at && term.topologyKey in node.labels && at.labels[term.topologyKey] === node.labels[term.topologyKey]) return "node(s) didn't satisfy existing pods anti-affinity rules";
      }
    }
    return null;
  }

  /**
   * Each feasible node's score: the weighted sum of the normalised plugin scores.
   * @param {Pod} pod
   * @param {NodeState[]} nodes
   * @param {Pod[]} placed
   * @returns {number[]}
   */
  score(pod, nodes, placed) {
    const tolerations = pod.spec.tolerations;
    const preferredNodes = (pod.spec.affinity && pod.spec.affinity.nodeAffinity && pod.spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution) || [];
    const own = pod.spec.topologySpreadConstraints || [];
    const live = placed.filter((p) => !p.terminating);
    /** @type {Array<{ topologyKey: string, selector: (p: Pod) => boolean }>} */
    const spread = own.length
      ? own.filter((c) => c.whenUnsatisfiable !== 'DoNotSchedule').map((c) => ({ topologyKey: c.topologyKey, selector: (p) => !!c.labelSelector && labelSelectorMatches(c.labelSelector, p.labels) }))
      : pod.owner ? DEFAULT_SPREAD.map((c) => ({ topologyKey: c.topologyKey, selector: (p) => !!p.owner && p.owner.uid === /** @type {any} */ (pod.owner).uid })) : [];
    const plugins = {
      taints: nodes.map((n) => -this.nodes.taints(n).filter((t) => t.effect === 'PreferNoSchedule' && !toleration(tolerations, t)).length),
      nodeAffinity: nodes.map((n) => preferredNodes.filter((t) => nodeTermMet(t.preference, n)).reduce((a, t) => a + t.weight, 0)),
      spread: nodes.map((n) => -spread.reduce((a, c) => a + live.filter((p) => p.ns === pod.ns && c.selector(p) && this.inDomain(p, n, c.topologyKey)).length, 0)),
      antiAffinity: nodes.map((n) => -affinity(pod).preferred.reduce((a, w) => a + w.weight * this.sameDomain(n, w.podAffinityTerm, pod, placed).length, 0)),
      fewerPods: nodes.map((n) => -live.filter((p) => p.nodeName === n.name).length),
    };
    const total = nodes.map(() => 0);
    for (const [name, raw] of Object.entries(plugins)) {
      const norm = normalise(raw);
      for (let i = 0; i < nodes.length; i++) total[i] += WEIGHTS[/** @type {keyof WEIGHTS} */ (name)] * norm[i];
    }
    return total;
  }

  /** nodeSelector and required node affinity. @param {Pod} pod @param {NodeState} node */
  nodeMatches(pod, node) {
    for (const [k, v] of Object.entries(pod.spec.nodeSelector || {})) if (node.labels[k] !== v) return false;
    const required = pod.spec.affinity && pod.spec.affinity.nodeAffinity && pod.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution;
    return !required || required.nodeSelectorTerms.some((t) => nodeTermMet(t, node));
  }

  /**
   * Whether an affinity term of `owner` selects pod `p`: its label selector (a null one selects
   * nothing) in its namespaces (the owner's own by default; a namespaceSelector reads each
   * namespace's kubernetes.io/metadata.name label, the only one they have here).
   * @param {AffinityTerm} term
   * @param {Pod} owner
   * @param {Pod} p
   */
  termSelects(term, owner, p) {
    if (term.matchLabelKeys || term.mismatchLabelKeys) throw new Unsupported('pod affinity matchLabelKeys / mismatchLabelKeys');
    if (!term.labelSelector || !labelSelectorMatches(term.labelSelector, p.labels)) return false;
    const names = term.namespaces || [];
    if (term.namespaceSelector) return names.includes(p.ns) || labelSelectorMatches(term.namespaceSelector, { 'kubernetes.io/metadata.name': p.ns });
    return names.length ? names.includes(p.ns) : p.ns === owner.ns;
  }

  /**
   * The placed pods that a term of `pod` selects in the node's topology domain (none when the node
   * lacks the topology label: the term does not apply there).
   * @param {NodeState} node @param {AffinityTerm} term @param {Pod} pod @param {Pod[]} placed
   */
  sameDomain(node, term, pod, placed) {
    if (!(term.topologyKey in node.labels)) return [];
    return placed.filter((p) => this.termSelects(term, pod, p) && this.inDomain(p, node, term.topologyKey));
  }

  /** Whether pod p runs in the node's domain of a topology key. @param {Pod} p @param {NodeState} node @param {string} key */
  inDomain(p, node, key) {
    const at = p.nodeName ? this.nodes.get(p.nodeName) : undefined;
    return !!at && key in at.labels && at.labels[key] === node.labels[key];
  }

  /**
   * Matching pods (not terminating, in the pod's namespace) per domain of a topology key, over the
   * nodes the pod may go to by its node selector and affinity (Kubernetes' nodeAffinityPolicy Honor).
   * @param {Pod} pod @param {string} key @param {LabelSelector | undefined} selector @param {Pod[]} placed
   * @returns {Map<string, number>}
   */
  domainCounts(pod, key, selector, placed) {
    /** @type {Map<string, number>} */
    const counts = new Map();
    for (const n of this.nodes.list()) if (key in n.labels && this.nodeMatches(pod, n)) counts.set(n.labels[key], 0);
    for (const p of placed) {
      if (p.terminating || p.ns !== pod.ns || !selector || !labelSelectorMatches(selector, p.labels)) continue;
      const at = this.nodes.get(/** @type {string} */ (p.nodeName));
      if (at && counts.has(at.labels[key])) counts.set(at.labels[key], /** @type {number} */ (counts.get(at.labels[key])) + 1);
    }
    return counts;
  }
}

/**
 * A pod's pod anti-affinity terms: required, and preferred with weights.
 * @param {Pod} pod
 */
function affinity(pod) {
  const anti = (pod.spec.affinity && pod.spec.affinity.podAntiAffinity) || {};
  return {
    required: anti.requiredDuringSchedulingIgnoredDuringExecution || [],
    preferred: anti.preferredDuringSchedulingIgnoredDuringExecution || [],
  };
}

module.exports = { Scheduler };
