// @ts-check
'use strict';
// The emulated cluster: wires the parts and is the API server's face for kubectl and the test
// controls. The parts never require one another; each gets the narrow interfaces of types.d.ts:
//   store.js        the objects (a read-only StoreView for everyone but the cluster and the runtime)
//   events.js       events.log and the change signal (EventSink)
//   network/        ClusterIPs, pod network namespaces, per-pod nft tables (Service DNAT,
//                   NetworkPolicy, cuts and splits), the name server (dnsmasq)
//   runtime/        pods: volumes, sandbox, containers, env, probes, deletion (PodControl), and
//                   PersistentVolumeClaims with their volumes (ClaimControl)
//   nodes/          the emulated nodes and the scheduler that binds pods to them (PodBinder)
//   controllers/    one controller per kind, reconciled every second and when pods change
// It runs inside the run's node network namespace (which holds the pod bridge), so it can reach
// pod IPs like a kubelet, and it never touches the host's own network.

const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { Unsupported, now } = require('./util');
const { EventLog } = require('./events');
const { ObjectStore, manifestView } = require('./store');
const { Network } = require('./network/network');
const { PodRuntime } = require('./runtime/pod-runtime');
const { ReplicationManager } = require('./controllers/replication-controller');
const { StatefulSetController } = require('./controllers/statefulset');
const { DisruptionController } = require('./controllers/disruption');
const { Nodes } = require('./nodes/nodes');
const { Scheduler } = require('./nodes/scheduler');

/** @typedef {import('./types').KubeObject} KubeObject */
/** @typedef {import('./types').StoredObject} StoredObject */
/** @typedef {import('./types').KindHandler} KindHandler */

/**
 * The controllers, one per kind. A new kind's controller is a file in controllers/ and a line here.
 * @type {Array<new (p: { store: import('./types').StoreView, pods: import('./types').PodControl, claims: import('./types').ClaimControl, sink: import('./types').EventSink }) => import('./types').Controller>}
 */
const CONTROLLERS = [ReplicationManager, StatefulSetController, DisruptionController];

/** How often every controller reconciles, besides when pods change, in ms. */
const RECONCILE_MS = 1000;
/** Passes one reconcile may take when controllers' actions ask for more. */
const MAX_PASSES = 10;

class Cluster {
  /**
   * @param {object} p
   * @param {string} p.stateDir the run's state directory (events.log, pods/)
   * @param {string} p.prefix the run's namespace prefix (k8e-<id>)
   * @param {import('./nodes/nodes').NodeSpec[]} [p.nodes] the emulated nodes (three without: nodes/nodes.js)
   */
  constructor({ stateDir, prefix, nodes }) {
    fs.mkdirSync(path.join(stateDir, 'pods'), { recursive: true });
    this.closed = false;
    this.events = new EventLog(stateDir);
    this.store = new ObjectStore();
    /** @type {import('./types').PodLifecycleSink} */
    const sink = {
      event: (msg) => this.events.event(msg),
      changed: () => this.events.changed(),
      podsChanged: () => this.reconcile(),
    };
    this.network = new Network({ store: this.store, sink, stateDir });
    this.runtime = new PodRuntime({
      stateDir, prefix, store: this.store, sink, network: this.network,
      // Every new pod goes through the scheduler, made just below: it needs the runtime to bind.
      scheduler: { schedule: (pod) => this.scheduler.schedule(pod) },
      backoffScale: Number(process.env.K8E_BACKOFF_SCALE || '1'),
    });
    this.nodes = new Nodes({ store: this.store, pods: this.runtime, sink, specs: nodes });
    for (const obj of this.nodes.objects) this.store.add(obj);
    this.scheduler = new Scheduler({ store: this.store, nodes: this.nodes, binder: this.runtime, sink });
    const claims = this.runtime.claims;
    // The order of one pass: claims whose owner or last user went are collected before the
    // controllers look for them; the scheduler places what the controllers made.
    /** @type {import('./types').Controller[]} */
    this.controllers = [
      claims, this.nodes,
      ...CONTROLLERS.map((C) => new C({ store: this.store, pods: this.runtime, claims, sink })),
      this.scheduler,
    ];
    /** Every kind the cluster accepts, registered by the part that gives it meaning. @type {Map<string, KindHandler>} */
    this.kinds = new Map();
    for (const h of [...this.runtime.kinds, ...this.network.kinds, ...this.controllers.flatMap((c) => c.kinds)]) this.kinds.set(h.kind, h);
    /** A reconcile pass is running; another was asked for meanwhile. */
    this.reconciling = false;
    this.reconcileAgain = false;
    // Any change may move an endpoint or a name: the network looks at its next sync.
    this.events.onChange(() => this.network.markDirty());
    this.reconcileTimer = setInterval(() => this.reconcile(), RECONCILE_MS);
  }

  /** @param {string} msg */
  event(msg) { this.events.event(msg); }

  /** @param {() => void} fn called after every change @returns {() => void} stops the calls */
  onChange(fn) { return this.events.onChange(fn); }

  /** The namespace a kind's objects live in: '' for a cluster-scoped kind. @param {string} kind @param {string} ns */
  scope(kind, ns) {
    const h = this.kinds.get(kind);
    return h && h.clusterScoped ? '' : ns;
  }

  /** @param {string} kind @param {string} ns @param {string} name */
  get(kind, ns, name) { return this.store.get(kind, this.scope(kind, ns), name); }

  /** @param {string} kind @param {string | null} ns null: every namespace */
  list(kind, ns) { return this.store.list(kind, ns === null ? null : this.scope(kind, ns)); }

  /** @param {string} ns @param {string} name */
  pod(ns, name) {
    const o = this.store.get('Pod', ns, name);
    return o && o.pod;
  }

  /**
   * The kind handler, namespace and name of a document; throws for what the cluster does not take.
   * @param {KubeObject} doc
   * @param {string} defaultNs
   */
  identify(doc, defaultNs) {
    if (!doc || typeof doc !== 'object') throw new Unsupported('empty document');
    const kind = doc.kind;
    const ns = this.scope(kind, (doc.metadata && doc.metadata.namespace) || defaultNs);
    const name = doc.metadata && doc.metadata.name;
    if (!name) throw new Error(`${kind}: metadata.name is required`);
    for (const [k, v] of Object.entries((doc.metadata && doc.metadata.labels) || {})) {
      // YAML 1.1 reads y, no, on, 1 unquoted as booleans and numbers; the API server refuses them.
      if (typeof v !== 'string') throw new Error(`${kind} ${name}: label ${k}: ${JSON.stringify(v)} is not a string (quote it in the YAML)`);
    }
    const handler = this.kinds.get(kind);
    if (!handler) throw new Unsupported(`kind ${kind}`);
    if (doc.apiVersion !== handler.apiVersion) throw new Unsupported(`apiVersion ${doc.apiVersion} kind ${kind}`);
    return { kind, ns, name, handler };
  }

  /**
   * Applies one manifest document.
   * @param {KubeObject} doc
   * @param {string} defaultNs
   * @returns {Promise<'created' | 'configured' | 'unchanged'>}
   */
  async apply(doc, defaultNs) {
    const { kind, ns, name, handler } = this.identify(doc, defaultNs);
    const existing = this.store.get(kind, ns, name);
    const text = JSON.stringify(doc);
    if (existing) {
      if (existing.lastApplied === text) return 'unchanged';
      if (handler.admit) handler.admit(existing, doc);
      existing.manifest = doc;
      if (handler.updated) handler.updated(existing);
      this.event(`configured ${kind} ${ns}/${name}`);
      this.reconcile();
      existing.lastApplied = text;
      this.events.changed();
      return 'configured';
    }
    this.add(doc, ns, text);
    return 'created';
  }

  /**
   * Creates an object that must not exist yet (`kubectl create`).
   * @param {KubeObject} doc
   * @param {string} defaultNs
   */
  create(doc, defaultNs) {
    const { kind, ns, name, handler } = this.identify(doc, defaultNs);
    if (this.store.get(kind, ns, name)) throw new Error(`${handler.resource} "${name}" already exists`);
    // No last-applied document: a later apply of the same text configures it, as kubectl's does.
    this.add(doc, ns, null);
  }

  /**
   * Stores a new object and lets its kind start what it runs; a kind that refuses it leaves no trace.
   * @param {KubeObject} doc
   * @param {string} ns
   * @param {string | null} lastApplied
   */
  add(doc, ns, lastApplied) {
    const { kind, name, handler } = this.identify(doc, ns);
    /** @type {StoredObject} */
    const obj = { kind, ns, name, uid: crypto.randomUUID(), created: now(), manifest: doc, lastApplied, live: {} };
    this.store.add(obj);
    if (handler.create) {
      try { handler.create(obj); } catch (e) { this.store.remove(obj); throw e; }
    }
    this.event(`created ${kind} ${ns}/${name}`);
    this.reconcile();
    this.events.changed();
  }

  /**
   * Deletes an object; a pod after its grace period.
   * @param {string} kind
   * @param {string} ns
   * @param {string} name
   * @param {import('./types').DeleteOptions} [opts]
   * @returns {Promise<boolean>} false: there was no such object
   */
  async delete(kind, ns, name, opts = {}) {
    const obj = this.get(kind, ns, name);
    if (!obj) return false;
    const handler = this.kinds.get(kind);
    if (handler && handler.terminate) {
      await handler.terminate(obj, opts);
      return true;
    }
    this.store.remove(obj);
    if (handler && handler.deleted) handler.deleted(obj);
    this.event(`deleted ${kind} ${ns}/${name}`);
    this.events.changed();
    return true;
  }

  /** Whether `kubectl scale` works on a kind. @param {string} kind */
  scalable(kind) {
    const handler = this.kinds.get(kind);
    return !!(handler && handler.scale);
  }

  /** @param {StoredObject} obj @param {number} replicas */
  scale(obj, replicas) {
    const handler = this.kinds.get(obj.kind);
    if (!handler || !handler.scale) throw new Unsupported(`scale ${obj.kind}`);
    handler.scale(obj, replicas);
    this.reconcile();
    this.events.changed();
  }

  /** What `kubectl get` shows of an object. @param {StoredObject} obj @returns {KubeObject} */
  view(obj) {
    const handler = this.kinds.get(obj.kind);
    return handler && handler.view ? handler.view(obj) : manifestView(obj);
  }

  /**
   * The eviction API: deletes the pod gracefully (preStop hooks, its grace period) unless a
   * controller's admission refuses it (a PodDisruptionBudget that allows no disruption now).
   * @param {import('./pod').Pod} pod
   * @param {import('./types').DeleteOptions} [opts]
   * @returns {{ refused: import('./types').EvictionRefusal } | { gone: Promise<void> }}
   */
  evict(pod, opts = {}) {
    for (const c of this.controllers) {
      const refused = c.evictionRefusal && c.evictionRefusal(pod);
      if (refused) {
        this.event(`eviction of pod ${pod.name} refused (${refused.code}): ${refused.message}`);
        return { refused };
      }
    }
    this.event(`evicting pod ${pod.name}`);
    return { gone: this.runtime.deletePod(pod, opts) };
  }

  /**
   * One pass of every controller. A pass that a controller's action asks for while one runs (a pod
   * that went at once) becomes one more pass after it, so that no controller acts on a list that
   * changed under it.
   */
  reconcile() {
    if (this.closed) return;
    if (this.reconciling) { this.reconcileAgain = true; return; }
    this.reconciling = true;
    try {
      for (let pass = 0; ; pass++) {
        this.reconcileAgain = false;
        for (const c of this.controllers) {
          // A controller that throws (a manifest field it does not know) must not take the daemon,
          // and every pod with it, down: events.log says what happened.
          try { c.reconcile(); } catch (e) { this.event(`reconcile ${c.constructor.name}: ${/** @type {Error} */ (e).stack}`); }
        }
        if (!this.reconcileAgain || this.closed) break;
        // Each pass acts on what the last one left: a few settle it. More is a controller that
        // keeps acting; the next tick tries again rather than hanging the daemon.
        if (pass === MAX_PASSES) { this.event(`reconcile did not settle in ${MAX_PASSES} passes`); break; }
      }
    } finally {
      this.reconciling = false;
    }
  }

  /** Ends every pod, removes what the run created on the host, and closes events.log. */
  async shutdown() {
    this.closed = true;
    clearInterval(this.reconcileTimer);
    this.network.close();
    this.runtime.close();
    await this.events.close();
  }
}

module.exports = { Cluster };
