'use strict';
// Test-side handle on one emulator run: creates the node network namespace and its bridge,
// starts the daemon inside it, runs kubectl / scripts / in-pod processes, and removes everything
// it started (processes by PID, namespaces by name) on stop(), on process exit and on signals.

const fs = require('fs');
const net = require('net');
const path = require('path');
const crypto = require('crypto');
const { spawn, execFileSync } = require('child_process');

const E2E_DIR = path.resolve(__dirname, '..');
const BIN_DIR = path.join(E2E_DIR, 'bin');
const DAEMON = path.join(E2E_DIR, 'emulator', 'daemon.js');
const AGENT = path.join(__dirname, 'agent.js');
const NS_PREFIX = 'k8e-';
// Not under /tmp: pods get a private /tmp, and the in-pod agent needs the control socket.
const STATE_ROOT = '/var/tmp';
const STATE_PREFIX = path.join(STATE_ROOT, 'k8e-e2e-');

function sh(cmd, args) {
  return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

function tryRun(cmd, args) {
  try { return sh(cmd, args); } catch (e) { return ''; }
}

function alive(pid) {
  try { process.kill(pid, 0); return true; } catch (e) { return false; }
}

function canRun() {
  if (process.getuid && process.getuid() !== 0) return 'needs root (network and mount namespaces)';
  for (const tool of ['ip', 'nft', 'nsenter', 'unshare', 'redis-server', 'redis-sentinel', 'redis-cli', 'timeout']) {
    try { execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }); } catch (e) { return `needs ${tool} on PATH`; }
  }
  return null;
}

function listNetns() {
  return tryRun('ip', ['netns', 'list']).split('\n').map((l) => l.split(' ')[0]).filter(Boolean);
}

// Remove every namespace (and the processes inside it) whose name starts with prefix.
function sweepNetns(prefix) {
  for (const ns of listNetns().filter((n) => n.startsWith(prefix))) {
    for (const pid of tryRun('ip', ['netns', 'pids', ns]).split(/\s+/).filter(Boolean)) {
      try { process.kill(Number(pid), 'SIGKILL'); } catch (e) { /* gone */ }
    }
    tryRun('ip', ['netns', 'del', ns]);
  }
}

function removeCreatedDirs(stateDir) {
  const f = path.join(stateDir, 'created-dirs');
  if (!fs.existsSync(f)) return;
  const dirs = fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).reverse();
  for (const d of dirs) { try { fs.rmdirSync(d); } catch (e) { /* not empty or gone */ } }
  fs.writeFileSync(f, '');
}

// Leftovers of earlier runs whose daemon is dead (a crashed or killed test run).
function sweepStale() {
  const ids = new Set(listNetns().filter((n) => n.startsWith(NS_PREFIX)).map((n) => n.split('-')[1]));
  for (const d of fs.readdirSync(STATE_ROOT)) if (d.startsWith('k8e-e2e-')) ids.add(d.slice('k8e-e2e-'.length));
  for (const id of ids) {
    const stateDir = `${STATE_PREFIX}${id}`;
    const ownerFile = path.join(stateDir, 'owner.pid');
    let owner = null;
    try { owner = Number(fs.readFileSync(ownerFile, 'utf8')); } catch (e) { /* none */ }
    // A run belongs to the test process that started it; while that lives, it is not stale.
    // (The daemon and every container live in the run's namespaces, so the sweep ends them.)
    if (owner && alive(owner) && owner !== process.pid) continue;
    sweepNetns(`${NS_PREFIX}${id}-`);
    if (fs.existsSync(stateDir)) {
      removeCreatedDirs(stateDir);
      // Logs a failed run chose to keep stay for the developer; everything else goes.
      if (!fs.existsSync(path.join(stateDir, 'kept'))) fs.rmSync(stateDir, { recursive: true, force: true });
    }
  }
}

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

class Emulator {
  constructor() {
    this.id = crypto.randomBytes(3).toString('hex');
    this.prefix = `${NS_PREFIX}${this.id}`;
    this.nodeNs = `${this.prefix}-node`;
    this.stateDir = `${STATE_PREFIX}${this.id}`;
    this.socket = path.join(this.stateDir, 'ctl.sock');
    this.children = new Set();
    this.daemon = null;
    this.stopped = false;
  }

  static async start() {
    sweepStale();
    const e = new Emulator();
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
    const inNode = (args) => sh('ip', ['-n', this.nodeNs, ...args]);
    inNode(['link', 'set', 'lo', 'up']);
    inNode(['link', 'add', 'br0', 'type', 'bridge']);
    inNode(['addr', 'add', '10.244.0.1/16', 'dev', 'br0']);
    inNode(['link', 'set', 'br0', 'up']);
    const log = fs.openSync(path.join(this.stateDir, 'daemon.log'), 'a');
    this.daemon = spawn('nsenter', [`--net=/run/netns/${this.nodeNs}`, '--', process.execPath, DAEMON, this.stateDir, this.prefix, String(process.pid)], {
      stdio: ['ignore', log, log], detached: true,
    });
    fs.closeSync(log);
    const deadline = Date.now() + 10000;
    while (Date.now() < deadline) {
      if (this.daemon.exitCode !== null) break;
      try { await this.request({ op: 'ping' }); return; } catch (err) { await new Promise((r) => setTimeout(r, 100)); }
    }
    throw new Error(`emulator daemon did not start: ${fs.readFileSync(path.join(this.stateDir, 'daemon.log'), 'utf8')}`);
  }

  request(req) {
    return new Promise((resolve, reject) => {
      const conn = net.connect(this.socket);
      let buf = '';
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

  env(extra = {}) {
    return { ...process.env, PATH: `${BIN_DIR}:${process.env.PATH}`, K8E_SOCKET: this.socket, ...extra };
  }

  track(child) {
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    return child;
  }

  // Run a command (kubectl, the launch script) with the emulator's kubectl first on PATH.
  run(cmd, args, { cwd, timeoutMs = 120000, env = {} } = {}) {
    return new Promise((resolve) => {
      const started = Date.now();
      const child = this.track(spawn(cmd, args, { cwd, env: this.env(env), detached: true, stdio: ['ignore', 'pipe', 'pipe'] }));
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => { stdout += d; });
      child.stderr.on('data', (d) => { stderr += d; });
      let timedOut = false;
      const t = setTimeout(() => { timedOut = true; try { process.kill(-child.pid, 'SIGKILL'); } catch (e) { /* gone */ } }, timeoutMs);
      child.on('close', (code, signal) => {
        clearTimeout(t);
        resolve({ code: timedOut ? 'timeout' : code, signal, stdout, stderr, ms: Date.now() - started });
      });
    });
  }

  kubectl(args, opts) {
    return this.run(path.join(BIN_DIR, 'kubectl'), args, opts);
  }

  async pods() {
    return (await this.request({ op: 'pods' })).pods;
  }

  // Start a process inside a pod's namespaces (as `kubectl exec` would), tracked by PID.
  async spawnInPod(pod, container, argv, { env = {} } = {}) {
    const info = await this.request({ op: 'exec-info', pod, container });
    const child = spawn('nsenter', ['-t', String(info.holderPid), '-n', '-m', '-u', '--wd=/', '--', ...argv], {
      env: { ...info.env, ...env, K8E_SOCKET: this.socket }, detached: true, stdio: ['pipe', 'pipe', 'pipe'],
    });
    return this.track(child);
  }

  // Run the agent (e2e/lib/agent.js) in a pod; resolves with its parsed JSON output.
  async agent(pod, container, args, { timeoutMs = 60000 } = {}) {
    const child = await this.spawnInPod(pod, container, [process.execPath, AGENT, ...args]);
    return new Promise((resolve, reject) => {
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => { out += d; });
      child.stderr.on('data', (d) => { err += d; });
      const t = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch (e) { /* gone */ } }, timeoutMs);
      child.on('close', (code) => {
        clearTimeout(t);
        const last = out.trim().split('\n').pop();
        try { resolve(JSON.parse(last)); } catch (e) { reject(new Error(`agent ${args[0]} failed (${code}): ${err}\n${out}`)); }
      });
    });
  }

  // A long-running agent (writer, monitor): returns { stop(): Promise<result> }.
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
      stop: async (timeoutMs = 60000) => {
        child.stdin.write('stop\n');
        const t = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch (e) { /* gone */ } }, timeoutMs);
        const code = await closed;
        clearTimeout(t);
        const last = out.trim().split('\n').pop();
        try { return JSON.parse(last); } catch (e) { throw new Error(`agent ${args[0]} failed (${code}): ${err}\n${out.slice(-2000)}`); }
      },
    };
  }

  async stop({ keepLogs = false } = {}) {
    if (this.stopped) return;
    try { await Promise.race([this.request({ op: 'shutdown' }), new Promise((r) => setTimeout(r, 5000).unref())]); } catch (e) { /* daemon gone */ }
    const deadline = Date.now() + 15000;
    while (this.daemon && this.daemon.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    this.stopSync({ keepLogs });
  }

  stopSync({ keepLogs = false } = {}) {
    if (this.stopped) return;
    this.stopped = true;
    live.delete(this);
    for (const c of this.children) { try { process.kill(-c.pid, 'SIGKILL'); } catch (e) { /* gone */ } }
    if (this.daemon && this.daemon.exitCode === null) {
      try { process.kill(this.daemon.pid, 'SIGKILL'); } catch (e) { /* gone */ }
    }
    sweepNetns(`${this.prefix}-`);
    removeCreatedDirs(this.stateDir);
    if (!keepLogs && !process.env.K8E_KEEP) fs.rmSync(this.stateDir, { recursive: true, force: true });
    else { try { fs.writeFileSync(path.join(this.stateDir, 'kept'), ''); } catch (e) { /* gone */ } }
  }
}

module.exports = { Emulator, canRun, sweepStale, BIN_DIR, E2E_DIR };
