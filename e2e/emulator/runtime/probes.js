// @ts-check
'use strict';
// Kubelet-style probes: exec (in the container's namespaces and env, with timeoutSeconds) and
// tcpSocket (from the node namespace to the pod IP, as the kubelet does), on initialDelaySeconds and
// periodSeconds, counted against failureThreshold and successThreshold. Readiness gates Service
// endpoints and readyReplicas; liveness and startup failures restart the container.

const fs = require('fs');
const net = require('net');
const { Unsupported, signalGroup } = require('../util');
const { resolvePort } = require('../pod');

/** @typedef {import('../pod').Container} Container */
/** @typedef {import('../pod').ProbeKind} ProbeKind */
/** @typedef {import('kubernetes-models/v1').IProbe} Probe */

class Prober {
  /**
   * @param {object} p
   * @param {import('../types').PodLifecycleSink} p.sink readiness changes wake the controllers (OrderedReady, rolling updates, budgets)
   * @param {(c: Container, argv: string[]) => import('child_process').ChildProcess} p.enter
   *   starts a process in the container's namespaces with its env (throws when its env cannot be built)
   * @param {(c: Container, graceMs: number) => void} p.kill stops the container; it restarts per restartPolicy
   */
  constructor({ sink, enter, kill }) {
    this.sink = sink;
    this.enter = enter;
    this.kill = kill;
  }

  /** Starts the probes of a container instance that just started. @param {Container} c */
  start(c) {
    /** @type {Array<[ProbeKind, Probe | undefined]>} */
    const kinds = [['startup', c.spec.startupProbe], ['readiness', c.spec.readinessProbe], ['liveness', c.spec.livenessProbe]];
    for (const [kind, probe] of kinds) {
      if (!probe) continue;
      const period = (probe.periodSeconds || 10) * 1000;
      const tick = async () => {
        if (!c.proc || c.pod.terminating) return;
        if (kind !== 'startup' && !c.started) { c.later(period, tick); return; }
        if (kind === 'startup' && c.started) return;
        const proc = c.proc;
        const ok = await this.run(c, probe);
        if (c.proc !== proc || c.pod.terminating) return;
        this.result(c, kind, probe, ok);
        c.later(period, tick);
      };
      c.later((probe.initialDelaySeconds || 0) * 1000, tick);
    }
  }

  /** @param {Container} c @param {ProbeKind} kind @param {Probe} probe @param {boolean} ok */
  result(c, kind, probe, ok) {
    const failureThreshold = probe.failureThreshold || 3;
    const successThreshold = probe.successThreshold || 1;
    if (kind === 'readiness') {
      if (ok) {
        c.failStreak.readiness = 0;
        c.readyStreak++;
        if (!c.ready && c.readyStreak >= successThreshold) { c.ready = true; this.sink.event(`${c.pod.name}/${c.name} ready`); this.readinessChanged(); }
      } else {
        c.readyStreak = 0;
        c.failStreak.readiness++;
        if (c.ready && c.failStreak.readiness >= failureThreshold) { c.ready = false; this.sink.event(`${c.pod.name}/${c.name} not ready`); this.readinessChanged(); }
      }
      return;
    }
    if (ok) {
      c.failStreak[kind] = 0;
      if (kind === 'startup') {
        c.started = true;
        if (!c.spec.readinessProbe) c.ready = true;
        this.readinessChanged();
      }
      return;
    }
    c.failStreak[kind]++;
    if (c.failStreak[kind] >= failureThreshold) {
      this.sink.event(`${c.pod.name}/${c.name} ${kind} probe failed ${c.failStreak[kind]} times: restarting container`);
      fs.appendFileSync(c.logPath(), `k8e: ${kind} probe failed; container will be restarted\n`);
      this.kill(c, (c.pod.spec.terminationGracePeriodSeconds ?? 30) * 1000);
    }
  }

  /** A container turned ready or not: controllers look now, as they would on the API server's watch. */
  readinessChanged() {
    this.sink.podsChanged();
    this.sink.changed();
  }

  /** @param {Container} c @param {Probe} probe @returns {Promise<boolean>} */
  run(c, probe) {
    const timeout = (probe.timeoutSeconds || 1) * 1000;
    const pod = c.pod;
    const exec = probe.exec;
    if (exec) {
      return new Promise((resolve) => {
        let p;
        try { p = this.enter(c, exec.command || []); } catch { resolve(false); return; }
        const t = setTimeout(() => signalGroup(p.pid, 'SIGKILL'), timeout);
        p.on('error', () => { clearTimeout(t); resolve(false); });
        p.on('exit', (code) => { clearTimeout(t); resolve(code === 0); });
      });
    }
    if (probe.tcpSocket) {
      const port = resolvePort(pod, probe.tcpSocket.port);
      return new Promise((resolve) => {
        const s = net.connect({ host: pod.ip, port });
        /** @param {boolean} ok */
        const done = (ok) => { s.destroy(); resolve(ok); };
        s.setTimeout(timeout, () => done(false));
        s.on('connect', () => done(true));
        s.on('error', () => done(false));
      });
    }
    throw new Unsupported(`probe type ${Object.keys(probe).join(',')}`);
  }
}

module.exports = { Prober };
