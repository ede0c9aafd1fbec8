// @ts-check
'use strict';
// Test-side handle on one emulator run: creates the node network namespace and its bridge,
// starts the daemon inside it, runs kubectl / scripts / in-pod processes, and removes everything
// it started (processes by PID, namespaces by name) on stop(), on process exit and on signals.

const fs = require('fs');
const net = require('net');
const path = require('path');
const crypto = require('crypto');
const { spawn, execFileSync } = require('child_process');
const { MOUNT_POINTS_LIST } = require('../emulator/runtime/volumes');
const { findDnsmasq } = require('../emulator/network/dns');
const { DEFAULT_NODES } = require('../emulator/nodes/nodes');

const E2E_DIR = path.resolve(__dirname, '..');
const BIN_DIR = path.join(E2E_DIR, 'bin');
const DAEMON = path.join(E2E_DIR, 'emulator', 'daemon.js');
const AGENT = path.join(__dirname, 'agent.js');
const NS_PREFIX = 'k8e-';
// Not under /tmp: pods get a private /tmp, and the in-pod agent needs the control socket.
const STATE_ROOT = '/var/tmp';
const STATE_PREFIX = path.join(STATE_ROOT, 'k8e-e2e-');
const MOUNT_POINTS = path.join(STATE_ROOT, MOUNT_POINTS_LIST);

/** @param {string} cmd @param {string[]} args @returns {string} stdout; throws when the command fails */
function sh(cmd, args) {
  return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

/** @param {string} cmd @param {string[]} args @returns {string} stdout, or '' when the command fails */
function tryRun(cmd, args) {
  try { return sh(cmd, args); } catch { return ''; }
}

/** @param {number} pid */
function alive(pid) {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** @param {number | undefined} pgid @param {NodeJS.Signals} signal */
function signalGroup(pgid, signal) {
  if (pgid === undefined) return;
  try { process.kill(-pgid, signal); } catch { /* gone */ }
}

/** @returns {string | null} why the e2e tests cannot run here, or null when they can */
function canRun() {
  if (process.getuid && process.getuid() !== 0) return 'needs root (network and mount namespaces)';
  for (const tool of ['ip', 'nft', 'nsenter', 'unshare', 'redis-server', 'redis-sentinel', 'redis-cli', 'timeout']) {
    try { execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }); } catch { return `needs ${tool} on PATH`; }
  }
  if (!findDnsmasq()) return 'needs dnsmasq, the pods\' name server (Debian: dnsmasq-base)';
  return null;
}

function listNetns() {
  return tryRun('ip', ['netns', 'list']).split('\n').map((l) => l.split(' ')[0]).filter(Boolean);
}

/** Removes every namespace (and the processes inside it) whose name starts with prefix. @param {string} prefix */
function sweepNetns(prefix) {
  for (const ns of listNetns().filter((n) => n.startsWith(prefix))) {
    for (const pid of tryRun('ip', ['netns', 'pids', ns]).split(/\s+/).filter(Boolean)) {
      try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
    }
    tryRun('ip', ['netns', 'del', ns]);
  }
}

/** @param {string} id @returns {number | null} the test process that owns run id */
function ownerOf(id) {
  try { return Number(fs.readFileSync(path.join(`${STATE_PREFIX}${id}`, 'owner.pid'), 'utf8')) || null; } catch { return null; }
}

/** @returns {string[]} the ids of runs on this machine that have a state directory */
function runIds() {
  return fs.readdirSync(STATE_ROOT).filter((d) => d.startsWith('k8e-e2e-')).map((d) => d.slice('k8e-e2e-'.length));
}

/**
 * Removes the mount points that emulator runs created on the host (the list of
 * emulator/runtime/volumes.js), deepest first, but only when no run of another test process is
 * alive: its pods may be bound onto the same directories.
 */
function removeMountPoints() {
  if (runIds().some((id) => { const o = ownerOf(id); return o !== null && o !== process.pid && alive(o); })) return;
  if (!fs.existsSync(MOUNT_POINTS)) return;
  const dirs = [...new Set(fs.readFileSync(MOUNT_POINTS, 'utf8').split('\n').filter(Boolean))]
    .sort((a, b) => b.split('/').length - a.split('/').length);
  for (const d of dirs) { try { fs.rmdirSync(d); } catch { /* not empty or gone */ } }
  const left = dirs.filter((d) => fs.existsSync(d));
  if (left.length) fs.writeFileSync(MOUNT_POINTS, left.map((d) => `${d}\n`).join(''));
  else fs.rmSync(MOUNT_POINTS, { force: true });
}

// Leftovers of earlier runs whose daemon is dead (a crashed or killed test run).
function sweepStale() {
  const ids = new Set(listNetns().filter((n) => n.startsWith(NS_PREFIX)).map((n) => n.split('-')[1]));
  for (const id of runIds()) ids.add(id);
  for (const id of ids) {
    const stateDir = `${STATE_PREFIX}${id}`;
    const owner = ownerOf(id);
    // A run belongs to the test process that started it; while that lives, it is not stale.
    // (The daemon and every container live in the run's namespaces, so the sweep ends them.)
    if (owner && alive(owner) && owner !== process.pid) continue;
    sweepNetns(`${NS_PREFIX}${id}-`);
    // Logs a failed run chose to keep stay for the developer; everything else goes.
    if (fs.existsSync(stateDir) && !fs.existsSync(path.join(stateDir, 'kept'))) fs.rmSync(stateDir, { recursive: true, force: true });
  }
  removeMountPoints();
}

/** @type {Set<Emulator>} */
const live = new Set();
let hooksInstalled = false;
function installHooks() {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => { for (const e of live) e.stopSync(); });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => { for (const e of live) e.stopSync(); process.kill(process.pid, sig); });
  }
}

/**
 * @typedef {{ code: number | null | 'timeout', signal: NodeJS.Signals | null, stdout: string, stderr: string, ms: number }} RunResult
 * @typedef {{ [field: string]: any }} Answer the daemon's `result` message
 */

/** @typedef {import('../emulator/nodes/nodes').NodeSpec} NodeSpec an emulated node */

/** The node bridge's MAC address (locally administered; 0a:f4:00:01 is 10.244.0.1). */
const BRIDGE_MAC = '02:00:0a:f4:00:01';

/**
 * A node for the tests' client pod alone (fixtures/client-pod.yaml prefers the label and tolerates
 * the taint; nothing else does): `Emulator.start({ nodes: [...DEFAULT_NODES, CLIENT_NODE] })` keeps
 * the client out of the way of node faults and drains of the nodes under test. It is in zone
 * k8e-zone-a, beside k8e-node-a, so that it adds no zone of its own to topology spreading.
 * @type {NodeSpec}
 */
const CLIENT_NODE = {
  name: 'k8e-node-client', zone: 'k8e-zone-a',
  labels: { 'k8e.io/test-client': 'true' }, taints: [{ key: 'k8e.io/test-client', value: 'true', effect: 'NoSchedule' }],
};

class Emulator {
  /** @param {NodeSpec[] | undefined} [nodes] */
  constructor(nodes) {
    /** The run's nodes (undefined: the emulator's three, k8e-node-a/b/c in zones k8e-zone-a/b/c). */
    this.nodeSpecs = nodes;
    this.id = crypto.randomBytes(3).toString('hex');
    this.prefix = `${NS_PREFIX}${this.id}`;
    this.nodeNs = `${this.prefix}-node`;
    this.stateDir = `${STATE_PREFIX}${this.id}`;
    this.socket = path.join(this.stateDir, 'ctl.sock');
    /** Processes the tests started, ended by PID on stop. @type {Set<import('child_process').ChildProcess>} */
    this.children = new Set();
    /** @type {import('child_process').ChildProcess | null} */
    this.daemon = null;
    this.stopped = false;
  }

  /** @param {{ nodes?: NodeSpec[] }} [opts] */
  static async start({ nodes } = {}) {
    sweepStale();
    const e = new Emulator(nodes);
    installHooks();
    live.add(e);
    try {
      await e.boot();
    } catch (err) {
      e.stopSync();
      throw err;
    }
    return e;
  }

  async boot() {
    fs.mkdirSync(this.stateDir, { recursive: true });
    fs.writeFileSync(path.join(this.stateDir, 'owner.pid'), String(process.pid));
    sh('ip', ['netns', 'add', this.nodeNs]);
    /** @param {string[]} args */
    const inNode = (args) => sh('ip', ['-n', this.nodeNs, ...args]);
    inNode(['link', 'set', 'lo', 'up']);
    // A fixed MAC address: a bridge without one takes the lowest of its ports', so a pod created
    // with a lower veth MAC changed the node's address, and every pod's ARP entry for 10.244.0.1
    // went stale: the name server and the kubelets' probes were unreachable for 20-45 s.
    inNode(['link', 'add', 'br0', 'address', BRIDGE_MAC, 'type', 'bridge']);
    inNode(['addr', 'add', '10.244.0.1/16', 'dev', 'br0']);
    inNode(['link', 'set', 'br0', 'up']);
    const log = fs.openSync(path.join(this.stateDir, 'daemon.log'), 'a');
    this.daemon = spawn('nsenter', [`--net=/run/netns/${this.nodeNs}`, '--', process.execPath, DAEMON, this.stateDir, this.prefix, String(process.pid)], {
      stdio: ['ignore', log, log], detached: true,
      env: { ...process.env, ...(this.nodeSpecs ? { K8E_NODES: JSON.stringify(this.nodeSpecs) } : {}) },
    });
    fs.closeSync(log);
    const deadline = Date.now() + 10000;
    while (Date.now() < deadline) {
      if (this.daemon.exitCode !== null) break;
      try { await this.request({ op: 'ping' }); return; } catch { await new Promise((r) => setTimeout(r, 100)); }
    }
    throw new Error(`emulator daemon did not start: ${fs.readFileSync(path.join(this.stateDir, 'daemon.log'), 'utf8')}`);
  }

  /**
   * One request of the daemon protocol (a test control, or ping / shutdown).
   * @param {{ op: string, [field: string]: unknown }} req
   * @returns {Promise<Answer>}
   */
  request(req) {
    return new Promise((resolve, reject) => {
      const conn = net.connect(this.socket);
      let buf = '';
      /** @type {Answer | null} */
      let result = null;
      conn.on('connect', () => conn.write(`${JSON.stringify(req)}\n`));
      conn.on('data', (d) => { buf += d; });
      conn.on('error', reject);
      conn.on('close', () => {
        for (const line of buf.split('\n').filter(Boolean)) {
          const m = JSON.parse(line);
          if (m.t === 'error') { reject(new Error(m.message)); return; }
          if (m.t === 'result') result = m;
        }
        if (result) resolve(result); else reject(new Error('no answer from emulator'));
      });
    });
  }

  /** The env of a process that talks to this run: its kubectl first on PATH. @param {Record<string, string>} [extra] */
  env(extra = {}) {
    return { ...process.env, PATH: `${BIN_DIR}:${process.env.PATH}`, K8E_SOCKET: this.socket, ...extra };
  }

  /**
   * @template {import('child_process').ChildProcess} T
   * @param {T} child
   * @returns {T}
   */
  track(child) {
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    return child;
  }

  /**
   * Runs a command (kubectl, the launch script) with the emulator's kubectl first on PATH.
   * @param {string} cmd
   * @param {string[]} args
   * @param {{ cwd?: string, timeoutMs?: number, env?: Record<string, string> }} [opts]
   * @returns {Promise<RunResult>}
   */
  run(cmd, args, { cwd, timeoutMs = 120000, env = {} } = {}) {
    return new Promise((resolve) => {
      const started = Date.now();
      const child = this.track(spawn(cmd, args, { cwd, env: this.env(env), detached: true, stdio: ['ignore', 'pipe', 'pipe'] }));
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => { stdout += d; });
      child.stderr.on('data', (d) => { stderr += d; });
      let timedOut = false;
      const t = setTimeout(() => { timedOut = true; signalGroup(child.pid, 'SIGKILL'); }, timeoutMs);
      child.on('close', (code, signal) => {
        clearTimeout(t);
        resolve({ code: timedOut ? 'timeout' : code, signal, stdout, stderr, ms: Date.now() - started });
      });
    });
  }

  /** @param {string[]} args @param {{ cwd?: string, timeoutMs?: number }} [opts] */
  kubectl(args, opts) {
    return this.run(path.join(BIN_DIR, 'kubectl'), args, opts);
  }

  async pods() {
    return (await this.request({ op: 'pods' })).pods;
  }

  /**
   * Starts a process inside a pod's namespaces (as `kubectl exec` would), tracked by PID.
   * @param {string} pod
   * @param {string} container
   * @param {string[]} argv
   * @param {{ env?: Record<string, string> }} [opts]
   */
  async spawnInPod(pod, container, argv, { env = {} } = {}) {
    const info = await this.request({ op: 'exec-info', pod, container });
    const child = spawn('nsenter', ['-t', String(info.holderPid), '-n', '-m', '-u', '--wd=/', '--', ...argv], {
      env: { ...info.env, ...env, K8E_SOCKET: this.socket }, detached: true, stdio: ['pipe', 'pipe', 'pipe'],
    });
    return this.track(child);
  }

  /**
   * Runs the agent (e2e/lib/agent.js) in a pod.
   * @param {string} pod
   * @param {string} container
   * @param {string[]} args
   * @param {{ timeoutMs?: number }} [opts]
   * @returns {Promise<any>} its JSON result
   */
  async agent(pod, container, args, { timeoutMs = 60000 } = {}) {
    const child = await this.spawnInPod(pod, container, [process.execPath, AGENT, ...args]);
    return new Promise((resolve, reject) => {
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => { out += d; });
      child.stderr.on('data', (d) => { err += d; });
      const t = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), timeoutMs);
      child.on('close', (code) => {
        clearTimeout(t);
        const last = out.trim().split('\n').pop() || '';
        try { resolve(JSON.parse(last)); } catch { reject(new Error(`agent ${args[0]} failed (${code}): ${err}\n${out}`)); }
      });
    });
  }

  /**
   * A long-running agent (writer, monitor, events); stop() ends it and resolves with its result.
   * @param {string} pod
   * @param {string} container
   * @param {string[]} args
   * @param {{ env?: Record<string, string> }} [opts]
   */
  async agentBackground(pod, container, args, { env = {} } = {}) {
    const child = await this.spawnInPod(pod, container, [process.execPath, AGENT, ...args], { env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const closed = new Promise((resolve) => child.on('close', resolve));
    return {
      child,
      lines: () => out.trim().split('\n').filter(Boolean),
      /** @param {number} [timeoutMs] @returns {Promise<any>} its JSON result */
      stop: async (timeoutMs = 60000) => {
        child.stdin?.write('stop\n');
        const t = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), timeoutMs);
        const code = await closed;
        clearTimeout(t);
        const last = out.trim().split('\n').pop() || '';
        try { return JSON.parse(last); } catch { throw new Error(`agent ${args[0]} failed (${code}): ${err}\n${out.slice(-2000)}`); }
      },
    };
  }

  // ------------------------------------------------------------ faults (test controls, not kubectl)

  /** Freezes every process of a pod (SIGSTOP). @param {string} pod @returns {Promise<number[]>} the processes stopped */
  async freeze(pod) { return (await this.request({ op: 'freeze', pod })).signalled; }

  /** Thaws a frozen pod (SIGCONT to every process). @param {string} pod @returns {Promise<number[]>} */
  async thaw(pod) { return (await this.request({ op: 'thaw', pod })).signalled; }

  /**
   * Deletes pods in one instant (grace 0: every process SIGKILLed, the IPs gone: crashed nodes).
   * @param {string[]} pods
   * @param {{ gracePeriod?: number, wait?: boolean }} [opts] wait: resolve once they are gone
   * @returns {Promise<Array<{ pod: string, deletionTimestamp: number }>>}
   */
  async deletePods(pods, { gracePeriod, wait = false } = {}) {
    return (await this.request({ op: 'delete-pods', pods, gracePeriod, wait })).deleted;
  }

  /** Splits the network: these pods on one side, every other pod on the other. @param {string[]} pods */
  async split(pods) { await this.request({ op: 'split', pods }); }

  /** Ends a split. */
  async heal() { await this.request({ op: 'heal' }); }

  /**
   * Signals the processes of a container whose command line contains `match` (all of them without
   * it). The container then restarts no sooner than holdRestartMs from now, or per the kubelet's
   * back-off when that is later.
   * @param {string} pod
   * @param {string} container
   * @param {{ match?: string, signal?: NodeJS.Signals, holdRestartMs?: number }} [opts]
   * @returns {Promise<Array<{ pid: number, cmdline: string[] }>>} the processes signalled
   */
  async kill(pod, container, { match, signal = 'SIGKILL', holdRestartMs = 0 } = {}) {
    return (await this.request({ op: 'kill', pod, container, match, signal, holdRestartMs })).killed;
  }

  /**
   * The emulated nodes: name, ip, labels, taints (the node's own and those of its state), whether
   * it is ready and unschedulable, and the pods on it.
   * @returns {Promise<Array<{ name: string, ip: string, labels: Record<string, string>, taints: any[], ready: boolean, unschedulable: boolean, pods: string[] }>>}
   */
  async nodes() { return (await this.request({ op: 'nodes' })).nodes; }

  /**
   * Loses a node: every pod on it dies at once (SIGKILL, its IP gone, as a crashed machine) and
   * leaves the API, its claims stay; the node is NotReady and gets no pod until nodeBack.
   * @param {string} node
   * @returns {Promise<string[]>} the pods that died
   */
  async nodeLost(node) { return (await this.request({ op: 'node-lost', node })).killed; }

  /** Brings a lost node back: Ready, and pods waiting for a node may land on it. @param {string} node */
  async nodeBack(node) { await this.request({ op: 'node-back', node }); }

  /**
   * Sets a node's own taints (NoExecute evicts the pods on it that do not tolerate it).
   * @param {string} node
   * @param {Array<{ key: string, value?: string, effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' }>} taints
   */
  async taint(node, taints) { await this.request({ op: 'taint', node, taints }); }

  /**
   * Empties a claim's volume (every file in it), under whatever pod mounts it.
   * @param {string} claim
   * @param {{ ns?: string }} [opts]
   * @returns {Promise<string[]>} the names removed
   */
  async wipeClaim(claim, { ns } = {}) { return (await this.request({ op: 'wipe-claim', claim, ns })).removed; }

  /** Shuts the daemon down, then ends and removes whatever is left. @param {{ keepLogs?: boolean }} [opts] */
  async stop({ keepLogs = false } = {}) {
    if (this.stopped) return;
    try { await Promise.race([this.request({ op: 'shutdown' }), new Promise((r) => setTimeout(r, 5000).unref())]); } catch { /* daemon gone */ }
    const deadline = Date.now() + 15000;
    while (this.daemon && this.daemon.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    this.stopSync({ keepLogs });
  }

  /** @param {{ keepLogs?: boolean }} [opts] */
  stopSync({ keepLogs = false } = {}) {
    if (this.stopped) return;
    this.stopped = true;
    live.delete(this);
    for (const c of this.children) signalGroup(c.pid, 'SIGKILL');
    const daemonPid = this.daemon && this.daemon.exitCode === null ? this.daemon.pid : undefined;
    if (daemonPid !== undefined) {
      try { process.kill(daemonPid, 'SIGKILL'); } catch { /* gone */ }
    }
    sweepNetns(`${this.prefix}-`);
    removeMountPoints();
    if (!keepLogs && !process.env.K8E_KEEP) fs.rmSync(this.stateDir, { recursive: true, force: true });
    else { try { fs.writeFileSync(path.join(this.stateDir, 'kept'), ''); } catch { /* gone */ } }
  }
}

module.exports = { Emulator, canRun, sweepStale, BIN_DIR, E2E_DIR, DEFAULT_NODES, CLIENT_NODE };
