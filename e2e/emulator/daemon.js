'use strict';
// The emulator daemon: holds the cluster state between kubectl invocations and serves a
// newline-delimited JSON protocol on a Unix socket. Started by e2e/lib/harness.js inside the
// run's node network namespace; never started by hand in CI.

const fs = require('fs');
const net = require('net');
const path = require('path');
const { Cluster } = require('./cluster');
const { Kubectl } = require('./kubectl');

const stateDir = process.argv[2];
const prefix = process.argv[3];
if (!stateDir || !prefix) { console.error('usage: daemon.js STATE_DIR PREFIX'); process.exit(2); }
const sock = path.join(stateDir, 'ctl.sock');

const cluster = new Cluster({ stateDir, prefix });
const kubectl = new Kubectl(cluster);
const netTimer = setInterval(() => cluster.syncNetwork(), 50);

function findPod(ns, name) {
  const o = cluster.getObject('Pod', ns || 'default', name);
  if (!o) throw new Error(`pod ${name} not found`);
  return o.pod;
}

let shuttingDown = false;
async function shutdown(code, after) {
  if (shuttingDown) return;
  shuttingDown = true;
  clearInterval(netTimer);
  try { await cluster.shutdown(); } catch (e) { console.error(e); }
  try { fs.unlinkSync(sock); } catch (e) { /* gone */ }
  if (after) after();
  process.exit(code);
}
// When the test process that started this run dies (killed, crashed), tear everything down: the
// pods, their namespaces, the mount points, and the run's node namespace and state directory.
const owner = Number(process.argv[4] || 0);
if (owner) {
  setInterval(() => {
    try { process.kill(owner, 0); } catch (e) {
      cluster.event(`owner ${owner} is gone: tearing down`);
      const { execFileSync } = require('child_process');
      shutdown(0, () => {
        try { execFileSync('ip', ['netns', 'del', `${prefix}-node`], { stdio: 'ignore' }); } catch (err) { /* gone */ }
        if (!process.env.K8E_KEEP) fs.rmSync(stateDir, { recursive: true, force: true });
      });
    }
  }, 1000).unref();
}
process.on('SIGTERM', () => shutdown(0));
process.on('SIGINT', () => shutdown(0));
process.on('uncaughtException', (e) => { console.error('uncaught', e); shutdown(1); });

// Test hook: hold kubectl requests that contain a given argument sequence until released, so a
// test can act at a precise point of the launch script (e.g. just before the bootstrap delete).
const holds = [];
function holdIfMatched(argv, signal) {
  const line = ` ${argv.join(' ')} `;
  const h = holds.find((x) => line.includes(` ${x.match} `));
  if (!h) return Promise.resolve();
  h.hits++;
  cluster.event(`holding kubectl ${argv.join(' ')}`);
  return new Promise((resolve) => {
    h.waiters.push(resolve);
    signal.addEventListener('abort', resolve);
  });
}

async function handle(req, send, signal) {
  switch (req.op) {
    case 'ping': return { ok: true };
    case 'kubectl': {
      const io = {
        out: (d) => send({ t: 'out', d: Buffer.from(d).toString('base64') }),
        err: (d) => send({ t: 'err', d: Buffer.from(d).toString('base64') }),
      };
      cluster.event(`kubectl ${req.argv.join(' ')}`);
      await holdIfMatched(req.argv, signal);
      const code = await kubectl.run(req.argv, req.cwd || '/', io, signal);
      return { code };
    }
    case 'pods': return { pods: cluster.summary() };
    case 'exec-info': {
      const pod = findPod(req.ns, req.pod);
      const c = pod.containers.find((x) => x.name === req.container) || pod.containers[0];
      return { holderPid: pod.holder.pid, env: cluster.containerEnv(c).env, ip: pod.ip };
    }
    case 'kill': {
      // Kill processes of one container whose command line matches, e.g. redis-server.
      const pod = findPod(req.ns, req.pod);
      const c = pod.containers.find((x) => x.name === req.container);
      if (!c) throw new Error(`no container ${req.container}`);
      if (req.holdRestartMs) c.holdRestartUntil = Date.now() + req.holdRestartMs;
      const pids = cluster.containerPids(c).filter((p) => !req.match || p.cmdline.join(' ').includes(req.match));
      for (const p of pids) process.kill(p.pid, req.signal || 'SIGKILL');
      cluster.event(`test killed ${pids.map((p) => `${p.pid}(${p.cmdline.join(' ')})`).join(', ')} in ${pod.name}/${c.name} hold=${req.holdRestartMs || 0}`);
      return { killed: pids };
    }
    case 'partition': {
      const pod = findPod(req.ns, req.pod);
      cluster.setPartition(pod, !!req.on);
      return { ok: true };
    }
    case 'delete-pod': {
      const pod = findPod(req.ns, req.pod);
      const p = cluster.deletePod(pod, { gracePeriod: req.gracePeriod });
      if (req.wait) await p;
      return { ok: true };
    }
    case 'hold':
      holds.push({ match: req.match, hits: 0, waiters: [] });
      return { ok: true };
    case 'hold-status': {
      const h = holds.find((x) => x.match === req.match);
      return { hits: h ? h.hits : 0 };
    }
    case 'release': {
      const i = holds.findIndex((x) => x.match === req.match);
      if (i >= 0) { const [h] = holds.splice(i, 1); h.waiters.forEach((w) => w()); }
      return { ok: true };
    }
    case 'shutdown':
      setTimeout(() => shutdown(0), 10);
      return { ok: true };
    default: throw new Error(`unknown op ${req.op}`);
  }
}

const server = net.createServer((conn) => {
  const ac = new AbortController();
  let buf = '';
  let done = false;
  conn.on('close', () => { if (!done) ac.abort(); });
  conn.on('error', () => ac.abort());
  conn.on('data', (d) => {
    buf += d;
    const nl = buf.indexOf('\n');
    if (nl < 0) return;
    const req = JSON.parse(buf.slice(0, nl));
    buf = '';
    const send = (m) => { if (!conn.destroyed) conn.write(`${JSON.stringify(m)}\n`); };
    handle(req, send, ac.signal)
      .then((r) => { done = true; send({ t: 'result', ...r }); conn.end(); })
      .catch((e) => { done = true; send({ t: 'error', message: e.message }); conn.end(); });
  });
});
try { fs.unlinkSync(sock); } catch (e) { /* none */ }
server.listen(sock, () => {
  fs.writeFileSync(path.join(stateDir, 'daemon.pid'), String(process.pid));
  console.log(`k8e daemon ready on ${sock}`);
});
