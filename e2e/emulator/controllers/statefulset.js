// @ts-check
'use strict';
// The StatefulSet controller (apps/v1), after Kubernetes' stateful_set_control.go:
// - pods `<set>-<ordinal>` for ordinals 0 to replicas-1, each with spec.hostname = its name and
//   spec.subdomain = serviceName (so the name server gives it `<pod>.<service>.<ns>.svc…`), the
//   labels statefulset.kubernetes.io/pod-name, apps.kubernetes.io/pod-index and
//   controller-revision-hash, and for each volumeClaimTemplate a claim `<template>-<pod>` (made
//   before the pod, kept after it);
// - OrderedReady (the default): one pod at a time, each created once the lower ordinals are Running
//   and Ready, and removed highest first, one at a time; Parallel: all at once;
// - a deleted or failed pod comes back with the same name (and its claims), a new uid and IP;
// - revisions: a hash of spec.template names each (`<set>-<hash>`, the ControllerRevision). An
//   apply that changes the template makes a new update revision. RollingUpdate replaces pods from the
//   highest ordinal down to `partition`, one at a time, each replacement Running and Ready before the
//   next goes; OnDelete replaces nothing: a pod deleted by someone comes back at the update revision.
//   The current revision becomes the update revision once every pod runs it and is ready;
// - persistentVolumeClaimRetentionPolicy: whenDeleted Delete makes the set its claims' owner,
//   whenScaled Delete makes each condemned pod the owner of its claims; the garbage collector
//   (runtime/claims.js) deletes a claim whose owner is gone. Retain (the default) keeps them;
// - deleting the set deletes its pods at once (background cascading).
// Not emulated (refused loudly): minReadySeconds, spec.ordinals, rollingUpdate.maxUnavailable.

const crypto = require('crypto');
const { Unsupported, labelSelectorMatches } = require('../util');
const { manifestView } = require('../store');

/** @typedef {import('../types').StoredObject} StoredObject */
/** @typedef {import('../types').PodTemplate} PodTemplate */
/** @typedef {import('../types').StatefulSetState} StatefulSetState */
/** @typedef {import('../types').OwnerRef} OwnerRef */
/** @typedef {import('kubernetes-models/apps/v1').IStatefulSetSpec} SetSpec */
/** @typedef {import('../pod').Pod} Pod */

const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';
const REVISION_LABEL = 'controller-revision-hash';
/** The characters of generated names (Kubernetes' alphabet, without vowels). */
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** @param {StoredObject} set @returns {SetSpec} */
function setSpec(set) { return /** @type {SetSpec} */ (set.manifest.spec || {}); }

/** @param {StoredObject} set @returns {StatefulSetState} */
function setState(set) {
  if (!set.live.statefulSet) throw new Error(`statefulset ${set.name} has no state`);
  return set.live.statefulSet;
}

/** JSON with sorted keys: the same template hashes the same, whatever the order of its fields. @param {unknown} v @returns {string} */
function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(/** @type {any} */ (v)[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

/** The revision name of a template: `<set>-<10 characters of its hash>`. @param {string} set @param {PodTemplate} template */
function revisionName(set, template) {
  const digest = crypto.createHash('sha256').update(canonical(template)).digest();
  return `${set}-${Array.from(digest.subarray(0, 10), (b) => NAME_ALPHABET[b % NAME_ALPHABET.length]).join('')}`;
}

/** The spec fields an update may change (the API server's validation of StatefulSet updates). */
const MUTABLE = ['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'];

/**
 * What the API server and this emulator refuse in a StatefulSet.
 * @param {import('../types').KubeObject} doc
 */
function checkSet(doc) {
  const spec = /** @type {SetSpec} */ (doc.spec || {});
  const name = doc.metadata.name;
  /** @param {string} field @param {string} why */
  const invalid = (field, why) => new Error(`StatefulSet.apps "${name}" is invalid: spec.${field}: ${why}`);
  if (!spec.selector) throw invalid('selector', 'Required value');
  if (!spec.template) throw invalid('template', 'Required value');
  const labels = (spec.template.metadata && spec.template.metadata.labels) || {};
  if (!labelSelectorMatches(spec.selector, labels)) throw invalid('template.metadata.labels', `Invalid value: ${JSON.stringify(labels)}: \`selector\` does not match template \`labels\``);
  const policy = spec.podManagementPolicy;
  if (policy !== undefined && policy !== 'OrderedReady' && policy !== 'Parallel') throw invalid('podManagementPolicy', `Unsupported value: "${policy}"`);
  const strategy = spec.updateStrategy && spec.updateStrategy.type;
  if (strategy !== undefined && strategy !== 'RollingUpdate' && strategy !== 'OnDelete') throw invalid('updateStrategy', `Unsupported value: "${strategy}"`);
  for (const [k, v] of Object.entries(spec.persistentVolumeClaimRetentionPolicy || {})) {
    if (v !== 'Retain' && v !== 'Delete') throw invalid(`persistentVolumeClaimRetentionPolicy.${k}`, `Unsupported value: "${v}"`);
  }
  for (const t of spec.volumeClaimTemplates || []) if (!t.metadata || !t.metadata.name) throw invalid('volumeClaimTemplates', 'metadata.name: Required value');
  if (spec.minReadySeconds) throw new Unsupported(`StatefulSet ${name}: minReadySeconds`);
  if (spec.ordinals) throw new Unsupported(`StatefulSet ${name}: ordinals`);
  const rolling = spec.updateStrategy && spec.updateStrategy.rollingUpdate;
  if (rolling && rolling.maxUnavailable !== undefined) throw new Unsupported(`StatefulSet ${name}: rollingUpdate.maxUnavailable`);
}

/** @param {StoredObject} set */
function partitionOf(set) {
  const rolling = setSpec(set).updateStrategy;
  return (rolling && rolling.rollingUpdate && rolling.rollingUpdate.partition) || 0;
}

/** @param {StoredObject} set @returns {'RollingUpdate' | 'OnDelete'} */
function strategyOf(set) {
  const s = setSpec(set).updateStrategy;
  return s && s.type === 'OnDelete' ? 'OnDelete' : 'RollingUpdate';
}

/** Running, Ready and not terminating: what OrderedReady and RollingUpdate wait for. @param {Pod} pod */
function healthy(pod) { return pod.isReady; }

/** @typedef {import('../types').Controller} Controller */

/** @implements {Controller} */
class StatefulSetController {
  /**
   * @param {object} p
   * @param {import('../types').StoreView} p.store
   * @param {import('../types').PodControl} p.pods
   * @param {import('../types').ClaimControl} p.claims
   * @param {import('../types').EventSink} p.sink
   */
  constructor({ store, pods, claims, sink }) {
    this.store = store;
    this.pods = pods;
    this.claims = claims;
    this.sink = sink;
    /** Pods that wait for a claim being deleted, reported once. @type {Set<string>} */
    this.waiting = new Set();
    /** @type {import('../types').KindHandler[]} */
    this.kinds = [{
      kind: 'StatefulSet',
      apiVersion: 'apps/v1',
      resource: 'statefulsets',
      shortNames: ['sts'],
      create: (set) => {
        checkSet(set.manifest);
        const spec = setSpec(set);
        set.live.replicas = spec.replicas !== undefined ? spec.replicas : 1;
        const rev = revisionName(set.name, /** @type {PodTemplate} */ (spec.template));
        set.live.statefulSet = {
          generation: 1, specText: canonical(spec), observedGeneration: 0,
          currentRevision: rev, updateRevision: rev, revisions: { [rev]: /** @type {PodTemplate} */ (spec.template) },
        };
      },
      admit: (set, doc) => {
        checkSet(doc);
        const was = /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (setSpec(set)));
        const will = /** @type {Record<string, unknown>} */ (doc.spec || {});
        const fixed = [...new Set([...Object.keys(was), ...Object.keys(will)])].filter((k) => !MUTABLE.includes(k));
        if (fixed.some((k) => canonical(was[k]) !== canonical(will[k]))) {
          throw new Error(`StatefulSet.apps "${set.name}" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden`);
        }
      },
      updated: (set) => {
        const spec = setSpec(set);
        const st = setState(set);
        if (canonical(spec) !== st.specText) st.generation++;
        st.specText = canonical(spec);
        // kubectl's three-way merge: a manifest without spec.replicas leaves the live value alone.
        if (spec.replicas !== undefined) set.live.replicas = spec.replicas;
        const template = /** @type {PodTemplate} */ (spec.template);
        const rev = revisionName(set.name, template);
        if (rev !== st.updateRevision) this.sink.event(`statefulset ${set.name}: new revision ${rev} (was ${st.updateRevision})`);
        st.revisions[rev] = template;
        st.updateRevision = rev;
      },
      deleted: (set) => {
        const mine = this.owned(set).filter((p) => !p.terminating);
        this.sink.event(`statefulset ${set.name} deleted: deleting ${mine.map((p) => p.name).join(', ') || 'no pods'}`);
        this.pods.deletePods(mine).catch((e) => this.sink.event(`delete pods of ${set.name}: ${e.message}`));
      },
      scale: (set, replicas) => {
        set.live.replicas = replicas;
        setState(set).generation++;
        this.sink.event(`scaled statefulset ${set.name} to ${replicas}`);
      },
      view: (set) => this.view(set),
    }];
  }

  /** @param {StoredObject} set @returns {Pod[]} every pod the set owns, terminating ones too */
  owned(set) {
    return this.store.pods().filter((p) => p.owner && p.owner.uid === set.uid && !p.gone);
  }

  /** @param {StoredObject} set @param {Pod} pod @returns {number | null} the pod's ordinal, or null: not a member */
  ordinal(set, pod) {
    const m = new RegExp(`^${set.name.replace(/[.]/g, '\\.')}-(0|[1-9][0-9]*)$`).exec(pod.name);
    return m ? Number(m[1]) : null;
  }

  reconcile() {
    for (const set of this.store.list('StatefulSet', null)) {
      try { this.sync(set); } catch (e) { this.sink.event(`statefulset ${set.name}: ${/** @type {Error} */ (e).stack}`); }
    }
  }

  /** One pass of the controller over a set. @param {StoredObject} set */
  sync(set) {
    const spec = setSpec(set);
    const st = setState(set);
    const owner = { kind: 'StatefulSet', name: set.name, uid: set.uid };
    // Orphans that match the selector and are members by name are adopted (a set deleted with its
    // pods orphaned and applied again).
    for (const p of this.store.pods()) {
      if (p.ns === set.ns && !p.owner && p.active && !p.gone && this.ordinal(set, p) !== null && labelSelectorMatches(spec.selector || {}, p.labels)) {
        this.pods.adoptPod(p, owner);
        this.sink.event(`statefulset ${set.name} adopted pod ${p.name}`);
      }
    }
    st.observedGeneration = st.generation;
    const replicas = /** @type {number} */ (set.live.replicas);
    const ordered = spec.podManagementPolicy !== 'Parallel';
    /** @type {Map<number, Pod>} */
    const byOrdinal = new Map();
    for (const p of this.owned(set)) {
      const i = this.ordinal(set, p);
      if (i !== null) byOrdinal.set(i, p);
    }
    for (const [i, p] of byOrdinal) this.ownClaims(set, i, p);
    try {
      this.syncReplicas(set, replicas, ordered, byOrdinal);
    } finally {
      this.completeRollout(set);
      this.pruneRevisions(set);
    }
  }

  /**
   * Creates, replaces, scales down and updates pods; returns early where OrderedReady (or the
   * rolling update) must wait.
   * @param {StoredObject} set @param {number} replicas @param {boolean} ordered @param {Map<number, Pod>} byOrdinal
   */
  syncReplicas(set, replicas, ordered, byOrdinal) {
    const st = setState(set);
    for (let i = 0; i < replicas; i++) {
      const pod = byOrdinal.get(i);
      if (!pod) {
        // A pod that waits for its claim holds back the higher ordinals only under OrderedReady.
        this.createReplica(set, i);
        if (ordered) return;
        continue;
      }
      if ((pod.phase === 'Failed' || pod.phase === 'Succeeded') && !pod.terminating) {
        this.sink.event(`statefulset ${set.name}: pod ${pod.name} ${pod.phase}: deleting it to recreate it`);
        this.delete(pod);
        if (ordered) return;
        continue;
      }
      if (ordered && !healthy(pod)) return;
    }
    const condemned = [...byOrdinal].filter(([i]) => i >= replicas).sort((a, b) => b[0] - a[0]).map(([, p]) => p);
    for (const pod of condemned) {
      if (pod.terminating) { if (ordered) return; continue; }
      this.sink.event(`statefulset ${set.name} scales down: deleting ${pod.name}`);
      this.delete(pod);
      if (ordered) return;
    }
    if (strategyOf(set) === 'OnDelete') return;
    for (let i = replicas - 1; i >= partitionOf(set); i--) {
      const pod = byOrdinal.get(i);
      if (!pod) return;
      if (pod.labels[REVISION_LABEL] !== st.updateRevision && !pod.terminating) {
        this.sink.event(`statefulset ${set.name} rolling update: deleting ${pod.name} (revision ${pod.labels[REVISION_LABEL]} -> ${st.updateRevision})`);
        this.delete(pod);
        return;
      }
      if (!healthy(pod)) return;
    }
  }

  /**
   * Makes the claims and the pod of an ordinal, unless a claim of it is still being deleted (the pod
   * waits for the claim to go, then gets a new one).
   * @param {StoredObject} set @param {number} i
   */
  createReplica(set, i) {
    const spec = setSpec(set);
    const st = setState(set);
    const name = `${set.name}-${i}`;
    if (this.store.get('Pod', set.ns, name)) return;
    for (const t of spec.volumeClaimTemplates || []) {
      const claimName = `${t.metadata && t.metadata.name}-${name}`;
      const claim = this.store.get('PersistentVolumeClaim', set.ns, claimName);
      if (claim && claim.live.claim && claim.live.claim.deletionTimestamp !== null) {
        if (!this.waiting.has(claim.uid)) this.sink.event(`statefulset ${set.name}: pod ${name} waits: persistentvolumeclaim ${claimName} is being deleted`);
        this.waiting.add(claim.uid);
        return;
      }
      if (claim) continue;
      const labels = { ...((t.metadata && t.metadata.labels) || {}), ...((spec.selector && spec.selector.matchLabels) || {}) };
      this.claims.createClaim(set.ns, claimName, { metadata: { labels, annotations: t.metadata && t.metadata.annotations }, spec: t.spec }, this.claimOwner(set, i, null));
      this.sink.event(`statefulset ${set.name} created persistentvolumeclaim ${claimName}`);
    }
    // Below the partition a pod keeps the current revision; from it up, the update revision.
    const rev = strategyOf(set) === 'RollingUpdate' && i < partitionOf(set) ? st.currentRevision : st.updateRevision;
    const template = st.revisions[rev];
    const meta = template.metadata || {};
    const podSpec = { ...(template.spec || { containers: [] }), hostname: name, subdomain: spec.serviceName };
    const claimVolumes = (spec.volumeClaimTemplates || []).map((t) => ({ name: String(t.metadata && t.metadata.name), persistentVolumeClaim: { claimName: `${t.metadata && t.metadata.name}-${name}` } }));
    podSpec.volumes = [...(podSpec.volumes || []).filter((v) => !claimVolumes.some((c) => c.name === v.name)), ...claimVolumes];
    const labels = { ...(meta.labels || {}), [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(i), [REVISION_LABEL]: rev };
    const pod = this.pods.createPod(set.ns, name, { metadata: { labels, annotations: meta.annotations }, spec: podSpec }, { kind: 'StatefulSet', name: set.name, uid: set.uid });
    this.sink.event(`statefulset ${set.name} created pod ${name} (${pod.ip}, revision ${rev})`);
    this.sink.changed();
  }

  /**
   * The owner a claim of ordinal i should have by the retention policy (Kubernetes'
   * updateClaimOwnerRefForSetAndPod): the set when whenDeleted is Delete; the pod, instead, once
   * it is condemned by a scale-down and whenScaled is Delete; none when both are Retain.
   * @param {StoredObject} set @param {number} i @param {Pod | null} pod
   * @returns {OwnerRef | null}
   */
  claimOwner(set, i, pod) {
    const policy = setSpec(set).persistentVolumeClaimRetentionPolicy || {};
    const scaledDown = i >= /** @type {number} */ (set.live.replicas);
    if (pod && scaledDown && policy.whenScaled === 'Delete') return { kind: 'Pod', name: pod.name, uid: pod.uid };
    if (policy.whenDeleted === 'Delete') return { kind: 'StatefulSet', name: set.name, uid: set.uid };
    return null;
  }

  /** Keeps the owners of an ordinal's claims in step with the retention policy. @param {StoredObject} set @param {number} i @param {Pod} pod */
  ownClaims(set, i, pod) {
    for (const t of setSpec(set).volumeClaimTemplates || []) {
      const claim = this.store.get('PersistentVolumeClaim', set.ns, `${t.metadata && t.metadata.name}-${pod.name}`);
      if (claim && claim.live.claim && claim.live.claim.deletionTimestamp === null) this.claims.setClaimOwner(claim, this.claimOwner(set, i, pod));
    }
  }

  /** @param {Pod} pod */
  delete(pod) {
    this.pods.deletePod(pod).catch((e) => this.sink.event(`delete ${pod.name}: ${e.message}`));
  }

  /** The rollout is complete once every pod runs the update revision and is ready. @param {StoredObject} set */
  completeRollout(set) {
    const st = setState(set);
    const status = this.status(set);
    if (strategyOf(set) === 'RollingUpdate' && st.currentRevision !== st.updateRevision
      && status.updatedReplicas === status.replicas && status.readyReplicas === status.replicas) {
      this.sink.event(`statefulset ${set.name}: rollout to ${st.updateRevision} complete`);
      st.currentRevision = st.updateRevision;
    }
  }

  /** Forgets the templates of revisions that no pod and no status names. @param {StoredObject} set */
  pruneRevisions(set) {
    const st = setState(set);
    const used = new Set([st.currentRevision, st.updateRevision, ...this.owned(set).map((p) => p.labels[REVISION_LABEL])]);
    for (const rev of Object.keys(st.revisions)) if (!used.has(rev)) delete st.revisions[rev];
  }

  /** `status` as `kubectl get sts` shows it. @param {StoredObject} set */
  status(set) {
    const st = setState(set);
    const pods = this.owned(set);
    const live = pods.filter((p) => !p.terminating);
    const ready = pods.filter((p) => p.isReady).length;
    return {
      observedGeneration: st.observedGeneration,
      replicas: pods.length,
      readyReplicas: ready,
      availableReplicas: ready,
      currentReplicas: live.filter((p) => p.labels[REVISION_LABEL] === st.currentRevision).length,
      updatedReplicas: live.filter((p) => p.labels[REVISION_LABEL] === st.updateRevision).length,
      currentRevision: st.currentRevision,
      updateRevision: st.updateRevision,
      collisionCount: 0,
    };
  }

  /** The set as `kubectl get` shows it: the manifest with the API server's defaults, and its status. @param {StoredObject} set */
  view(set) {
    const v = manifestView(set);
    const spec = /** @type {SetSpec} */ (v.spec || {});
    const strategy = strategyOf(set);
    v.metadata = { ...v.metadata, generation: setState(set).generation };
    v.spec = {
      podManagementPolicy: 'OrderedReady',
      revisionHistoryLimit: 10,
      ...spec,
      replicas: set.live.replicas,
      updateStrategy: strategy === 'OnDelete' ? { type: 'OnDelete' } : { type: 'RollingUpdate', rollingUpdate: { partition: partitionOf(set) } },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain', ...(spec.persistentVolumeClaimRetentionPolicy || {}) },
    };
    v.status = this.status(set);
    return v;
  }
}

module.exports = { StatefulSetController, revisionName };
