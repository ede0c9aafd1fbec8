'use strict';
// The emulated cluster: objects (ConfigMap, Secret, Pod, Service, ReplicationController),
// pods as network + mount namespaces running the host's binaries, a ReplicationController
// manager, kube-proxy-like per-pod nft DNAT, and kubelet-like probes and restarts.
// It runs inside the run's "node" network namespace (which holds the pod bridge), so it can
// reach pod IPs like a kubelet, and it never touches the host's own network.

const fs = require('fs');
const path = require('path');

/** The checkout this emulator runs from, and whether a pod's private /tmp would hide it. */
const REPO_ROOT = path.resolve(__dirname, '..', '..');
const REPO_UNDER_TMP = REPO_ROOT === '/tmp' || REPO_ROOT.startsWith('/tmp/');
const net = require('net');
const crypto = require('crypto');
const { spawn, execFileSync } = require('child_process');
const { EventEmitter } = require('events');

const BRIDGE_GW = '10.244.0.1';
const POD_PREFIX_LEN = 16;
const SERVICE_CIDR = '10.96.0.0/16';
const BASE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

class Unsupported extends Error {}

function now() { return Date.now(); }
function iso(t) { return new Date(t).toISOString().replace(/\.\d+Z$/, 'Z'); }
function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

function run(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts }).toString();
}

function matchLabels(selector, labels) {
  return Object.entries(selector || {}).every(([k, v]) => (labels || {})[k] === v);
}

function shQuote(s) { return `'${String(s).replace(/'/g, "'\\''")}'`; }

class Container {
  constructor(pod, spec) {
    this.pod = pod;
    this.spec = spec;
    this.name = spec.name;
    this.proc = null;
    this.pid = null;
    this.restartCount = 0;
    this.state = { waiting: { reason: 'ContainerCreating' } };
    this.lastState = {};
    this.started = false; // startup probe passed (or none)
    this.ready = false;
    this.readyStreak = 0;
    this.failStreak = { readiness: 0, liveness: 0, startup: 0 };
    this.timers = new Set();
    this.holdRestartUntil = 0;
    this.instance = 0;
    this.restartTimer = null;
  }

  logPath(instance = this.instance) {
    return path.join(this.pod.dir, 'logs', `${this.name}.${instance}.log`);
  }
}

class Pod {
  constructor(cluster, ns, name, spec, labels, annotations) {
    this.cluster = cluster;
    this.ns = ns;
    this.name = name;
    this.uid = crypto.randomUUID();
    this.spec = spec;
    this.labels = { ...(labels || {}) };
    this.annotations = { ...(annotations || {}) };
    this.owner = null; // { kind, name, uid }
    this.index = cluster.nextPodIndex++;
    this.ip = `10.244.${(this.index >> 8) & 255}.${this.index & 255}`;
    this.netns = `${cluster.prefix}-p${this.index}`;
    this.veth = `vp${this.index}`;
    this.dir = path.join(cluster.stateDir, 'pods', `${ns}_${name}_${this.index}`);
    this.created = now();
    this.phase = 'Pending';
    this.deletionTimestamp = null;
    this.holder = null;
    this.containers = (spec.containers || []).map((c) => new Container(this, c));
    this.partitioned = false;
    this.gone = false;
  }

  get terminating() { return this.deletionTimestamp !== null; }

  get isReady() {
    return this.phase === 'Running' && !this.terminating && this.containers.every((c) => c.ready);
  }
}

class Cluster extends EventEmitter {
  constructor({ stateDir, prefix }) {
    super();
    this.setMaxListeners(0);
    this.stateDir = stateDir;
    this.prefix = prefix;
    this.nextPodIndex = 2;
    this.nextServiceIndex = 10;
    this.objects = new Map(); // key kind/ns/name → { kind, ns, name, uid, created, manifest, lastApplied, live }
    this.pods = new Map(); // ns/name → Pod
    this.createdDirs = [];
    this.backoffScale = Number(process.env.K8E_BACKOFF_SCALE || '1');
    this.netDirty = false;
    this.netSyncing = null;
    this.closed = false;
    fs.mkdirSync(path.join(stateDir, 'pods'), { recursive: true });
    this.log = fs.createWriteStream(path.join(stateDir, 'events.log'), { flags: 'a' });
    this.reconcileTimer = setInterval(() => this.reconcile(), 1000);
  }

  event(msg) {
    this.log.write(`${new Date().toISOString()} ${msg}\n`);
  }

  changed() {
    this.emit('change');
  }

  // ---------------------------------------------------------------- objects

  key(kind, ns, name) { return `${kind}/${ns}/${name}`; }

  getObject(kind, ns, name) { return this.objects.get(this.key(kind, ns, name)); }

  listObjects(kind, ns) {
    return [...this.objects.values()].filter((o) => o.kind === kind && (ns === null || o.ns === ns));
  }

  // Apply one manifest document. Returns 'created' | 'configured' | 'unchanged'.
  async apply(doc, defaultNs) {
    if (!doc || typeof doc !== 'object') throw new Unsupported('empty document');
    const kind = doc.kind;
    const ns = (doc.metadata && doc.metadata.namespace) || defaultNs;
    const name = doc.metadata && doc.metadata.name;
    if (!name) throw new Error(`${kind}: metadata.name is required`);
    if (doc.apiVersion !== 'v1' && !(doc.apiVersion === 'apps/v1' && kind === 'StatefulSet')) {
      throw new Unsupported(`apiVersion ${doc.apiVersion} kind ${kind}`);
    }
    if (!['ConfigMap', 'Secret', 'Pod', 'Service', 'ReplicationController'].includes(kind)) {
      throw new Unsupported(`kind ${kind}`);
    }
    const existing = this.getObject(kind, ns, name);
    const text = JSON.stringify(doc);
    if (existing && !existing.deleting) {
      if (existing.lastApplied === text) return 'unchanged';
      this.update(existing, doc);
      existing.lastApplied = text;
      this.changed();
      return 'configured';
    }
    if (existing && existing.deleting) throw new Error(`${kind} "${name}" is being deleted`);
    const obj = { kind, ns, name, uid: crypto.randomUUID(), created: now(), manifest: doc, lastApplied: text, live: {} };
    this.objects.set(this.key(kind, ns, name), obj);
    if (kind === 'Service') this.createService(obj);
    if (kind === 'ReplicationController') {
      obj.live.replicas = doc.spec && doc.spec.replicas !== undefined ? doc.spec.replicas : 1;
    }
    if (kind === 'Pod') {
      const pod = new Pod(this, ns, name, doc.spec || {}, doc.metadata.labels, doc.metadata.annotations);
      obj.pod = pod;
      this.pods.set(`${ns}/${name}`, pod);
      this.startPod(pod).catch((e) => this.podFailed(pod, e));
    }
    this.event(`created ${kind} ${ns}/${name}`);
    this.netDirty = true;
    this.reconcile();
    this.changed();
    return 'created';
  }

  update(obj, doc) {
    const kind = obj.kind;
    if (kind === 'Pod') {
      const a = JSON.stringify(obj.manifest.spec || {});
      const b = JSON.stringify(doc.spec || {});
      if (a !== b) throw new Error(`The Pod "${obj.name}" is invalid: spec: Forbidden: pod updates may not change fields other than image, activeDeadlineSeconds, tolerations`);
      obj.pod.labels = { ...(doc.metadata.labels || {}) };
    }
    if (kind === 'ReplicationController') {
      // kubectl's three-way merge: a manifest without spec.replicas leaves the live value alone.
      if (doc.spec && doc.spec.replicas !== undefined) obj.live.replicas = doc.spec.replicas;
    }
    if (kind === 'Service') {
      obj.manifest = doc;
      this.netDirty = true;
    }
    obj.manifest = doc;
    if (kind === 'ConfigMap' || kind === 'Secret') this.refreshConfigVolumes(obj);
    this.event(`configured ${kind} ${obj.ns}/${obj.name}`);
    this.reconcile();
  }

  createService(obj) {
    const spec = obj.manifest.spec || {};
    if (spec.type && spec.type !== 'ClusterIP') throw new Unsupported(`Service type ${spec.type}`);
    if (spec.clusterIP === 'None') obj.live.clusterIP = 'None';
    else {
      const i = this.nextServiceIndex++;
      obj.live.clusterIP = `10.96.${(i >> 8) & 255}.${i & 255}`;
    }
  }

  async deleteObject(kind, ns, name, opts = {}) {
    const obj = this.getObject(kind, ns, name);
    if (!obj) return false;
    if (kind === 'Pod') {
      await this.deletePod(obj.pod, opts);
      return true;
    }
    if (kind === 'ReplicationController') {
      obj.deleting = true;
      const owned = [...this.pods.values()].filter((p) => p.owner && p.owner.uid === obj.uid);
      this.objects.delete(this.key(kind, ns, name));
      for (const p of owned) this.deletePod(p, {}).catch((e) => this.event(`delete ${p.name}: ${e.message}`));
    } else {
      this.objects.delete(this.key(kind, ns, name));
    }
    this.event(`deleted ${kind} ${ns}/${name}`);
    this.netDirty = true;
    this.changed();
    return true;
  }

  // ---------------------------------------------------------------- controllers

  reconcile() {
    if (this.closed) return;
    for (const rc of this.listObjects('ReplicationController', null)) {
      if (rc.deleting) continue;
      const spec = rc.manifest.spec || {};
      const selector = spec.selector || (spec.template && spec.template.metadata && spec.template.metadata.labels) || {};
      const candidates = [...this.pods.values()].filter((p) => p.ns === rc.ns && !p.gone && matchLabels(selector, p.labels));
      for (const p of candidates) {
        if (!p.owner && !p.terminating && p.phase !== 'Failed' && p.phase !== 'Succeeded') {
          p.owner = { kind: 'ReplicationController', name: rc.name, uid: rc.uid };
          this.event(`rc ${rc.name} adopted pod ${p.name}`);
        }
      }
      const active = candidates.filter((p) => p.owner && p.owner.uid === rc.uid && !p.terminating
        && p.phase !== 'Failed' && p.phase !== 'Succeeded');
      const want = rc.live.replicas;
      if (active.length < want) {
        for (let i = active.length; i < want; i++) this.createRcPod(rc);
      } else if (active.length > want) {
        const order = [...active].sort((a, b) => (a.isReady - b.isReady) || (b.created - a.created) || (b.index - a.index));
        for (const p of order.slice(0, active.length - want)) {
          this.event(`rc ${rc.name} scales down: deleting ${p.name}`);
          this.deletePod(p, {}).catch((e) => this.event(`delete ${p.name}: ${e.message}`));
        }
      }
    }
  }

  rcStatus(rc) {
    const mine = [...this.pods.values()].filter((p) => p.owner && p.owner.uid === rc.uid && !p.terminating);
    const ready = mine.filter((p) => p.isReady).length;
    return { replicas: mine.length, readyReplicas: ready, availableReplicas: ready, fullyLabeledReplicas: mine.length, observedGeneration: 1 };
  }

  createRcPod(rc) {
    const tpl = (rc.manifest.spec && rc.manifest.spec.template) || {};
    let name;
    do {
      name = `${rc.name}-${Array.from(crypto.randomBytes(5), (b) => NAME_ALPHABET[b % NAME_ALPHABET.length]).join('')}`;
    } while (this.pods.has(`${rc.ns}/${name}`));
    const meta = tpl.metadata || {};
    const doc = { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: rc.ns, labels: meta.labels, annotations: meta.annotations }, spec: tpl.spec || {} };
    const obj = { kind: 'Pod', ns: rc.ns, name, uid: null, created: now(), manifest: doc, lastApplied: null, live: {} };
    const pod = new Pod(this, rc.ns, name, doc.spec, meta.labels, meta.annotations);
    pod.owner = { kind: 'ReplicationController', name: rc.name, uid: rc.uid };
    obj.uid = pod.uid;
    obj.pod = pod;
    this.objects.set(this.key('Pod', rc.ns, name), obj);
    this.pods.set(`${rc.ns}/${name}`, pod);
    this.event(`rc ${rc.name} created pod ${name} (${pod.ip})`);
    this.startPod(pod).catch((e) => this.podFailed(pod, e));
    this.changed();
  }

  // ---------------------------------------------------------------- pods

  podFailed(pod, err) {
    this.event(`pod ${pod.name} failed to start: ${err.stack || err}`);
    pod.phase = 'Failed';
    pod.failure = String(err.message || err);
    this.changed();
  }

  ensureMountPoint(p) {
    if (fs.existsSync(p)) {
      if (!fs.statSync(p).isDirectory()) throw new Error(`mount path ${p} exists on the host and is not a directory`);
      return;
    }
    const parent = path.dirname(p);
    if (parent !== p) this.ensureMountPoint(parent);
    fs.mkdirSync(p);
    this.createdDirs.push(p);
    fs.appendFileSync(path.join(this.stateDir, 'created-dirs'), `${p}\n`);
  }

  volumeSource(pod, vol) {
    const dir = path.join(pod.dir, 'volumes', vol.name);
    if (vol.emptyDir) {
      fs.mkdirSync(dir, { recursive: true });
      return dir;
    }
    if (vol.configMap || vol.secret) {
      fs.mkdirSync(dir, { recursive: true });
      this.writeConfigVolume(pod, vol, dir);
      return dir;
    }
    throw new Unsupported(`volume ${vol.name}: only emptyDir, configMap and secret volumes are emulated`);
  }

  writeConfigVolume(pod, vol, dir) {
    const src = vol.configMap || vol.secret;
    const kind = vol.configMap ? 'ConfigMap' : 'Secret';
    const refName = vol.configMap ? src.name : src.secretName;
    const obj = this.getObject(kind, pod.ns, refName);
    if (!obj) {
      if (src.optional) return;
      throw new Error(`${kind} "${refName}" not found for volume ${vol.name}`);
    }
    const data = {};
    for (const [k, v] of Object.entries(obj.manifest.data || {})) {
      data[k] = kind === 'Secret' ? Buffer.from(v, 'base64') : Buffer.from(String(v));
    }
    for (const [k, v] of Object.entries(obj.manifest.binaryData || {})) data[k] = Buffer.from(v, 'base64');
    if (kind === 'Secret') for (const [k, v] of Object.entries(obj.manifest.stringData || {})) data[k] = Buffer.from(String(v));
    const mode = src.defaultMode !== undefined ? src.defaultMode : 0o644;
    const items = src.items || Object.keys(data).map((k) => ({ key: k, path: k }));
    for (const it of items) {
      if (!(it.key in data)) throw new Error(`${kind} ${refName} has no key ${it.key}`);
      const file = path.join(dir, it.path);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, data[it.key]);
      fs.chmodSync(file, it.mode !== undefined ? it.mode : mode);
    }
  }

  refreshConfigVolumes(obj) {
    // The kubelet eventually rewrites configMap/secret volumes; here it is immediate.
    for (const pod of this.pods.values()) {
      if (pod.ns !== obj.ns || pod.gone) continue;
      for (const vol of pod.spec.volumes || []) {
        const src = vol.configMap || vol.secret;
        const ref = vol.configMap ? src && src.name : src && src.secretName;
        if (!src || ref !== obj.name || (vol.configMap ? obj.kind !== 'ConfigMap' : obj.kind !== 'Secret')) continue;
        try { this.writeConfigVolume(pod, vol, path.join(pod.dir, 'volumes', vol.name)); } catch (e) { this.event(`refresh ${pod.name}: ${e.message}`); }
      }
    }
  }

  hostsFile(pod) {
    const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', `${pod.ip}\t${pod.name}`];
    for (const svc of this.listObjects('Service', null)) {
      if (svc.live.clusterIP === 'None') continue;
      const names = [`${svc.name}.${svc.ns}`, `${svc.name}.${svc.ns}.svc`, `${svc.name}.${svc.ns}.svc.cluster.local`];
      if (svc.ns === pod.ns) names.unshift(svc.name);
      lines.push(`${svc.live.clusterIP}\t${names.join(' ')}`);
    }
    return `${lines.join('\n')}\n`;
  }

  async startPod(pod) {
    for (const k of ['initContainers', 'ephemeralContainers']) {
      if (pod.spec[k] && pod.spec[k].length) throw new Unsupported(`pod ${pod.name}: ${k}`);
    }
    if (pod.spec.hostNetwork) throw new Unsupported(`pod ${pod.name}: hostNetwork`);
    fs.mkdirSync(path.join(pod.dir, 'logs'), { recursive: true });
    fs.mkdirSync(path.join(pod.dir, 'etc'), { recursive: true });
    fs.mkdirSync(path.join(pod.dir, 'tmp'), { recursive: true, mode: 0o1777 });
    fs.chmodSync(path.join(pod.dir, 'tmp'), 0o1777);
    if (REPO_UNDER_TMP) fs.mkdirSync(path.join(pod.dir, 'tmp', path.relative('/tmp', REPO_ROOT)), { recursive: true });
    fs.writeFileSync(path.join(pod.dir, 'etc', 'hosts'), this.hostsFile(pod));
    fs.writeFileSync(path.join(pod.dir, 'etc', 'resolv.conf'),
      `# k8e: no DNS server; names resolve through /etc/hosts only\nnameserver 192.0.2.53\nsearch ${pod.ns}.svc.cluster.local svc.cluster.local cluster.local\noptions attempts:1 timeout:1\n`);
    // Volumes and mounts.
    const binds = [];
    const vols = new Map((pod.spec.volumes || []).map((v) => [v.name, v]));
    const sources = new Map();
    for (const v of vols.values()) sources.set(v.name, this.volumeSource(pod, v));
    const seen = new Set();
    for (const c of pod.spec.containers || []) {
      for (const m of c.volumeMounts || []) {
        if (!vols.has(m.name)) throw new Error(`container ${c.name}: volumeMount ${m.name} has no volume`);
        if (m.subPath) throw new Unsupported(`volumeMount subPath (${c.name}/${m.name})`);
        // All containers share one mount namespace per pod, so one mount per path.
        if (seen.has(m.mountPath)) continue;
        seen.add(m.mountPath);
        this.ensureMountPoint(m.mountPath);
        binds.push({ src: sources.get(m.name), dst: m.mountPath, ro: !!m.readOnly || !!vols.get(m.name).configMap || !!vols.get(m.name).secret });
      }
    }
    // Network namespace with a veth on the node bridge.
    run('ip', ['netns', 'add', pod.netns]);
    pod.netnsCreated = true;
    run('ip', ['link', 'add', pod.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pod.netns]);
    run('ip', ['link', 'set', pod.veth, 'master', 'br0', 'up']);
    const inPod = (args) => run('ip', ['-n', pod.netns, ...args]);
    inPod(['link', 'set', 'lo', 'up']);
    inPod(['addr', 'add', `${pod.ip}/${POD_PREFIX_LEN}`, 'dev', 'eth0']);
    inPod(['link', 'set', 'eth0', 'up']);
    inPod(['route', 'add', SERVICE_CIDR, 'via', BRIDGE_GW, 'dev', 'eth0']);
    this.writeNft(pod);
    // The holder keeps the pod's mount + UTS namespaces alive (the "pause" container).
    const script = [
      'set -e',
      ...binds.flatMap((b) => [
        `mount --bind ${shQuote(b.src)} ${shQuote(b.dst)}`,
        ...(b.ro ? [`mount -o remount,bind,ro ${shQuote(b.dst)}`] : []),
      ]),
      `mount --bind ${shQuote(path.join(pod.dir, 'etc', 'hosts'))} /etc/hosts`,
      `mount --bind ${shQuote(path.join(pod.dir, 'etc', 'resolv.conf'))} /etc/resolv.conf`,
      `hostname ${shQuote(pod.name)}`,
      // A checkout under /tmp (CI may clone there) stays visible through the pod's private /tmp:
      // the in-pod test agent runs from it.
      ...(REPO_UNDER_TMP ? [`mount --bind ${shQuote(REPO_ROOT)} ${shQuote(path.join(pod.dir, 'tmp', path.relative('/tmp', REPO_ROOT)))}`] : []),
      `mount --rbind ${shQuote(path.join(pod.dir, 'tmp'))} /tmp`,
      // The host's root file system is read-only inside pods: a container can write only to its
      // volumes and /tmp, never to the host.
      'mount -o remount,bind,ro /',
      'echo k8e-holder-ready',
      'exec sleep infinity',
    ].join('\n');
    const holder = spawn('nsenter', [`--net=/run/netns/${pod.netns}`, '--', 'unshare', '--mount', '--uts', '--propagation', 'private', '--', 'sh', '-c', script], {
      detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    });
    pod.holder = holder;
    let errText = '';
    holder.stderr.on('data', (d) => { errText += d; });
    await new Promise((resolve, reject) => {
      let out = '';
      holder.stdout.on('data', (d) => { out += d; if (out.includes('k8e-holder-ready')) resolve(); });
      holder.on('exit', (code) => reject(new Error(`pod holder exited (${code}): ${errText}`)));
    });
    holder.on('exit', () => { if (!pod.terminating && !this.closed) this.event(`holder of ${pod.name} died`); });
    if (pod.terminating) return;
    pod.phase = 'Running';
    pod.startTime = now();
    this.event(`pod ${pod.name} running at ${pod.ip} (netns ${pod.netns}, holder ${holder.pid})`);
    for (const c of pod.containers) this.startContainer(c);
    this.changed();
  }

  serviceEnv(ns) {
    const env = {};
    for (const svc of this.listObjects('Service', ns)) {
      if (svc.live.clusterIP === 'None') continue;
      const base = svc.name.toUpperCase().replace(/-/g, '_');
      const ports = (svc.manifest.spec && svc.manifest.spec.ports) || [];
      if (!ports.length) continue;
      env[`${base}_SERVICE_HOST`] = svc.live.clusterIP;
      env[`${base}_SERVICE_PORT`] = String(ports[0].port);
      for (const p of ports) if (p.name) env[`${base}_SERVICE_PORT_${p.name.toUpperCase().replace(/-/g, '_')}`] = String(p.port);
      const proto = (ports[0].protocol || 'TCP');
      env[`${base}_PORT`] = `${proto.toLowerCase()}://${svc.live.clusterIP}:${ports[0].port}`;
      for (const p of ports) {
        const pr = (p.protocol || 'TCP');
        const k = `${base}_PORT_${p.port}_${pr}`;
        env[k] = `${pr.toLowerCase()}://${svc.live.clusterIP}:${p.port}`;
        env[`${k}_PROTO`] = pr.toLowerCase();
        env[`${k}_PORT`] = String(p.port);
        env[`${k}_ADDR`] = svc.live.clusterIP;
      }
    }
    return env;
  }

  fieldRef(pod, fieldPath) {
    const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
    if (m) return (m[1] === 'labels' ? pod.labels : pod.annotations)[m[2]] || '';
    switch (fieldPath) {
      case 'status.podIP': return pod.ip;
      case 'status.podIPs': return pod.ip;
      case 'status.hostIP': return BRIDGE_GW;
      case 'metadata.name': return pod.name;
      case 'metadata.namespace': return pod.ns;
      case 'metadata.uid': return pod.uid;
      case 'spec.nodeName': return 'k8e-node';
      case 'spec.serviceAccountName': return pod.spec.serviceAccountName || 'default';
      default: throw new Unsupported(`env fieldRef ${fieldPath}`);
    }
  }

  keyRef(pod, kind, ref) {
    const obj = this.getObject(kind, pod.ns, ref.name);
    if (!obj) { if (ref.optional) return undefined; throw new Error(`${kind} "${ref.name}" not found`); }
    const data = obj.manifest.data || {};
    if (kind === 'Secret') {
      if (obj.manifest.stringData && ref.key in obj.manifest.stringData) return String(obj.manifest.stringData[ref.key]);
      if (!(ref.key in data)) { if (ref.optional) return undefined; throw new Error(`Secret ${ref.name} has no key ${ref.key}`); }
      return Buffer.from(data[ref.key], 'base64').toString();
    }
    if (!(ref.key in data)) { if (ref.optional) return undefined; throw new Error(`ConfigMap ${ref.name} has no key ${ref.key}`); }
    return String(data[ref.key]);
  }

  containerEnv(c) {
    const pod = c.pod;
    const env = { PATH: BASE_PATH, HOSTNAME: pod.name, HOME: '/root', ...this.serviceEnv(pod.ns) };
    if (c.spec.envFrom) throw new Unsupported(`container ${c.name}: envFrom`);
    const expand = (s) => String(s).replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (all, v) => {
      if (all === '$$') return '$';
      return v in env ? env[v] : all;
    });
    for (const e of c.spec.env || []) {
      let v;
      if (e.value !== undefined) v = expand(e.value);
      else if (e.valueFrom && e.valueFrom.fieldRef) v = this.fieldRef(pod, e.valueFrom.fieldRef.fieldPath);
      else if (e.valueFrom && e.valueFrom.configMapKeyRef) v = this.keyRef(pod, 'ConfigMap', e.valueFrom.configMapKeyRef);
      else if (e.valueFrom && e.valueFrom.secretKeyRef) v = this.keyRef(pod, 'Secret', e.valueFrom.secretKeyRef);
      else if (e.valueFrom) throw new Unsupported(`env ${e.name}: valueFrom ${Object.keys(e.valueFrom)}`);
      else v = '';
      if (v !== undefined) env[e.name] = v;
    }
    return { env, expand };
  }

  nsenterArgs(pod, workingDir) {
    return ['-t', String(pod.holder.pid), '-n', '-m', '-u', `--wd=${workingDir || '/'}`, '--'];
  }

  startContainer(c) {
    const pod = c.pod;
    if (pod.terminating || this.closed) return;
    let argv;
    let env;
    try {
      const r = this.containerEnv(c);
      env = r.env;
      const cmd = (c.spec.command || []).map(r.expand);
      const args = (c.spec.args || []).map(r.expand);
      if (!cmd.length) {
        if (/^(docker\.io\/)?(library\/)?redis(:|@|$)/.test(c.spec.image || '')) cmd.push('redis-server');
        else throw new Unsupported(`container ${c.name}: no command, and image ${c.spec.image} has no known entrypoint`);
      }
      argv = [...cmd, ...args];
    } catch (e) {
      c.state = { waiting: { reason: 'CreateContainerConfigError', message: e.message } };
      this.event(`container ${pod.name}/${c.name}: ${e.message}`);
      fs.appendFileSync(c.logPath(), `k8e: cannot start container: ${e.message}\n`);
      this.scheduleRestart(c, 1);
      this.changed();
      return;
    }
    const fd = fs.openSync(c.logPath(), 'a');
    const proc = spawn('nsenter', [...this.nsenterArgs(pod, c.spec.workingDir), ...argv], {
      env, detached: true, stdio: ['ignore', fd, fd],
    });
    fs.closeSync(fd);
    c.proc = proc;
    c.pid = proc.pid;
    c.started = !c.spec.startupProbe;
    c.ready = false;
    c.readyStreak = 0;
    c.failStreak = { readiness: 0, liveness: 0, startup: 0 };
    c.state = { running: { startedAt: iso(now()) } };
    c.startedAt = now();
    this.event(`container ${pod.name}/${c.name} started pid ${proc.pid} (instance ${c.instance}): ${argv.join(' ')}`);
    proc.on('error', (e) => this.event(`container ${pod.name}/${c.name} spawn error: ${e.message}`));
    proc.on('exit', (code, signal) => this.containerExited(c, proc, code, signal));
    if (!c.spec.readinessProbe && c.started) c.ready = true;
    this.startProbes(c);
    this.changed();
  }

  containerExited(c, proc, code, signal) {
    if (c.proc !== proc) return;
    const pod = c.pod;
    // The container ends with its main process: whatever it left behind (background loops) goes too,
    // as when a runtime tears down the container's cgroup.
    try { process.kill(-proc.pid, 'SIGKILL'); } catch (e) { /* none left */ }
    this.clearTimers(c);
    const exitCode = code !== null ? code : 128 + (require('os').constants.signals[signal] || 0);
    c.lastState = { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt: iso(c.startedAt), finishedAt: iso(now()) } };
    c.state = { terminated: c.lastState.terminated };
    c.lastInstance = c.instance;
    c.proc = null;
    c.pid = null;
    c.ready = false;
    this.event(`container ${pod.name}/${c.name} exited code=${code} signal=${signal}`);
    this.netDirty = true;
    this.changed();
    if (pod.terminating) { this.maybeFinishPod(pod); return; }
    if (this.closed) return;
    const policy = pod.spec.restartPolicy || 'Always';
    if (policy === 'Never' || (policy === 'OnFailure' && exitCode === 0)) {
      if (pod.containers.every((x) => !x.proc)) { pod.phase = pod.containers.every((x) => x.lastState.terminated && x.lastState.terminated.exitCode === 0) ? 'Succeeded' : 'Failed'; this.reconcile(); }
      return;
    }
    // Kubelet backoff: first restart at once, then 10 s doubling to 300 s; reset after 10 min up.
    const ranFor = now() - (c.startedAt || now());
    if (ranFor > 600000) c.backoffLevel = 0;
    const level = c.backoffLevel || 0;
    c.backoffLevel = level + 1;
    const delay = level === 0 ? 0 : Math.min(10000 * 2 ** (level - 1), 300000) * this.backoffScale;
    this.scheduleRestart(c, delay);
  }

  scheduleRestart(c, delay) {
    const wait = Math.max(delay, c.holdRestartUntil - now());
    if (wait > 0) c.state = { waiting: { reason: 'CrashLoopBackOff' } };
    clearTimeout(c.restartTimer);
    c.restartTimer = setTimeout(() => {
      c.restartTimer = null;
      if (c.pod.terminating || this.closed || c.proc) return;
      c.restartCount++;
      c.instance++;
      this.startContainer(c);
    }, wait);
  }

  clearTimers(c) {
    for (const t of c.timers) clearTimeout(t);
    c.timers.clear();
  }

  later(c, ms, fn) {
    const t = setTimeout(() => { c.timers.delete(t); fn(); }, ms);
    c.timers.add(t);
  }

  startProbes(c) {
    const kinds = [['startup', c.spec.startupProbe], ['readiness', c.spec.readinessProbe], ['liveness', c.spec.livenessProbe]];
    for (const [kind, probe] of kinds) {
      if (!probe) continue;
      const period = (probe.periodSeconds || 10) * 1000;
      const tick = async () => {
        if (!c.proc || c.pod.terminating) return;
        if (kind !== 'startup' && !c.started) { this.later(c, period, tick); return; }
        if (kind === 'startup' && c.started) return;
        const proc = c.proc;
        const ok = await this.runProbe(c, probe);
        if (c.proc !== proc || c.pod.terminating) return;
        this.probeResult(c, kind, probe, ok);
        this.later(c, period, tick);
      };
      this.later(c, (probe.initialDelaySeconds || 0) * 1000, tick);
    }
  }

  probeResult(c, kind, probe, ok) {
    const failureThreshold = probe.failureThreshold || 3;
    const successThreshold = probe.successThreshold || 1;
    if (kind === 'readiness') {
      if (ok) {
        c.failStreak.readiness = 0;
        c.readyStreak++;
        if (!c.ready && c.readyStreak >= successThreshold) { c.ready = true; this.event(`${c.pod.name}/${c.name} ready`); this.netDirty = true; this.changed(); }
      } else {
        c.readyStreak = 0;
        c.failStreak.readiness++;
        if (c.ready && c.failStreak.readiness >= failureThreshold) { c.ready = false; this.event(`${c.pod.name}/${c.name} not ready`); this.netDirty = true; this.changed(); }
      }
      return;
    }
    if (ok) {
      c.failStreak[kind] = 0;
      if (kind === 'startup') {
        c.started = true;
        if (!c.spec.readinessProbe) { c.ready = true; this.netDirty = true; }
        this.changed();
      }
      return;
    }
    c.failStreak[kind]++;
    if (c.failStreak[kind] >= failureThreshold) {
      this.event(`${c.pod.name}/${c.name} ${kind} probe failed ${c.failStreak[kind]} times: restarting container`);
      fs.appendFileSync(c.logPath(), `k8e: ${kind} probe failed; container will be restarted\n`);
      this.killContainer(c, (c.pod.spec.terminationGracePeriodSeconds ?? 30) * 1000);
    }
  }

  runProbe(c, probe) {
    const timeout = (probe.timeoutSeconds || 1) * 1000;
    const pod = c.pod;
    if (probe.exec) {
      return new Promise((resolve) => {
        let env;
        try { env = this.containerEnv(c).env; } catch (e) { resolve(false); return; }
        const p = spawn('nsenter', [...this.nsenterArgs(pod, c.spec.workingDir), ...probe.exec.command], { env, detached: true, stdio: 'ignore' });
        const t = setTimeout(() => { try { process.kill(-p.pid, 'SIGKILL'); } catch (e) { /* gone */ } }, timeout);
        p.on('error', () => { clearTimeout(t); resolve(false); });
        p.on('exit', (code) => { clearTimeout(t); resolve(code === 0); });
      });
    }
    if (probe.tcpSocket) {
      const port = this.resolvePort(pod, probe.tcpSocket.port);
      return new Promise((resolve) => {
        const s = net.connect({ host: pod.ip, port });
        const done = (ok) => { s.destroy(); resolve(ok); };
        s.setTimeout(timeout, () => done(false));
        s.on('connect', () => done(true));
        s.on('error', () => done(false));
      });
    }
    throw new Unsupported(`probe type ${Object.keys(probe).join(',')}`);
  }

  resolvePort(pod, port) {
    if (typeof port === 'number' || /^\d+$/.test(String(port))) return Number(port);
    for (const c of pod.spec.containers || []) for (const p of c.ports || []) if (p.name === port) return p.containerPort;
    throw new Error(`pod ${pod.name} has no port named ${port}`);
  }

  // Stop a container (SIGTERM, SIGKILL after graceMs). It restarts per restartPolicy.
  killContainer(c, graceMs, signal = 'SIGTERM') {
    const proc = c.proc;
    if (!proc) return;
    try { process.kill(-proc.pid, signal); } catch (e) { /* gone */ }
    if (signal !== 'SIGKILL') {
      setTimeout(() => { if (c.proc === proc) { try { process.kill(-proc.pid, 'SIGKILL'); } catch (e) { /* gone */ } } }, graceMs);
    }
  }

  containerPids(c) {
    if (!c.proc) return [];
    const pgid = c.proc.pid;
    const out = [];
    for (const d of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
        const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (Number(rest[2]) === pgid) {
          const cmdline = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').filter(Boolean);
          out.push({ pid: Number(d), cmdline });
        }
      } catch (e) { /* raced */ }
    }
    return out;
  }

  async deletePod(pod, { gracePeriod } = {}) {
    if (pod.gone) return;
    if (!pod.terminating) {
      pod.deletionTimestamp = now();
      const grace = (gracePeriod !== undefined && gracePeriod !== null ? gracePeriod : (pod.spec.terminationGracePeriodSeconds ?? 30)) * 1000;
      pod.graceDeadline = now() + grace;
      this.event(`deleting pod ${pod.name} (grace ${grace} ms)`);
      this.netDirty = true;
      this.reconcile();
      this.changed();
      for (const c of pod.containers) {
        clearTimeout(c.restartTimer);
        this.clearTimers(c);
        c.ready = false;
        if (!c.proc) continue;
        const pre = c.spec.lifecycle && c.spec.lifecycle.preStop;
        if (pre && pre.exec && grace > 0) {
          this.runPreStop(c, pre.exec.command, grace).then(() => this.killContainer(c, Math.max(0, pod.graceDeadline - now()) + 1));
        } else if (pre && !pre.exec) {
          throw new Unsupported(`preStop ${Object.keys(pre)}`);
        } else {
          this.killContainer(c, grace, grace === 0 ? 'SIGKILL' : 'SIGTERM');
        }
      }
      setTimeout(() => { for (const c of pod.containers) if (c.proc) this.killContainer(c, 0, 'SIGKILL'); }, grace + 50);
      this.maybeFinishPod(pod);
    }
    await new Promise((resolve) => {
      const check = () => { if (pod.gone) { this.off('change', check); resolve(); } };
      this.on('change', check);
      check();
    });
  }

  runPreStop(c, command, grace) {
    return new Promise((resolve) => {
      let env;
      try { env = this.containerEnv(c).env; } catch (e) { resolve(); return; }
      const fd = fs.openSync(c.logPath(), 'a');
      const p = spawn('nsenter', [...this.nsenterArgs(c.pod, c.spec.workingDir), ...command], { env, detached: true, stdio: ['ignore', fd, fd] });
      fs.closeSync(fd);
      const t = setTimeout(() => { try { process.kill(-p.pid, 'SIGKILL'); } catch (e) { /* gone */ } }, grace);
      p.on('error', () => { clearTimeout(t); resolve(); });
      p.on('exit', () => { clearTimeout(t); resolve(); });
    });
  }

  maybeFinishPod(pod) {
    if (pod.gone || pod.finishing) return;
    if (pod.containers.some((c) => c.proc)) return;
    pod.finishing = true;
    this.teardownPod(pod);
    pod.gone = true;
    this.pods.delete(`${pod.ns}/${pod.name}`);
    const obj = this.getObject('Pod', pod.ns, pod.name);
    if (obj && obj.pod === pod) this.objects.delete(this.key('Pod', pod.ns, pod.name));
    this.event(`pod ${pod.name} deleted`);
    this.netDirty = true;
    this.reconcile();
    this.changed();
  }

  teardownPod(pod) {
    for (const c of pod.containers) {
      clearTimeout(c.restartTimer);
      this.clearTimers(c);
      if (c.proc) { try { process.kill(-c.proc.pid, 'SIGKILL'); } catch (e) { /* gone */ } }
    }
    if (pod.holder && pod.holder.exitCode === null) { try { process.kill(-pod.holder.pid, 'SIGKILL'); } catch (e) { /* gone */ } }
    if (pod.netnsCreated) {
      // Anything still inside (an exec, a probe) goes with the pod.
      try {
        for (const pid of run('ip', ['netns', 'pids', pod.netns]).split(/\s+/).filter(Boolean)) {
          try { process.kill(Number(pid), 'SIGKILL'); } catch (e) { /* gone */ }
        }
      } catch (e) { /* netns gone */ }
      try { run('ip', ['netns', 'del', pod.netns]); } catch (e) { this.event(`netns del ${pod.netns}: ${e.message}`); }
      pod.netnsCreated = false;
    }
  }

  // ---------------------------------------------------------------- services / network

  endpoints(svc) {
    const spec = svc.manifest.spec || {};
    if (!spec.selector) return [];
    return [...this.pods.values()].filter((p) => p.ns === svc.ns && !p.gone && p.isReady && matchLabels(spec.selector, p.labels));
  }

  nftRules(pod) {
    const chains = [];
    const natRules = [];
    const rejectRules = [];
    let n = 0;
    for (const svc of this.listObjects('Service', null)) {
      if (svc.live.clusterIP === 'None') continue;
      const eps = this.endpoints(svc);
      for (const port of (svc.manifest.spec && svc.manifest.spec.ports) || []) {
        const proto = (port.protocol || 'TCP').toLowerCase();
        if (!eps.length) { rejectRules.push(`ip daddr ${svc.live.clusterIP} ${proto} dport ${port.port} reject${proto === 'tcp' ? ' with tcp reset' : ''}`); continue; }
        const targets = eps.map((p) => ({ ip: p.ip, port: this.resolvePort(p, port.targetPort !== undefined ? port.targetPort : port.port) }));
        const names = targets.map((t) => {
          const name = `ep${n++}`;
          chains.push(`  chain ${name} {\n    meta l4proto ${proto} dnat to ${t.ip}:${t.port}\n  }`);
          return name;
        });
        natRules.push(`ip daddr ${svc.live.clusterIP} ${proto} dport ${port.port} numgen random mod ${names.length} vmap { ${names.map((x, i) => `${i} : jump ${x}`).join(', ')} }`);
      }
    }
    return ['add table ip k8e', 'delete table ip k8e', 'table ip k8e {', ...chains,
      '  chain out {', '    type nat hook output priority -100;', ...natRules.map((r) => `    ${r}`), '  }',
      '  chain filt {', '    type filter hook output priority 0;', ...rejectRules.map((r) => `    ${r}`), '  }',
      '}', ''].join('\n');
  }

  writeNft(pod) {
    const rules = this.nftRules(pod);
    if (pod.lastNft === rules) return;
    const file = path.join(pod.dir, 'rules.nft');
    fs.writeFileSync(file, rules);
    run('nsenter', [`--net=/run/netns/${pod.netns}`, '--', 'nft', '-f', file]);
    pod.lastNft = rules;
  }

  syncNetwork() {
    if (!this.netDirty || this.closed) return;
    this.netDirty = false;
    for (const pod of this.pods.values()) {
      if (!pod.netnsCreated || pod.gone) continue;
      try {
        this.writeNft(pod);
        const hosts = this.hostsFile(pod);
        if (hosts !== pod.lastHosts) {
          // Rewrite in place: the file is bind-mounted, so its inode must stay the same.
          fs.writeFileSync(path.join(pod.dir, 'etc', 'hosts'), hosts);
          pod.lastHosts = hosts;
        }
      } catch (e) { this.event(`network sync ${pod.name}: ${e.message}`); }
    }
  }

  setPartition(pod, on) {
    const rules = on
      ? ['add table ip k8epart', 'delete table ip k8epart', 'table ip k8epart {',
        '  chain in { type filter hook input priority -200; iifname != "lo" drop; }',
        '  chain out { type filter hook output priority -200; oifname != "lo" drop; }', '}', ''].join('\n')
      : 'add table ip k8epart\ndelete table ip k8epart\n';
    const file = path.join(pod.dir, 'partition.nft');
    fs.writeFileSync(file, rules);
    run('nsenter', [`--net=/run/netns/${pod.netns}`, '--', 'nft', '-f', file]);
    pod.partitioned = on;
    this.event(`pod ${pod.name} network ${on ? 'cut' : 'restored'}`);
  }

  // ---------------------------------------------------------------- views

  podView(pod) {
    const ready = pod.isReady;
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: pod.name, namespace: pod.ns, uid: pod.uid, labels: pod.labels, annotations: pod.annotations,
        creationTimestamp: iso(pod.created),
        ...(pod.terminating ? { deletionTimestamp: iso(pod.deletionTimestamp) } : {}),
        ...(pod.owner ? { ownerReferences: [{ apiVersion: 'v1', kind: pod.owner.kind, name: pod.owner.name, uid: pod.owner.uid, controller: true }] } : {}),
      },
      spec: { ...pod.spec, nodeName: 'k8e-node' },
      status: {
        phase: pod.phase,
        podIP: pod.phase === 'Pending' ? undefined : pod.ip,
        podIPs: pod.phase === 'Pending' ? undefined : [{ ip: pod.ip }],
        hostIP: BRIDGE_GW,
        startTime: pod.startTime ? iso(pod.startTime) : undefined,
        conditions: [
          { type: 'Initialized', status: 'True' },
          { type: 'Ready', status: ready ? 'True' : 'False' },
          { type: 'ContainersReady', status: pod.containers.every((c) => c.ready) ? 'True' : 'False' },
          { type: 'PodScheduled', status: 'True' },
        ],
        containerStatuses: pod.containers.map((c) => ({
          name: c.name, image: c.spec.image, ready: c.ready, started: !!c.proc && c.started,
          restartCount: c.restartCount, state: c.state, lastState: c.lastState,
        })),
      },
    };
  }

  objectView(obj) {
    if (obj.kind === 'Pod') return this.podView(obj.pod);
    const v = JSON.parse(JSON.stringify(obj.manifest));
    v.metadata = { ...v.metadata, namespace: obj.ns, uid: obj.uid, creationTimestamp: iso(obj.created) };
    if (obj.kind === 'ReplicationController') {
      v.spec = { ...v.spec, replicas: obj.live.replicas };
      v.status = this.rcStatus(obj);
    }
    if (obj.kind === 'Service') v.spec = { ...v.spec, clusterIP: obj.live.clusterIP, type: v.spec.type || 'ClusterIP' };
    return v;
  }

  summary() {
    return [...this.pods.values()].map((p) => ({
      name: p.name, ns: p.ns, ip: p.ip, netns: p.netns, labels: p.labels, phase: p.phase, ready: p.isReady,
      terminating: p.terminating, holderPid: p.holder && p.holder.pid, owner: p.owner && p.owner.name, created: p.created,
      partitioned: p.partitioned,
      containers: p.containers.map((c) => ({ name: c.name, pid: c.pid, ready: c.ready, restartCount: c.restartCount, state: Object.keys(c.state)[0], log: c.logPath() })),
    }));
  }

  // ---------------------------------------------------------------- shutdown

  async shutdown() {
    this.closed = true;
    clearInterval(this.reconcileTimer);
    for (const pod of this.pods.values()) {
      try { this.teardownPod(pod); } catch (e) { this.event(`teardown ${pod.name}: ${e.message}`); }
    }
    for (const d of [...this.createdDirs].reverse()) {
      try { fs.rmdirSync(d); } catch (e) { this.event(`rmdir ${d}: ${e.message}`); }
    }
    this.createdDirs = [];
    await new Promise((r) => this.log.end(r));
  }
}

module.exports = { Cluster, Unsupported, matchLabels, sleep, now };
