// @ts-check
'use strict';
// The disruption controller: PodDisruptionBudgets (policy/v1) and their status, computed as
// Kubernetes' disruption controller does. Expected pods: with maxUnavailable or a percentage
// minAvailable, the sum of the scale of the controllers that own the selected pods (a selected pod
// without a controller makes the budget allow no disruption); with an integer minAvailable, the
// selected pods. Healthy: selected pods that are ready and not terminating. disruptionsAllowed =
// healthy - desired, at least 0. It is also the eviction API's admission (evictionRefusal): a pod
// whose budget allows no disruption now is refused with 429, as `kubectl drain` expects.

const { labelSelectorMatches } = require('../util');
const { manifestView } = require('../store');

/** @typedef {import('../types').StoredObject} StoredObject */
/** @typedef {import('../types').KubeObject} KubeObject */
/** @typedef {import('../types').DisruptionStatus} DisruptionStatus */
/** @typedef {import('kubernetes-models/policy/v1').IPodDisruptionBudgetSpec} PdbSpec */
/** @typedef {import('../pod').Pod} Pod */

/** @param {KubeObject} doc @returns {PdbSpec} */
function pdbSpec(doc) { return /** @type {PdbSpec} */ (doc.spec || {}); }

/**
 * An int-or-percent of a total, rounded up (Kubernetes' GetScaledValueFromIntOrPercent, roundUp).
 * @param {number | string} v
 * @param {number} total
 */
function scaled(v, total) {
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (m) return Math.ceil((Number(m[1]) * total) / 100);
  if (/^\d+$/.test(v)) return Number(v);
  throw new Error(`invalid int or percent ${v}`);
}

/** @param {KubeObject} doc */
function checkBudget(doc) {
  const spec = pdbSpec(doc);
  const name = doc.metadata.name;
  if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) {
    throw new Error(`PodDisruptionBudget ${name}: minAvailable and maxUnavailable cannot both be set`);
  }
  for (const v of [spec.minAvailable, spec.maxUnavailable]) if (v !== undefined) scaled(v, 0);
  if (spec.selector) labelSelectorMatches(spec.selector, {});
}

/** @typedef {import('../types').Controller} Controller */

/** @implements {Controller} */
class DisruptionController {
  /**
   * @param {object} p
   * @param {import('../types').StoreView} p.store
   */
  constructor({ store }) {
    this.store = store;
    /** @type {import('../types').KindHandler[]} */
    this.kinds = [{
      kind: 'PodDisruptionBudget',
      apiVersion: 'policy/v1',
      resource: 'poddisruptionbudgets',
      shortNames: ['pdb'],
      create: (obj) => checkBudget(obj.manifest),
      admit: (_obj, doc) => checkBudget(doc),
      view: (obj) => {
        const v = manifestView(obj);
        v.status = obj.live.disruption || this.status(obj);
        return v;
      },
    }];
  }

  /** The pods a budget selects (a null selector selects none, as in policy/v1). @param {StoredObject} pdb @returns {Pod[]} */
  selected(pdb) {
    const sel = pdbSpec(pdb.manifest).selector;
    if (!sel) return [];
    return this.store.pods().filter((p) => p.ns === pdb.ns && !p.gone && labelSelectorMatches(sel, p.labels));
  }

  /**
   * The budget's status now.
   * @param {StoredObject} pdb
   * @returns {DisruptionStatus}
   */
  status(pdb) {
    const spec = pdbSpec(pdb.manifest);
    const pods = this.selected(pdb);
    const currentHealthy = pods.filter((p) => p.isReady).length;
    let expectedPods = pods.length;
    let desiredHealthy = 0;
    /** @type {string | null} why no disruption can be allowed */
    let problem = null;
    if (spec.maxUnavailable !== undefined || (typeof spec.minAvailable === 'string' && spec.minAvailable.endsWith('%'))) {
      /** @type {Map<string, number>} controller uid → its scale */
      const scales = new Map();
      for (const p of pods) {
        const owner = p.owner && this.store.get(p.owner.kind, p.ns, p.owner.name);
        if (!owner || owner.live.replicas === undefined) { problem = `found no controller with a scale for pod ${p.name}`; break; }
        scales.set(owner.uid, owner.live.replicas);
      }
      expectedPods = [...scales.values()].reduce((a, b) => a + b, 0);
      desiredHealthy = spec.maxUnavailable !== undefined
        ? Math.max(0, expectedPods - scaled(spec.maxUnavailable, expectedPods))
        : scaled(/** @type {string} */ (spec.minAvailable), expectedPods);
    } else if (spec.minAvailable !== undefined) {
      desiredHealthy = scaled(spec.minAvailable, expectedPods);
    }
    const disruptionsAllowed = problem ? 0 : Math.max(0, currentHealthy - desiredHealthy);
    return {
      currentHealthy, desiredHealthy, expectedPods, disruptionsAllowed, observedGeneration: 1,
      conditions: [problem
        ? { type: 'DisruptionAllowed', status: 'False', reason: 'SyncFailed', message: problem }
        : { type: 'DisruptionAllowed', status: disruptionsAllowed > 0 ? 'True' : 'False', reason: disruptionsAllowed > 0 ? 'SufficientPods' : 'InsufficientPods', message: '' }],
    };
  }

  reconcile() {
    for (const pdb of this.store.list('PodDisruptionBudget', null)) pdb.live.disruption = this.status(pdb);
  }

  /**
   * The eviction API's check (Kubernetes' pods/eviction): a pod that is Pending, finished or
   * already terminating may always go; one covered by more than one budget never; otherwise its
   * budget must allow a disruption now, or, for a pod that is not ready, be healthy (the default
   * unhealthyPodEvictionPolicy IfHealthyBudget). The status is computed afresh: an eviction that
   * went through made its pod terminating at once, so the next one sees it gone from the healthy.
   * @param {Pod} pod
   * @returns {import('../types').EvictionRefusal | null}
   */
  evictionRefusal(pod) {
    if (pod.phase !== 'Running' || pod.terminating) return null;
    const budgets = this.store.list('PodDisruptionBudget', pod.ns).filter((b) => {
      const sel = pdbSpec(b.manifest).selector;
      return !!sel && labelSelectorMatches(sel, pod.labels);
    });
    if (!budgets.length) return null;
    if (budgets.length > 1) return { code: 500, message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.' };
    const budget = budgets[0];
    const status = this.status(budget);
    budget.live.disruption = status;
    if (!pod.isReady && pdbSpec(budget.manifest).unhealthyPodEvictionPolicy === 'AlwaysAllow') return null;
    if (!pod.isReady && status.currentHealthy >= status.desiredHealthy && status.desiredHealthy > 0) return null;
    if (status.disruptionsAllowed > 0) return null;
    return { code: 429, message: "Cannot evict pod as it would violate the pod's disruption budget." };
  }
}

module.exports = { DisruptionController };
