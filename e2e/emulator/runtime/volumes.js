// @ts-check
'use strict';
// Pod volumes as host directories under the pod's state directory: emptyDir (survives container
// restarts, goes with the pod; `medium: Memory` is a tmpfs that the sandbox mounts on it), and
// configMap and secret (files with defaultMode / items, laid out as the kubelet's atomic writer does:
// `..data` points at a timestamped directory, each key is a symlink through it, and an update swaps
// `..data` in one rename). They follow their object when it is created, changed or deleted: an
// optional volume whose object is missing is empty; and persistentVolumeClaim, the directory of a
// claim (claims.js), which outlives the pod. Mount paths missing on the host are made as empty
// directories (MountPoints).

const fs = require('fs');
const path = require('path');
const { Unsupported } = require('../util');
const { objectData } = require('../store');

/** @typedef {import('../pod').Pod} Pod */
/** @typedef {import('kubernetes-models/v1').IVolume} Volume */
/** @typedef {import('../types').StoreView} StoreView */

/** The machine-wide list of mount points that emulator runs created, beside the runs' state directories. */
const MOUNT_POINTS_LIST = 'k8e-mount-points';

/**
 * Mount paths missing on the host are made as empty directories there. Two runs at once may bind
 * onto the same one, and removing it would detach it in the other run's pods too (Linux lets
 * rmdir remove a mount point of another mount namespace). So each creation goes to one list for
 * the whole machine, and the harness removes what it names when no other run is alive.
 */
class MountPoints {
  /** @param {string} stateDir the run's state directory; the list is beside it */
  constructor(stateDir) {
    this.list = path.join(path.dirname(stateDir), MOUNT_POINTS_LIST);
  }

  /** @param {string} p a mountPath */
  ensure(p) {
    if (fs.existsSync(p)) {
      if (!fs.statSync(p).isDirectory()) throw new Error(`mount path ${p} exists on the host and is not a directory`);
      return;
    }
    const parent = path.dirname(p);
    if (parent !== p) this.ensure(parent);
    fs.mkdirSync(p);
    fs.appendFileSync(this.list, `${p}\n`);
  }
}

/** Binary and decimal suffixes of a Kubernetes quantity, as byte multipliers. */
const QUANTITY_SUFFIX = /** @type {Record<string, number>} */ ({ '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 });

/** @param {string | number} q a quantity such as 64Mi @returns {number} bytes */
function quantityBytes(q) {
  const m = /^(\d+(?:\.\d+)?)([A-Za-z]*)$/.exec(String(q));
  if (!m || !(m[2] in QUANTITY_SUFFIX)) throw new Error(`quantity ${q}: use a number with an optional suffix (k, M, G, Ki, Mi, Gi)`);
  return Math.ceil(Number(m[1]) * QUANTITY_SUFFIX[m[2]]);
}

/**
 * What a configMap or secret volume holds: path → bytes and mode. An optional volume whose object
 * is missing holds nothing; a required one fails (the kubelet keeps the files it wrote before).
 * @param {StoreView} store
 * @param {Pod} pod
 * @param {Volume} vol
 * @returns {Map<string, { data: Buffer, mode: number }>}
 */
function configPayload(store, pod, vol) {
  const src = vol.configMap || vol.secret;
  /** @type {Map<string, { data: Buffer, mode: number }>} */
  const out = new Map();
  if (!src) return out;
  const kind = vol.configMap ? 'ConfigMap' : 'Secret';
  const refName = String(vol.configMap ? vol.configMap.name : vol.secret && vol.secret.secretName);
  const obj = store.get(kind, pod.ns, refName);
  if (!obj) {
    if (src.optional) return out;
    throw new Error(`${kind} "${refName}" not found for volume ${vol.name}`);
  }
  const data = objectData(obj);
  for (const [k, v] of Object.entries(obj.manifest.binaryData || {})) data[k] = Buffer.from(v, 'base64');
  const mode = src.defaultMode !== undefined ? src.defaultMode : 0o644;
  const items = src.items || Object.keys(data).map((k) => ({ key: k, path: k, mode: undefined }));
  for (const it of items) {
    if (!(it.key in data)) throw new Error(`${kind} ${refName} has no key ${it.key}`);
    out.set(it.path, { data: data[it.key], mode: it.mode !== undefined ? it.mode : mode });
  }
  return out;
}

/** The name of the link to the current payload directory, as the kubelet's atomic writer names it. */
const DATA_LINK = '..data';
/** Tells apart payload directories written within one millisecond. */
let payloadSeq = 0;

/**
 * Writes a payload into dir as the kubelet's atomic writer does: a new `..<timestamp>` directory,
 * then `..data` swapped to it in one rename, then one symlink per top-level name through `..data`;
 * names no longer in the payload and the old directory go. A reader sees the old files or the new
 * ones, never a mix.
 * @param {string} dir
 * @param {Map<string, { data: Buffer, mode: number }>} payload
 */
function writeAtomically(dir, payload) {
  const link = path.join(dir, DATA_LINK);
  const old = fs.existsSync(link) ? fs.readlinkSync(link) : null;
  const stamp = `..${new Date().toISOString().replace(/[-:T]/g, '_').replace('Z', '')}.${++payloadSeq}`;
  for (const [p, f] of payload) {
    const file = path.join(dir, stamp, p);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, f.data);
    fs.chmodSync(file, f.mode);
  }
  fs.mkdirSync(path.join(dir, stamp), { recursive: true });
  const tmpLink = path.join(dir, `${DATA_LINK}_tmp`);
  fs.rmSync(tmpLink, { force: true });
  fs.symlinkSync(stamp, tmpLink);
  fs.renameSync(tmpLink, link);
  const top = new Set([...payload.keys()].map((p) => p.split('/')[0]));
  for (const name of top) {
    if (!fs.existsSync(path.join(dir, name))) fs.symlinkSync(path.join(DATA_LINK, name), path.join(dir, name));
  }
  for (const name of fs.readdirSync(dir)) {
    if (!name.startsWith('..') && !top.has(name)) fs.rmSync(path.join(dir, name), { force: true });
  }
  if (old && old !== stamp) fs.rmSync(path.join(dir, old), { recursive: true, force: true });
}

/** @param {Pod} pod @param {Volume} vol */
function volumeDir(pod, vol) { return path.join(pod.dir, 'volumes', vol.name); }

/**
 * @param {StoreView} store
 * @param {Pod} pod
 * @param {Volume} vol
 * @returns {string} the host directory behind the volume
 */
function volumeSource(store, pod, vol) {
  const dir = volumeDir(pod, vol);
  if (vol.emptyDir) {
    if (vol.emptyDir.medium && vol.emptyDir.medium !== 'Memory') throw new Unsupported(`volume ${vol.name}: emptyDir medium ${vol.emptyDir.medium}`);
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  }
  if (vol.configMap || vol.secret) {
    fs.mkdirSync(dir, { recursive: true });
    writeAtomically(dir, configPayload(store, pod, vol));
    return dir;
  }
  if (vol.persistentVolumeClaim) {
    // The scheduler placed the pod only once its claims existed and were not being deleted; the
    // claim cannot go while the pod uses it.
    const name = vol.persistentVolumeClaim.claimName;
    const claim = store.get('PersistentVolumeClaim', pod.ns, name);
    if (!claim || !claim.live.claim) throw new Error(`persistentvolumeclaim "${name}" not found for volume ${vol.name}`);
    return claim.live.claim.dir;
  }
  throw new Unsupported(`volume ${vol.name}: only emptyDir, configMap, secret and persistentVolumeClaim volumes are emulated`);
}

/**
 * The pod's volume mounts, made ready on the host. All containers share one mount namespace per
 * pod, so a path is mounted once (the first container's mount wins).
 * @param {StoreView} store
 * @param {Pod} pod
 * @param {MountPoints} mountPoints
 * @returns {import('../types').Bind[]}
 */
function volumeBinds(store, pod, mountPoints) {
  const vols = new Map((pod.spec.volumes || []).map((v) => [v.name, v]));
  const sources = new Map();
  for (const v of vols.values()) sources.set(v.name, volumeSource(store, pod, v));
  /** @type {import('../types').Bind[]} */
  const binds = [];
  const seen = new Set();
  for (const c of pod.spec.containers || []) {
    for (const m of c.volumeMounts || []) {
      const vol = vols.get(m.name);
      if (!vol) throw new Error(`container ${c.name}: volumeMount ${m.name} has no volume`);
      if (m.subPath) throw new Unsupported(`volumeMount subPath (${c.name}/${m.name})`);
      if (seen.has(m.mountPath)) continue;
      seen.add(m.mountPath);
      mountPoints.ensure(m.mountPath);
      const memory = vol.emptyDir && vol.emptyDir.medium === 'Memory'
        ? { tmpfs: { size: vol.emptyDir.sizeLimit !== undefined ? quantityBytes(vol.emptyDir.sizeLimit) : undefined } } : {};
      const readOnly = !!m.readOnly || !!vol.configMap || !!vol.secret || !!(vol.persistentVolumeClaim && vol.persistentVolumeClaim.readOnly);
      binds.push({ src: sources.get(m.name), dst: m.mountPath, readOnly, ...memory });
    }
  }
  return binds;
}

/**
 * The kubelet eventually rewrites configMap and secret volumes when their object is created,
 * changed or deleted; here it is at once.
 * @param {StoreView} store
 * @param {import('../types').StoredObject} obj the ConfigMap or Secret that changed (or left the store)
 * @param {(pod: Pod, err: Error) => void} onError
 */
function refreshConfigVolumes(store, obj, onError) {
  for (const pod of store.pods()) {
    if (pod.ns !== obj.ns || pod.gone) continue;
    for (const vol of pod.spec.volumes || []) {
      const ref = vol.configMap ? vol.configMap.name : vol.secret && vol.secret.secretName;
      if (!ref || ref !== obj.name || (vol.configMap ? obj.kind !== 'ConfigMap' : obj.kind !== 'Secret')) continue;
      try { writeAtomically(volumeDir(pod, vol), configPayload(store, pod, vol)); } catch (e) { onError(pod, /** @type {Error} */ (e)); }
    }
  }
}

module.exports = { MountPoints, MOUNT_POINTS_LIST, volumeBinds, refreshConfigVolumes };
