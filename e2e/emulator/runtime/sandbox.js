// @ts-check
'use strict';
// The pod sandbox (the "pause" container): a holder process, in the pod's network namespace, that
// keeps a private mount + UTS namespace alive. The hostname is spec.hostname or the pod name;
// volumes and the network's files are bind-mounted (a memory-backed emptyDir on a tmpfs of its
// own); /tmp is the pod's own; and the host's root file system is read-only, so a container can
// write only to its volumes and /tmp, never to the host.

const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const { shQuote } = require('../util');

/** The checkout this emulator runs from, and whether a pod's private /tmp would hide it. */
const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const REPO_UNDER_TMP = REPO_ROOT === '/tmp' || REPO_ROOT.startsWith('/tmp/');
const READY_LINE = 'k8e-holder-ready';

/**
 * Starts the pod's holder (pod.holder is set at once, so a teardown can end it while it starts).
 * @param {import('../pod').Pod} pod its network namespace exists
 * @param {import('../types').Bind[]} binds what to mount, in order
 * @returns {Promise<void>} once the mounts are in place; rejects when the holder exits first
 */
function startHolder(pod, binds) {
  const tmp = path.join(pod.dir, 'tmp');
  fs.mkdirSync(tmp, { recursive: true, mode: 0o1777 });
  fs.chmodSync(tmp, 0o1777);
  const repoInTmp = path.join(tmp, path.relative('/tmp', REPO_ROOT));
  if (REPO_UNDER_TMP) fs.mkdirSync(repoInTmp, { recursive: true });
  // A memory-backed volume is one tmpfs however many paths bind it; mounted in the holder's
  // private mount namespace, it is the pod's alone and goes with it.
  const tmpfs = new Map(binds.filter((b) => b.tmpfs).map((b) => [b.src, b.tmpfs]));
  const script = [
    'set -e',
    ...[...tmpfs].map(([src, t]) => `mount -t tmpfs -o mode=0777${t && t.size ? `,size=${t.size}` : ''} k8e-memory ${shQuote(src)}`),
    ...binds.flatMap((b) => [
      `mount --bind ${shQuote(b.src)} ${shQuote(b.dst)}`,
      ...(b.readOnly ? [`mount -o remount,bind,ro ${shQuote(b.dst)}`] : []),
    ]),
    `hostname ${shQuote(pod.hostname)}`,
    // A checkout under /tmp (CI may clone there) stays visible through the pod's private /tmp:
    // the in-pod test agent runs from it.
    ...(REPO_UNDER_TMP ? [`mount --bind ${shQuote(REPO_ROOT)} ${shQuote(repoInTmp)}`] : []),
    `mount --rbind ${shQuote(tmp)} /tmp`,
    'mount -o remount,bind,ro /',
    `echo ${READY_LINE}`,
    'exec sleep infinity',
  ].join('\n');
  const holder = spawn('nsenter', [`--net=/run/netns/${pod.netns}`, '--', 'unshare', '--mount', '--uts', '--propagation', 'private', '--', 'sh', '-c', script], {
    detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  });
  pod.holder = holder;
  let errText = '';
  holder.stderr.on('data', (d) => { errText += d; });
  return new Promise((resolve, reject) => {
    let out = '';
    holder.stdout.on('data', (d) => { out += d; if (out.includes(READY_LINE)) resolve(); });
    holder.on('exit', (code) => reject(new Error(`pod holder exited (${code}): ${errText}`)));
  });
}

/**
 * Every process of the pod: the holder and whatever entered its mount namespace (containers, their
 * children, execs, exec probes, preStop hooks).
 * @param {import('../pod').Pod} pod
 * @returns {number[]}
 */
function sandboxProcesses(pod) {
  const holder = pod.holder;
  if (!holder || holder.pid === undefined || holder.exitCode !== null) return [];
  let mnt;
  try { mnt = fs.readlinkSync(`/proc/${holder.pid}/ns/mnt`); } catch { return []; }
  /** @type {number[]} */
  const out = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try { if (fs.readlinkSync(`/proc/${d}/ns/mnt`) === mnt) out.push(Number(d)); } catch { /* gone */ }
  }
  return out;
}

module.exports = { startHolder, sandboxProcesses };
