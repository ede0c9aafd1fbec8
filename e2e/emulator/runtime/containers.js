// @ts-check
'use strict';
// Containers as processes: `nsenter` into the pod holder's namespaces, then `command` + `args` with
// the container's env, on the host's binaries (`image` is ignored). Each container is a process
// group; when its main process exits, the group is killed (like a cgroup teardown) and the
// container restarts with kubelet back-off: at once, then 10 s doubling to 5 min, reset after
// 10 min up. One log file per run.

const fs = require('fs');
const os = require('os');
const { spawn } = require('child_process');
const { Unsupported, now, iso, signalGroup } = require('../util');
const { containerEnv } = require('./env');
const { Prober } = require('./probes');

/** @typedef {import('../pod').Container} Container */
/** @typedef {import('../pod').Pod} Pod */
/** @typedef {import('child_process').StdioOptions} StdioOptions */

class ContainerRuntime {
  /**
   * @param {object} p
   * @param {import('../types').PodLifecycleSink} p.sink
   * @param {import('../types').StoreView} p.store ConfigMaps and Secrets for env
   * @param {(ns: string) => Record<string, string>} p.serviceEnv
   * @param {number} p.backoffScale multiplies restart back-off delays (K8E_BACKOFF_SCALE)
   * @param {(pod: Pod) => void} p.onStopped a container of a terminating pod stopped
   */
  constructor({ sink, store, serviceEnv, backoffScale, onStopped }) {
    this.sink = sink;
    this.store = store;
    this.serviceEnv = serviceEnv;
    this.backoffScale = backoffScale;
    this.onStopped = onStopped;
    this.closed = false;
    this.prober = new Prober({
      sink,
      enter: (c, argv) => this.enter(c, argv, 'ignore'),
      kill: (c, graceMs) => this.kill(c, graceMs),
    });
  }

  /** The container's env and its $(VAR) expansion. @param {Container} c */
  env(c) { return containerEnv(c, this.store, this.serviceEnv(c.pod.ns)); }

  /**
   * A process in the container's namespaces, with its env and working directory (an exec probe, a
   * preStop hook, `kubectl exec`), in a process group of its own. Throws when the env cannot be built.
   * @param {Container} c
   * @param {string[]} argv
   * @param {StdioOptions} stdio
   */
  enter(c, argv, stdio) {
    return this.spawnIn(c, argv, this.env(c).env, stdio);
  }

  /** @param {Container} c @param {string[]} argv @param {Record<string, string>} env @param {StdioOptions} stdio */
  spawnIn(c, argv, env, stdio) {
    const holder = c.pod.holder;
    if (!holder || holder.pid === undefined) throw new Error(`pod ${c.pod.name} has no sandbox`);
    const ns = ['-t', String(holder.pid), '-n', '-m', '-u', `--wd=${c.spec.workingDir || '/'}`, '--'];
    return spawn('nsenter', [...ns, ...argv], { env, detached: true, stdio });
  }

  /** Starts a new instance of the container (unless its pod is terminating). @param {Container} c */
  start(c) {
    const pod = c.pod;
    if (pod.terminating || this.closed) return;
    let argv;
    let env;
    try {
      const r = this.env(c);
      env = r.env;
      const cmd = (c.spec.command || []).map(r.expand);
      const args = (c.spec.args || []).map(r.expand);
      if (!cmd.length) {
        if (/^(docker\.io\/)?(library\/)?redis(:|@|$)/.test(c.spec.image || '')) cmd.push('redis-server');
        else throw new Unsupported(`container ${c.name}: no command, and image ${c.spec.image} has no known entrypoint`);
      }
      argv = [...cmd, ...args];
    } catch (e) {
      const message = /** @type {Error} */ (e).message;
      c.state = { waiting: { reason: 'CreateContainerConfigError', message } };
      this.sink.event(`container ${pod.name}/${c.name}: ${message}`);
      fs.appendFileSync(c.logPath(), `k8e: cannot start container: ${message}\n`);
      this.scheduleRestart(c, 1);
      this.sink.changed();
      return;
    }
    const fd = fs.openSync(c.logPath(), 'a');
    const proc = this.spawnIn(c, argv, env, ['ignore', fd, fd]);
    fs.closeSync(fd);
    c.proc = proc;
    c.pid = proc.pid ?? null;
    c.started = !c.spec.startupProbe;
    c.ready = false;
    c.readyStreak = 0;
    c.failStreak = { readiness: 0, liveness: 0, startup: 0 };
    c.state = { running: { startedAt: iso(now()) } };
    c.startedAt = now();
    this.sink.event(`container ${pod.name}/${c.name} started pid ${proc.pid} (instance ${c.instance}): ${argv.join(' ')}`);
    proc.on('error', (e) => this.sink.event(`container ${pod.name}/${c.name} spawn error: ${e.message}`));
    proc.on('exit', (code, signal) => this.exited(c, proc, code, signal));
    if (!c.spec.readinessProbe && c.started) c.ready = true;
    this.prober.start(c);
    // Ready at once without a readiness probe: controllers look now (OrderedReady, budgets).
    if (c.ready) this.prober.readinessChanged(); else this.sink.changed();
  }

  /**
   * @param {Container} c
   * @param {import('child_process').ChildProcess} proc
   * @param {number | null} code
   * @param {NodeJS.Signals | null} signal
   */
  exited(c, proc, code, signal) {
    if (c.proc !== proc) return;
    const pod = c.pod;
    // The container ends with its main process: whatever it left behind (background loops) goes too,
    // as when a runtime tears down the container's cgroup.
    signalGroup(proc.pid, 'SIGKILL');
    c.clearTimers();
    const exitCode = code !== null ? code : 128 + (signal ? os.constants.signals[signal] : 0);
    c.lastState = { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt: iso(c.startedAt), finishedAt: iso(now()) } };
    c.state = { terminated: c.lastState.terminated };
    c.proc = null;
    c.pid = null;
    const wasReady = c.ready;
    c.ready = false;
    this.sink.event(`container ${pod.name}/${c.name} exited code=${code} signal=${signal}`);
    if (wasReady) this.prober.readinessChanged(); else this.sink.changed();
    if (pod.terminating) { this.onStopped(pod); return; }
    if (this.closed) return;
    const policy = pod.spec.restartPolicy || 'Always';
    if (policy === 'Never' || (policy === 'OnFailure' && exitCode === 0)) {
      if (pod.containers.every((x) => !x.proc)) {
        pod.phase = pod.containers.every((x) => x.lastState.terminated && x.lastState.terminated.exitCode === 0) ? 'Succeeded' : 'Failed';
        this.sink.podsChanged();
      }
      return;
    }
    // Kubelet back-off: first restart at once, then 10 s doubling to 300 s; reset after 10 min up.
    const ranFor = now() - (c.startedAt || now());
    if (ranFor > 600000) c.backoffLevel = 0;
    const level = c.backoffLevel;
    c.backoffLevel = level + 1;
    const delay = level === 0 ? 0 : Math.min(10000 * 2 ** (level - 1), 300000) * this.backoffScale;
    this.scheduleRestart(c, delay);
  }

  /** @param {Container} c @param {number} delay ms; a test's holdRestartUntil may make it longer */
  scheduleRestart(c, delay) {
    const wait = Math.max(delay, c.holdRestartUntil - now());
    if (wait > 0) c.state = { waiting: { reason: 'CrashLoopBackOff' } };
    c.cancelRestart();
    c.restartTimer = setTimeout(() => {
      c.restartTimer = null;
      if (c.pod.terminating || this.closed || c.proc) return;
      c.restartCount++;
      c.instance++;
      this.start(c);
    }, wait);
  }

  /**
   * Stops a container: signal (SIGTERM), then SIGKILL after graceMs. It restarts per restartPolicy.
   * @param {Container} c
   * @param {number} graceMs
   * @param {NodeJS.Signals} [signal]
   */
  kill(c, graceMs, signal = 'SIGTERM') {
    const proc = c.proc;
    if (!proc) return;
    signalGroup(proc.pid, signal);
    if (signal !== 'SIGKILL') {
      setTimeout(() => { if (c.proc === proc) signalGroup(proc.pid, 'SIGKILL'); }, graceMs);
    }
  }

  /**
   * A preStop exec hook, its output in the container's log; resolves when it ends or after graceMs.
   * @param {Container} c
   * @param {string[]} command
   * @param {number} graceMs
   * @returns {Promise<void>}
   */
  preStop(c, command, graceMs) {
    return new Promise((resolve) => {
      const fd = fs.openSync(c.logPath(), 'a');
      let p;
      try { p = this.enter(c, command, ['ignore', fd, fd]); } catch { resolve(); return; } finally { fs.closeSync(fd); }
      const t = setTimeout(() => signalGroup(p.pid, 'SIGKILL'), graceMs);
      p.on('error', () => { clearTimeout(t); resolve(); });
      p.on('exit', () => { clearTimeout(t); resolve(); });
    });
  }

  /**
   * The processes of a container's group, with their command lines (for the test controls).
   * @param {Container} c
   * @returns {Array<{ pid: number, cmdline: string[] }>}
   */
  pids(c) {
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
      } catch { /* raced */ }
    }
    return out;
  }

  /** No container starts or restarts from now on. */
  close() { this.closed = true; }
}

module.exports = { ContainerRuntime };
