// @ts-check
'use strict';
// The network (the CNI plugin and kube-proxy of the one node): ClusterIPs for Services, each pod's
// network namespace with a veth on the node bridge, and, kept in step every 50 ms after a change,
// the nft tables inside every pod (Service DNAT, NetworkPolicy, the tests' cuts and splits) and the
// name server's records. Each pod gets its /etc/hosts and resolv.conf once. Runs in the node
// namespace, never the host's.

const fs = require('fs');
const path = require('path');
const { run, Unsupported } = require('../util');
const { NODE_IP, POD_PREFIX_LEN, SERVICE_CIDR, serviceIP } = require('../addresses');
const { manifestView } = require('../store');
const { serviceSpec, serviceTable, serviceEnv } = require('./services');
const { hostsFile, resolvConf, dnsRecords, nameServerEndpoint } = require('./names');
const { NameServer } = require('./dns');
const { partitionTable } = require('./partition');
const { policyTable, policyKind } = require('./policy');
const { DISCARD_ROUTE_SETUP } = require('./drop');

/** @typedef {import('../pod').Pod} Pod */

/**
 * What the network keeps of an attached pod: the text last written of each nft table, so that a
 * sync writes only what changed, and whether a test cut it off.
 * @typedef {{ tables: Map<string, string>, cut: boolean }} Attachment
 */

/** How often a change reaches the pods' nft tables and the name server's records, in ms. */
const SYNC_MS = 50;

/**
 * @param {string} name
 * @param {string | null} body
 * @returns {string} an nft script that replaces table `name` with body (or removes it, for null)
 */
function nftScript(name, body) {
  return `add table ip ${name}\ndelete table ip ${name}\n${body === null ? '' : `table ip ${name} {\n${body}}\n`}`;
}

/** @typedef {import('../types').PodNetwork} PodNetwork */

/** @implements {PodNetwork} */
class Network {
  /**
   * @param {object} p
   * @param {import('../types').StoreView} p.store
   * @param {Pick<import('../types').EventSink, 'event'>} p.sink
   * @param {string} p.stateDir the run's state directory (the name server's records and log)
   */
  constructor({ store, sink, stateDir }) {
    this.store = store;
    this.sink = sink;
    this.nameServer = new NameServer({ stateDir, sink });
    this.nextServiceIndex = 10;
    /** @type {Map<Pod, Attachment>} */
    this.attached = new Map();
    /** A test's split: the pods on the group's side (every other pod is on the other side), or null. @type {Set<Pod> | null} */
    this.splitGroup = null;
    /** The nft tables in every pod, in the order they are written. @type {import('../types').PodTable[]} */
    this.tables = [
      serviceTable(store),
      partitionTable({ isCut: (pod) => this.isCut(pod), splitGroup: () => this.splitGroup }),
      policyTable(store, () => [nameServerEndpoint()]),
    ];
    /** @type {import('../types').KindHandler[]} */
    this.kinds = [{
      kind: 'Service',
      apiVersion: 'v1',
      resource: 'services',
      shortNames: ['svc'],
      create: (obj) => {
        const spec = serviceSpec(obj);
        if (spec.type && spec.type !== 'ClusterIP') throw new Unsupported(`Service type ${spec.type}`);
        obj.live.clusterIP = spec.clusterIP === 'None' ? 'None' : serviceIP(this.nextServiceIndex++);
      },
      view: (obj) => {
        const v = manifestView(obj);
        const spec = /** @type {import('kubernetes-models/v1').IServiceSpec} */ (v.spec || {});
        v.spec = { ...spec, clusterIP: obj.live.clusterIP, type: spec.type || 'ClusterIP' };
        return v;
      },
    }, policyKind];
    this.dirty = false;
    this.closed = false;
    this.timer = setInterval(() => this.sync(), SYNC_MS);
  }

  /** Something changed that may change endpoints or names: sync at the next tick. */
  markDirty() { this.dirty = true; }

  /** @param {Pod} pod @returns {import('../types').Bind[]} */
  attach(pod) {
    const etc = path.join(pod.dir, 'etc');
    fs.mkdirSync(etc, { recursive: true });
    /** @type {Attachment} */
    const att = { tables: new Map(), cut: false };
    fs.writeFileSync(path.join(etc, 'hosts'), hostsFile(pod));
    fs.writeFileSync(path.join(etc, 'resolv.conf'), resolvConf(pod));
    run('ip', ['netns', 'add', pod.netns]);
    this.attached.set(pod, att);
    run('ip', ['link', 'add', pod.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pod.netns]);
    run('ip', ['link', 'set', pod.veth, 'master', 'br0', 'up']);
    /** @param {string[]} args */
    const inPod = (args) => run('ip', ['-n', pod.netns, ...args]);
    inPod(['link', 'set', 'lo', 'up']);
    inPod(['addr', 'add', `${pod.ip}/${POD_PREFIX_LEN}`, 'dev', 'eth0']);
    inPod(['link', 'set', 'eth0', 'up']);
    inPod(['route', 'add', SERVICE_CIDR, 'via', NODE_IP, 'dev', 'eth0']);
    for (const args of DISCARD_ROUTE_SETUP) inPod(args);
    this.writeTables(pod, att);
    // Other pods' policy tables name this address: they follow at the next sync, 50 ms from now,
    // which is as a rule before the holder is up and the containers start.
    this.markDirty();
    return [
      { src: path.join(etc, 'hosts'), dst: '/etc/hosts', readOnly: false },
      { src: path.join(etc, 'resolv.conf'), dst: '/etc/resolv.conf', readOnly: false },
    ];
  }

  /** @param {Pod} pod */
  detach(pod) {
    if (!this.attached.has(pod)) return;
    // Anything still inside (an exec, a probe) goes with the pod.
    try {
      for (const pid of run('ip', ['netns', 'pids', pod.netns]).split(/\s+/).filter(Boolean)) {
        try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
      }
    } catch { /* netns gone */ }
    try { run('ip', ['netns', 'del', pod.netns]); } catch (e) { this.sink.event(`netns del ${pod.netns}: ${/** @type {Error} */ (e).message}`); }
    this.attached.delete(pod);
  }

  /** @param {string} ns */
  serviceEnv(ns) { return serviceEnv(this.store, ns); }

  /** Whether a test cut the pod off the network. @param {Pod} pod */
  isCut(pod) {
    const att = this.attached.get(pod);
    return !!att && att.cut;
  }

  /**
   * A test control: cut a pod off the network (everything but loopback dropped, both ways), or
   * restore it. Takes effect before it returns.
   * @param {Pod} pod
   * @param {boolean} on
   */
  setCut(pod, on) {
    const att = this.attached.get(pod);
    if (!att) throw new Error(`pod ${pod.name} has no network`);
    att.cut = on;
    this.writeTables(pod, att);
    this.sink.event(`pod ${pod.name} network ${on ? 'cut' : 'restored'}`);
  }

  /**
   * A test control: split the pods in two, `group` on one side and every other pod (those created
   * later too) on the other; or heal, with null. Takes effect in every pod before it returns.
   * @param {Pod[] | null} group
   */
  setSplit(group) {
    this.splitGroup = group ? new Set(group) : null;
    for (const [pod, att] of this.attached) if (!pod.gone) this.writeTables(pod, att);
    this.sink.event(group ? `network split: ${group.map((p) => p.name).join(', ')} | every other pod` : 'network split healed');
  }

  /** Which side of a test's split a pod is on: 'group', 'rest', or null when there is no split. @param {Pod} pod */
  splitSide(pod) {
    if (!this.splitGroup) return null;
    return this.splitGroup.has(pod) ? 'group' : 'rest';
  }

  /** Writes each nft table whose rules changed into the pod's network namespace. @param {Pod} pod @param {Attachment} att */
  writeTables(pod, att) {
    for (const table of this.tables) {
      const body = table.render(pod);
      const last = att.tables.get(table.name);
      // A table never written does not exist: nothing to remove.
      if (body === null && last === undefined) continue;
      const script = nftScript(table.name, body);
      if (script === last) continue;
      const file = path.join(pod.dir, `${table.name}.nft`);
      fs.writeFileSync(file, script);
      run('nsenter', [`--net=/run/netns/${pod.netns}`, '--', 'nft', '-f', file]);
      att.tables.set(table.name, script);
    }
  }

  sync() {
    if (!this.dirty || this.closed) return;
    this.dirty = false;
    for (const [pod, att] of this.attached) {
      if (pod.gone) continue;
      try { this.writeTables(pod, att); } catch (e) { this.sink.event(`network sync ${pod.name}: ${/** @type {Error} */ (e).message}`); }
    }
    try { this.nameServer.update(dnsRecords(this.store)); } catch (e) { this.sink.event(`name server records: ${/** @type {Error} */ (e).message}`); }
  }

  /** Stops the syncs and the name server; detach() still works, for the pods' teardown. */
  close() {
    this.closed = true;
    clearInterval(this.timer);
    this.nameServer.close();
  }
}

module.exports = { Network };
