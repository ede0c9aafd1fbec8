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
async function shutdown(code) {
  if (shuttingDown) return;
  shuttingDown = true;
  clearInterval(netTimer);
  try { await cluster.shutdown(); } catch (e) { console.error(e); }
  try { fs.unlinkSync(sock); } catch (e) { /* gone */ }
  process.exit(code);
}
process.on('SIGTERM', () => shutdown(0));
process.on('SIGINT', () => shutdown(0));
process.on('uncaughtException', (e) => { console.error('uncaught', e); shutdown(1); });

async function handle(req, send, signal) {
  switch (req.op) {
    case 'ping': return { ok: true };
    case 'kubectl': {
      const io = {
        out: (d) => send({ t: 'out', d: Buffer.from(d).toString('base64') }),
        err: (d) => send({ t: 'err', d: Buffer.from(d).toString('base64') }),
      };
      cluster.event(`kubectl ${req.argv.join(' ')}`);
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
