// @ts-check
'use strict';
// Pod volumes as host directories under the pod's state directory: emptyDir (survives container
// restarts, goes with the pod), configMap and secret (files with defaultMode / items, rewritten
// when the object is applied again). Mount paths missing on the host are made as empty directories
// (MountPoints). (A persistentVolumeClaim source, a directory that outlives its pods,
// would be one more case in volumeSource.)

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

/**
 * The files of a configMap or secret volume, written into dir.
 * @param {StoreView} store
 * @param {Pod} pod
 * @param {Volume} vol
 * @param {string} dir
 */
function writeConfigVolume(store, pod, vol, dir) {
  const src = vol.configMap || vol.secret;
  if (!src) return;
  const kind = vol.configMap ? 'ConfigMap' : 'Secret';
  const refName = String(vol.configMap ? vol.configMap.name : vol.secret && vol.secret.secretName);
  const obj = store.get(kind, pod.ns, refName);
  if (!obj) {
    if (src.optional) return;
    throw new Error(`${kind} "${refName}" not found for volume ${vol.name}`);
  }
  const data = objectData(obj);
  for (const [k, v] of Object.entries(obj.manifest.binaryData || {})) data[k] = Buffer.from(v, 'base64');
  const mode = src.defaultMode !== undefined ? src.defaultMode : 0o644;
  const items = src.items || Object.keys(data).map((k) => ({ key: k, path: k, mode: undefined }));
  for (const it of items) {
    if (!(it.key in data)) throw new Error(`${kind} ${refName} has no key ${it.key}`);
    const file = path.join(dir, it.path);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, data[it.key]);
    fs.chmodSync(file, it.mode !== undefined ? it.mode : mode);
  }
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
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  }
  if (vol.configMap || vol.secret) {
    fs.mkdirSync(dir, { recursive: true });
    writeConfigVolume(store, pod, vol, dir);
    return dir;
  }
  throw new Unsupported(`volume ${vol.name}: only emptyDir, configMap and secret volumes are emulated`);
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
      binds.push({ src: sources.get(m.name), dst: m.mountPath, readOnly: !!m.readOnly || !!vol.configMap || !!vol.secret });
    }
  }
  return binds;
}

/**
 * The kubelet eventually rewrites configMap and secret volumes when their object changes; here it
 * is at once.
 * @param {StoreView} store
 * @param {import('../types').StoredObject} obj the ConfigMap or Secret that changed
 * @param {(pod: Pod, err: Error) => void} onError
 */
function refreshConfigVolumes(store, obj, onError) {
  for (const pod of store.pods()) {
    if (pod.ns !== obj.ns || pod.gone) continue;
    for (const vol of pod.spec.volumes || []) {
      const ref = vol.configMap ? vol.configMap.name : vol.secret && vol.secret.secretName;
      if (!ref || ref !== obj.name || (vol.configMap ? obj.kind !== 'ConfigMap' : obj.kind !== 'Secret')) continue;
      try { writeConfigVolume(store, pod, vol, volumeDir(pod, vol)); } catch (e) { onError(pod, /** @type {Error} */ (e)); }
    }
  }
}

module.exports = { MountPoints, MOUNT_POINTS_LIST, volumeBinds, refreshConfigVolumes };
