// @ts-check
'use strict';
// The emulator daemon: holds the cluster state between kubectl invocations and serves a
// newline-delimited JSON protocol on a Unix socket: `kubectl` (argv in; stdout, stderr and the
// exit code out), `ping`, `shutdown`, and the test controls (controls.js). Started by
// e2e/lib/harness.js inside the run's node network namespace; never started by hand in CI.
//
//   K8E_NODES='[{"name":"n1","zone":"z1"},…]' node daemon.js STATE_DIR PREFIX [OWNER_PID]
// (K8E_NODES is optional: three nodes without it.)

const fs = require('fs');
const net = require('net');
const path = require('path');
const { execFileSync } = require('child_process');
const { Cluster } = require('./cluster');
const { Kubectl } = require('./kubectl');
const { TestControls } = require('./controls');

const stateDir = process.argv[2];
const prefix = process.argv[3];
if (!stateDir || !prefix) { console.error('usage: daemon.js STATE_DIR PREFIX'); process.exit(2); }
const sock = path.join(stateDir, 'ctl.sock');

const cluster = new Cluster({ stateDir, prefix, nodes: process.env.K8E_NODES ? JSON.parse(process.env.K8E_NODES) : undefined });
const kubectl = new Kubectl(cluster);
const controls = new TestControls(cluster);

let shuttingDown = false;
/** @param {number} code @param {() => void} [after] */
async function shutdown(code, after) {
  if (shuttingDown) return;
  shuttingDown = true;
  try { await cluster.shutdown(); } catch (e) { console.error(e); }
  try { fs.unlinkSync(sock); } catch { /* gone */ }
  if (after) after();
  process.exit(code);
}
// When the test process that started this run dies (killed, crashed), tear everything down: the
// pods, their namespaces, the mount points, and the run's node namespace and state directory.
const owner = Number(process.argv[4] || 0);
if (owner) {
  setInterval(() => {
    try { process.kill(owner, 0); } catch {
      cluster.event(`owner ${owner} is gone: tearing down`);
      shutdown(0, () => {
        try { execFileSync('ip', ['netns', 'del', `${prefix}-node`], { stdio: 'ignore' }); } catch { /* gone */ }
        if (!process.env.K8E_KEEP) fs.rmSync(stateDir, { recursive: true, force: true });
      });
    }
  }, 1000).unref();
}
process.on('SIGTERM', () => shutdown(0));
process.on('SIGINT', () => shutdown(0));
process.on('uncaughtException', (e) => { console.error('uncaught', e); shutdown(1); });

/**
 * @param {{ op: string, [field: string]: any }} req
 * @param {(m: object) => void} send
 * @param {AbortSignal} signal aborted when the client goes away
 * @returns {Promise<object>}
 */
async function handle(req, send, signal) {
  switch (req.op) {
    case 'ping': return { ok: true };
    case 'kubectl': {
      const io = {
        /** @param {string | Buffer} d */
        out: (d) => send({ t: 'out', d: Buffer.from(d).toString('base64') }),
        /** @param {string | Buffer} d */
        err: (d) => send({ t: 'err', d: Buffer.from(d).toString('base64') }),
      };
      cluster.event(`kubectl ${req.argv.join(' ')}`);
      await controls.holdIfMatched(req.argv, signal);
      const code = await kubectl.run(req.argv, { cwd: req.cwd || '/', files: req.files }, io, signal);
      return { code };
    }
    case 'shutdown':
      setTimeout(() => shutdown(0), 10);
      return { ok: true };
    default: return controls.handle(req);
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
    /** @param {object} m */
    const send = (m) => { if (!conn.destroyed) conn.write(`${JSON.stringify(m)}\n`); };
    handle(req, send, ac.signal)
      .then((r) => { done = true; send({ t: 'result', ...r }); conn.end(); })
      .catch((e) => { done = true; send({ t: 'error', message: e.message }); conn.end(); });
  });
});
try { fs.unlinkSync(sock); } catch { /* none */ }
server.listen(sock, () => {
  fs.writeFileSync(path.join(stateDir, 'daemon.pid'), String(process.pid));
  console.log(`k8e daemon ready on ${sock}`);
});
