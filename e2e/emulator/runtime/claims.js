// @ts-check
'use strict';
// PersistentVolumeClaims (v1) and their volumes: each claim is bound at once to a volume of its own,
// a directory under the run's state directory (claims/) that outlives every pod that mounts it and
// goes with the claim (a dynamically provisioned volume, reclaim policy Delete). Any storage class is
// taken; a claim without one gets "standard". Deleting a claim that a pod uses waits until no pod
// does (the kubernetes.io/pvc-protection finalizer), then its directory goes. A claim may have one
// controlling owner (a StatefulSet or a Pod, by the StatefulSet's retention policy): the garbage
// collector deletes it once the owner is gone. The StatefulSet controller creates and owns claims
// through ClaimControl.

const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { Unsupported, now, iso } = require('../util');
const { manifestView } = require('../store');

/** @typedef {import('../types').StoredObject} StoredObject */
/** @typedef {import('../types').ClaimState} ClaimState */
/** @typedef {import('../types').OwnerRef} OwnerRef */
/** @typedef {import('kubernetes-models/v1').IPersistentVolumeClaimSpec} ClaimSpec */
/** @typedef {import('../pod').Pod} Pod */

/** The storage class of a claim that names none (kind's and many clusters' default). */
const DEFAULT_STORAGE_CLASS = 'standard';
const PROTECTION_FINALIZER = 'kubernetes.io/pvc-protection';

/** @param {StoredObject} claim @returns {ClaimState} */
function claimState(claim) {
  if (!claim.live.claim) throw new Error(`persistentvolumeclaim ${claim.name} has no volume`);
  return claim.live.claim;
}

/** @param {StoredObject} obj @returns {ClaimSpec} */
function claimSpec(obj) { return /** @type {ClaimSpec} */ (obj.manifest.spec || {}); }

/**
 * What the API server refuses in a claim (its spec is required, with access modes and a storage request).
 * @param {import('../types').KubeObject} doc
 */
function checkClaim(doc) {
  const spec = /** @type {ClaimSpec} */ (doc.spec || {});
  const name = doc.metadata.name;
  if (!spec.accessModes || !spec.accessModes.length) throw new Error(`PersistentVolumeClaim "${name}" is invalid: spec.accessModes: Required value: at least 1 access mode is required`);
  const modes = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'];
  for (const m of spec.accessModes) if (!modes.includes(m)) throw new Error(`PersistentVolumeClaim "${name}" is invalid: spec.accessModes: Unsupported value: "${m}"`);
  if (!spec.resources || !spec.resources.requests || spec.resources.requests.storage === undefined) throw new Error(`PersistentVolumeClaim "${name}" is invalid: spec.resources[storage]: Required value`);
  if (spec.volumeMode && spec.volumeMode !== 'Filesystem') throw new Unsupported(`PersistentVolumeClaim ${name}: volumeMode ${spec.volumeMode}`);
  if (spec.selector || spec.dataSource || spec.dataSourceRef || spec.volumeName) throw new Unsupported(`PersistentVolumeClaim ${name}: selector, dataSource and volumeName (pre-bound volumes)`);
}

/** @typedef {import('../types').ClaimControl} ClaimControl */
/** @typedef {import('../types').Controller} Controller */

/** @implements {ClaimControl} @implements {Controller} */
class Claims {
  /**
   * @param {object} p
   * @param {string} p.stateDir the run's state directory; volumes go to its claims/
   * @param {import('../types').PodStore} p.store
   * @param {import('../types').PodLifecycleSink} p.sink
   */
  constructor({ stateDir, store, sink }) {
    this.dir = path.join(stateDir, 'claims');
    this.store = store;
    this.sink = sink;
    /** @type {import('../types').KindHandler[]} */
    this.kinds = [{
      kind: 'PersistentVolumeClaim',
      apiVersion: 'v1',
      resource: 'persistentvolumeclaims',
      shortNames: ['pvc'],
      create: (obj) => { checkClaim(obj.manifest); this.provision(obj, null); },
      admit: (obj, doc) => {
        checkClaim(doc);
        const { resources: _a, ...was } = claimSpec(obj);
        const { resources: _b, ...will } = /** @type {ClaimSpec} */ (doc.spec || {});
        const dflt = (/** @type {ClaimSpec} */ s) => ({ ...s, storageClassName: s.storageClassName || DEFAULT_STORAGE_CLASS });
        if (JSON.stringify(dflt(was)) !== JSON.stringify(dflt(will))) {
          throw new Error(`PersistentVolumeClaim "${obj.name}" is invalid: spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims`);
        }
      },
      terminate: (obj) => { this.deleteClaim(obj); return claimState(obj).gone; },
      view: (obj) => this.view(obj),
    }];
  }

  /**
   * Gives a stored claim its volume: a fresh, empty directory.
   * @param {StoredObject} obj
   * @param {OwnerRef | null} owner
   */
  provision(obj, owner) {
    const dir = path.join(this.dir, `${obj.ns}_${obj.name}_${obj.uid.slice(0, 8)}`);
    fs.mkdirSync(dir, { recursive: true, mode: 0o777 });
    fs.chmodSync(dir, 0o777);
    /** @type {() => void} */
    let markGone = () => undefined;
    const gone = new Promise((resolve) => { markGone = () => resolve(undefined); });
    obj.live.claim = { dir, volumeName: `pvc-${obj.uid}`, deletionTimestamp: null, owner, gone, markGone };
    this.sink.event(`persistentvolumeclaim ${obj.ns}/${obj.name} bound to ${dir}`);
  }

  // ---------------------------------------------------------------- ClaimControl

  /**
   * @param {string} ns
   * @param {string} name
   * @param {{ metadata?: { labels?: Record<string, string>, annotations?: Record<string, string> }, spec?: unknown }} template
   * @param {OwnerRef | null} owner
   */
  createClaim(ns, name, template, owner) {
    const meta = template.metadata || {};
    /** @type {import('../types').KubeObject} */
    const doc = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: ns, labels: meta.labels, annotations: meta.annotations }, spec: template.spec };
    checkClaim(doc);
    /** @type {StoredObject} */
    const obj = { kind: 'PersistentVolumeClaim', ns, name, uid: crypto.randomUUID(), created: now(), manifest: doc, lastApplied: null, live: {} };
    this.store.add(obj);
    this.provision(obj, owner);
    this.sink.changed();
    return obj;
  }

  /** @param {StoredObject} claim @param {OwnerRef | null} owner */
  setClaimOwner(claim, owner) {
    const st = claimState(claim);
    if (JSON.stringify(st.owner) === JSON.stringify(owner)) return;
    st.owner = owner;
    this.sink.event(`persistentvolumeclaim ${claim.name} owner: ${owner ? `${owner.kind} ${owner.name}` : 'none'}`);
  }

  // ---------------------------------------------------------------- lifecycle

  /** A delete: the claim is terminating, and goes as soon as no pod uses it. @param {StoredObject} claim */
  deleteClaim(claim) {
    const st = claimState(claim);
    if (st.deletionTimestamp === null) {
      st.deletionTimestamp = now();
      this.sink.event(`persistentvolumeclaim ${claim.name} deleting${this.users(claim).length ? ` (in use by ${this.users(claim).map((p) => p.name).join(', ')})` : ''}`);
    }
    this.collect(claim);
    this.sink.changed();
  }

  /** The pods that use the claim: bound to a node and not yet gone. @param {StoredObject} claim @returns {Pod[]} */
  users(claim) {
    return this.store.pods().filter((p) => p.ns === claim.ns && p.nodeName && !p.gone
      && (p.spec.volumes || []).some((v) => v.persistentVolumeClaim && v.persistentVolumeClaim.claimName === claim.name));
  }

  /** Removes a terminating claim that no pod uses, with its volume. @param {StoredObject} claim */
  collect(claim) {
    const st = claimState(claim);
    if (st.deletionTimestamp === null || this.users(claim).length || this.store.get(claim.kind, claim.ns, claim.name) !== claim) return;
    this.store.remove(claim);
    fs.rmSync(st.dir, { recursive: true, force: true });
    this.sink.event(`persistentvolumeclaim ${claim.ns}/${claim.name} deleted with its volume`);
    st.markGone();
    this.sink.podsChanged();
    this.sink.changed();
  }

  /** The garbage collector (a claim whose owner is gone is deleted) and the protection finalizer. */
  reconcile() {
    for (const claim of this.store.list('PersistentVolumeClaim', null)) {
      const st = claimState(claim);
      const owner = st.owner;
      if (owner && st.deletionTimestamp === null) {
        const o = this.store.get(owner.kind, claim.ns, owner.name);
        if (!o || o.uid !== owner.uid) {
          this.sink.event(`garbage collector: ${owner.kind} ${owner.name} is gone: deleting persistentvolumeclaim ${claim.name}`);
          st.deletionTimestamp = now();
        }
      }
      this.collect(claim);
    }
  }

  /**
   * A test control: empties the claim's volume (every file in it), as a disk replaced under it.
   * @param {string} ns
   * @param {string} name
   * @returns {string[]} what was removed
   */
  wipe(ns, name) {
    const claim = this.store.get('PersistentVolumeClaim', ns, name);
    if (!claim) throw new Error(`persistentvolumeclaims "${name}" not found`);
    const dir = claimState(claim).dir;
    const entries = fs.readdirSync(dir);
    for (const e of entries) fs.rmSync(path.join(dir, e), { recursive: true, force: true });
    this.sink.event(`test wiped persistentvolumeclaim ${name}: ${entries.join(', ') || 'it was empty'}`);
    return entries;
  }

  /** The host directory behind a claim a pod mounts; throws when it cannot be mounted. @param {string} ns @param {string} name */
  volumeDir(ns, name) {
    const claim = this.store.get('PersistentVolumeClaim', ns, name);
    if (!claim) throw new Error(`persistentvolumeclaim "${name}" not found`);
    return claimState(claim).dir;
  }

  /** @param {StoredObject} obj @returns {import('../types').KubeObject} */
  view(obj) {
    const st = claimState(obj);
    const v = manifestView(obj);
    const spec = claimSpec(obj);
    v.metadata = {
      ...v.metadata,
      finalizers: [PROTECTION_FINALIZER],
      ...(st.deletionTimestamp !== null ? { deletionTimestamp: iso(st.deletionTimestamp) } : {}),
      ...(st.owner ? { ownerReferences: [{ apiVersion: st.owner.kind === 'StatefulSet' ? 'apps/v1' : 'v1', kind: st.owner.kind, name: st.owner.name, uid: st.owner.uid, controller: true, blockOwnerDeletion: true }] } : {}),
    };
    v.spec = { ...spec, storageClassName: spec.storageClassName || DEFAULT_STORAGE_CLASS, volumeMode: 'Filesystem', volumeName: st.volumeName };
    v.status = { phase: 'Bound', accessModes: spec.accessModes, capacity: { storage: (spec.resources && spec.resources.requests && spec.resources.requests.storage) } };
    return v;
  }
}

module.exports = { Claims, DEFAULT_STORAGE_CLASS };
