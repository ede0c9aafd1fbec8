// @ts-check
'use strict';
// The object store (the API server's storage): every object by kind, namespace and name. Only the
// cluster (apply, delete) and the pod runtime (a controller's new pods, pods that are gone) write to
// it; every other part gets it as a read-only StoreView (types.d.ts).

const { iso } = require('./util');

/** @typedef {import('./types').StoredObject} StoredObject */

/** @typedef {import('./types').PodStore} PodStore */

/** @implements {PodStore} */
class ObjectStore {
  constructor() {
    /** @type {Map<string, StoredObject>} kind/ns/name → object, in creation order */
    this.objects = new Map();
  }

  /** @param {string} kind @param {string} ns @param {string} name */
  static key(kind, ns, name) { return `${kind}/${ns}/${name}`; }

  /** @param {string} kind @param {string} ns @param {string} name */
  get(kind, ns, name) { return this.objects.get(ObjectStore.key(kind, ns, name)); }

  /** @param {string} kind @param {string | null} ns null: every namespace */
  list(kind, ns) {
    return [...this.objects.values()].filter((o) => o.kind === kind && (ns === null || o.ns === ns));
  }

  pods() {
    /** @type {import('./pod').Pod[]} */
    const out = [];
    for (const o of this.objects.values()) if (o.pod) out.push(o.pod);
    return out;
  }

  /** @param {StoredObject} obj */
  add(obj) { this.objects.set(ObjectStore.key(obj.kind, obj.ns, obj.name), obj); }

  /** Removes obj, unless another object of the same name has taken its place. @param {StoredObject} obj */
  remove(obj) {
    const key = ObjectStore.key(obj.kind, obj.ns, obj.name);
    if (this.objects.get(key) === obj) this.objects.delete(key);
  }
}

/**
 * What `kubectl get` shows of an object that has no view of its own: the applied manifest with the
 * metadata the server adds.
 * @param {StoredObject} obj
 * @returns {import('./types').KubeObject}
 */
function manifestView(obj) {
  const v = JSON.parse(JSON.stringify(obj.manifest));
  v.metadata = { ...v.metadata, namespace: obj.ns, uid: obj.uid, creationTimestamp: iso(obj.created) };
  return v;
}

/**
 * The keys of a ConfigMap or a Secret, decoded: a Secret's data is base64, and its stringData
 * wins over its data. (binaryData is for volumes only, as in Kubernetes.)
 * @param {StoredObject} obj
 * @returns {Record<string, Buffer>}
 */
function objectData(obj) {
  const secret = obj.kind === 'Secret';
  /** @type {Record<string, Buffer>} */
  const out = {};
  for (const [k, v] of Object.entries(obj.manifest.data || {})) out[k] = secret ? Buffer.from(v, 'base64') : Buffer.from(String(v));
  if (secret) for (const [k, v] of Object.entries(obj.manifest.stringData || {})) out[k] = Buffer.from(String(v));
  return out;
}

module.exports = { ObjectStore, manifestView, objectData };
