// @ts-check
'use strict';
// The ReplicationController manager: keeps `replicas` active pods matching `selector`. It adopts
// orphans that match (a pod has at most one controller, so the first RC to claim a pod keeps it),
// names replacements `<rc>-<5 chars>`, scales down not-ready pods first, then the newest, and
// deletes its pods with it. A missing `replicas` is 1 on create and left alone by a later apply.

const crypto = require('crypto');
const { matchLabels } = require('../util');
const { manifestView } = require('../store');

/** @typedef {import('../types').StoredObject} StoredObject */
/** @typedef {import('../pod').Pod} Pod */
/** @typedef {import('kubernetes-models/v1').IReplicationControllerSpec} RcSpec */

/** The characters of generated pod names (Kubernetes' alphabet, without vowels). */
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** @param {StoredObject} rc @returns {RcSpec} */
function rcSpec(rc) { return /** @type {any} */ (rc.manifest.spec) || {}; }

/** @typedef {import('../types').Controller} Controller */

/** @implements {Controller} */
class ReplicationManager {
  /**
   * @param {object} p
   * @param {import('../types').StoreView} p.store
   * @param {import('../types').PodControl} p.pods
   * @param {import('../types').EventSink} p.sink
   */
  constructor({ store, pods, sink }) {
    this.store = store;
    this.pods = pods;
    this.sink = sink;
    /** @type {import('../types').KindHandler[]} */
    this.kinds = [{
      kind: 'ReplicationController',
      apiVersion: 'v1',
      resource: 'replicationcontrollers',
      shortNames: ['rc'],
      create: (rc) => {
        const replicas = rcSpec(rc).replicas;
        rc.live.replicas = replicas !== undefined ? replicas : 1;
      },
      // kubectl's three-way merge: a manifest without spec.replicas leaves the live value alone.
      updated: (rc) => {
        const replicas = rcSpec(rc).replicas;
        if (replicas !== undefined) rc.live.replicas = replicas;
      },
      deleted: (rc) => {
        for (const p of this.owned(rc)) this.pods.deletePod(p).catch((e) => this.sink.event(`delete ${p.name}: ${e.message}`));
      },
      scale: (rc, replicas) => {
        rc.live.replicas = replicas;
        this.sink.event(`scaled rc ${rc.name} to ${replicas}`);
      },
      view: (rc) => {
        const v = manifestView(rc);
        v.spec = { .../** @type {RcSpec} */ (v.spec), replicas: rc.live.replicas };
        v.status = this.status(rc);
        return v;
      },
    }];
  }

  /** @param {StoredObject} rc @returns {Pod[]} every pod the RC owns, terminating ones too */
  owned(rc) {
    return this.store.pods().filter((p) => p.owner && p.owner.uid === rc.uid);
  }

  reconcile() {
    for (const rc of this.store.list('ReplicationController', null)) {
      const spec = rcSpec(rc);
      const selector = spec.selector || (spec.template && spec.template.metadata && spec.template.metadata.labels) || {};
      const candidates = this.store.pods().filter((p) => p.ns === rc.ns && !p.gone && matchLabels(selector, p.labels));
      const owner = { kind: 'ReplicationController', name: rc.name, uid: rc.uid };
      for (const p of candidates) {
        if (!p.owner && p.active) {
          this.pods.adoptPod(p, owner);
          this.sink.event(`rc ${rc.name} adopted pod ${p.name}`);
        }
      }
      const active = candidates.filter((p) => p.owner && p.owner.uid === rc.uid && p.active);
      const want = rc.live.replicas;
      if (want === undefined) continue;
      if (active.length < want) {
        for (let i = active.length; i < want; i++) this.createPod(rc);
      } else if (active.length > want) {
        const order = [...active].sort((a, b) => (Number(a.isReady) - Number(b.isReady)) || (b.created - a.created) || (b.index - a.index));
        for (const p of order.slice(0, active.length - want)) {
          this.sink.event(`rc ${rc.name} scales down: deleting ${p.name}`);
          this.pods.deletePod(p).catch((e) => this.sink.event(`delete ${p.name}: ${e.message}`));
        }
      }
    }
  }

  /** `status` as `kubectl get rc` shows it. @param {StoredObject} rc */
  status(rc) {
    const mine = this.owned(rc).filter((p) => !p.terminating);
    const ready = mine.filter((p) => p.isReady).length;
    return { replicas: mine.length, readyReplicas: ready, availableReplicas: ready, fullyLabeledReplicas: mine.length, observedGeneration: 1 };
  }

  /** @param {StoredObject} rc */
  createPod(rc) {
    let name;
    do {
      name = `${rc.name}-${Array.from(crypto.randomBytes(5), (b) => NAME_ALPHABET[b % NAME_ALPHABET.length]).join('')}`;
    } while (this.store.get('Pod', rc.ns, name));
    const pod = this.pods.createPod(rc.ns, name, rcSpec(rc).template || {}, { kind: 'ReplicationController', name: rc.name, uid: rc.uid });
    this.sink.event(`rc ${rc.name} created pod ${name} (${pod.ip})`);
    this.sink.changed();
  }
}

module.exports = { ReplicationManager };
