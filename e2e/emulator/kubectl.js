// @ts-check
'use strict';
// The kubectl verbs and flags the launch script and the e2e tests use, and nothing else:
// anything outside this list fails with "kubectl emulator: unsupported: <args>" and exit 1.

const fs = require('fs');
const path = require('path');
const YAML = require('yaml');
const { Unsupported, now, signalGroup } = require('./util');
const jsonpath = require('./jsonpath');
const { UsageError, parseFlags, one, parseSelector, parseDuration } = require('./kubectl-args');
const { NodeVerbs } = require('./kubectl-nodes');

/** @typedef {import('./cluster').Cluster} Cluster */
/** @typedef {import('./types').KubeObject} KubeObject */
/** @typedef {{ out: (d: string | Buffer) => void, err: (d: string | Buffer) => void }} IO */
/**
 * A `--from-file` source as the kubectl shim read it on the caller's side (so that the caller's
 * permissions and mount namespace apply, as with kubectl): a file's bytes, a directory's regular
 * files, or why it could not be read. Base64.
 * @typedef {{ file?: string, dir?: Record<string, string>, error?: string }} ClientFile
 * @typedef {{ cwd: string, files?: Record<string, ClientFile> }} Client the caller: its directory, and the files it read
 */

/** A file, or a directory's top-level manifests in name order. @param {string} target @param {string} cwd */
function manifestFiles(target, cwd) {
  const p = path.resolve(cwd, target);
  if (!fs.existsSync(p)) throw new Error(`error: the path "${target}" does not exist`);
  if (fs.statSync(p).isDirectory()) {
    return fs.readdirSync(p).filter((f) => /\.(ya?ml|json)$/.test(f)).sort().map((f) => path.join(p, f))
      .filter((f) => fs.statSync(f).isFile());
  }
  return [p];
}

/** @param {string} file @returns {KubeObject[]} */
function readDocs(file) {
  const text = fs.readFileSync(file, 'utf8');
  if (file.endsWith('.json')) {
    const d = JSON.parse(text);
    return d.kind === 'List' ? d.items : [d];
  }
  // Kubernetes reads YAML 1.1 (0755 is octal there).
  return YAML.parseAllDocuments(text, { version: '1.1' }).map((d) => {
    if (d.errors.length) throw new Error(`error parsing ${file}: ${d.errors[0].message}`);
    return d.toJS();
  }).filter((d) => d !== null && d !== undefined);
}

/** @param {number} t ms since the epoch @returns {string} e.g. 42s, 3m */
function age(t) {
  const s = Math.floor((now() - t) / 1000);
  return s < 120 ? `${s}s` : `${Math.floor(s / 60)}m`;
}

/** Columns padded as kubectl prints them. @param {unknown[][]} rows @returns {string} */
function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? String(c) : String(c).padEnd(widths[i] + 3))).join('')).join('\n') + '\n';
}

/** @param {any} v a view @returns {string} */
const ageOf = (v) => age(Date.parse(v.metadata.creationTimestamp));

/**
 * What `kubectl get KIND` prints without -o: its columns, each read from a view (what
 * cluster.view() returned) as kubectl's printers read it. Other kinds print NAME, DATA, AGE.
 * @type {Record<string, Array<[string, (v: any) => unknown]>>}
 */
const COLUMNS = {
  Pod: [
    ['NAME', (v) => v.metadata.name],
    ['READY', (v) => `${v.status.containerStatuses.filter((/** @type {any} */ c) => c.ready).length}/${v.status.containerStatuses.length}`],
    ['STATUS', (v) => (v.metadata.deletionTimestamp ? 'Terminating' : v.status.phase)],
    ['RESTARTS', (v) => v.status.containerStatuses.reduce((/** @type {number} */ a, /** @type {any} */ c) => a + c.restartCount, 0)],
    ['AGE', ageOf],
  ],
  ReplicationController: [
    ['NAME', (v) => v.metadata.name], ['DESIRED', (v) => v.spec.replicas], ['CURRENT', (v) => v.status.replicas],
    ['READY', (v) => v.status.readyReplicas], ['AGE', ageOf],
  ],
  Service: [
    ['NAME', (v) => v.metadata.name], ['TYPE', (v) => v.spec.type], ['CLUSTER-IP', (v) => v.spec.clusterIP], ['EXTERNAL-IP', () => '<none>'],
    ['PORT(S)', (v) => (v.spec.ports || []).map((/** @type {any} */ p) => `${p.port}/${p.protocol || 'TCP'}`).join(',')], ['AGE', ageOf],
  ],
  Secret: [
    ['NAME', (v) => v.metadata.name], ['TYPE', (v) => v.type || 'Opaque'],
    ['DATA', (v) => Object.keys({ ...v.data, ...v.stringData }).length], ['AGE', ageOf],
  ],
  NetworkPolicy: [
    ['NAME', (v) => v.metadata.name],
    ['POD-SELECTOR', (v) => Object.entries(v.spec.podSelector.matchLabels || {}).map(([k, x]) => `${k}=${x}`).join(',') || '<none>'],
    ['AGE', ageOf],
  ],
  PodDisruptionBudget: [
    ['NAME', (v) => v.metadata.name], ['MIN AVAILABLE', (v) => v.spec.minAvailable ?? 'N/A'], ['MAX UNAVAILABLE', (v) => v.spec.maxUnavailable ?? 'N/A'],
    ['ALLOWED DISRUPTIONS', (v) => v.status.disruptionsAllowed], ['AGE', ageOf],
  ],
  StatefulSet: [['NAME', (v) => v.metadata.name], ['READY', (v) => `${v.status.readyReplicas}/${v.spec.replicas}`], ['AGE', ageOf]],
  PersistentVolumeClaim: [
    ['NAME', (v) => v.metadata.name], ['STATUS', (v) => (v.metadata.deletionTimestamp ? 'Terminating' : v.status.phase)], ['VOLUME', (v) => v.spec.volumeName],
    ['CAPACITY', (v) => v.status.capacity.storage],
    ['ACCESS MODES', (v) => v.spec.accessModes.map((/** @type {string} */ m) => ACCESS_MODES[m] || m).join(',')],
    ['STORAGECLASS', (v) => v.spec.storageClassName], ['AGE', ageOf],
  ],
  Node: [
    ['NAME', (v) => v.metadata.name],
    ['STATUS', (v) => [v.status.conditions[0].status === 'True' ? 'Ready' : 'NotReady', ...(v.spec.unschedulable ? ['SchedulingDisabled'] : [])].join(',')],
    ['ROLES', () => '<none>'], ['AGE', ageOf], ['VERSION', (v) => v.status.nodeInfo.kubeletVersion],
  ],
};
/** `kubectl get pods -o wide`: the columns above and where each pod runs. @type {Array<[string, (v: any) => unknown]>} */
const WIDE_POD_COLUMNS = [
  ...COLUMNS.Pod,
  ['IP', (v) => v.status.podIP || '<none>'], ['NODE', (v) => v.spec.nodeName || '<none>'],
  ['NOMINATED NODE', () => '<none>'], ['READINESS GATES', () => '<none>'],
];
/** How `kubectl get pvc` abbreviates access modes. @type {Record<string, string>} */
const ACCESS_MODES = { ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' };
/**
 * The fields `--field-selector` can name, read from a view, as the API server offers them for pods
 * (and metadata.name, metadata.namespace for every kind).
 * @type {Record<string, (v: any) => string | undefined>}
 */
const SELECTABLE_FIELDS = {
  'metadata.name': (v) => v.metadata.name,
  'metadata.namespace': (v) => v.metadata.namespace,
  'status.phase': (v) => v.status && v.status.phase,
  'spec.nodeName': (v) => (v.spec && v.spec.nodeName) || '',
};
/** @type {Array<[string, (v: any) => unknown]>} */
const DEFAULT_COLUMNS = [['NAME', (v) => v.metadata.name], ['DATA', (v) => Object.keys(v.data || {}).length], ['AGE', ageOf]];

/** A key of a Secret or ConfigMap, as the API server accepts it. */
const DATA_KEY = /^[-._a-zA-Z0-9]+$/;

class Kubectl {
  /** @param {Cluster} cluster */
  constructor(cluster) {
    this.cluster = cluster;
    this.nodeVerbs = new NodeVerbs(cluster, (pred, ms, signal) => this.waitFor(pred, ms, signal));
    /** kubectl's names of the cluster's kinds (singular, plural, short) → kind. @type {Map<string, string>} */
    this.kindNames = new Map();
    for (const h of cluster.kinds.values()) {
      for (const n of [h.kind.toLowerCase(), h.resource, ...h.shortNames]) this.kindNames.set(n, h.kind);
    }
  }

  /** @param {string} word a resource type as typed, e.g. rc, pods @returns {string} the kind */
  kindOf(word) {
    const k = this.kindNames.get(String(word).toLowerCase());
    if (!k) throw new UsageError(`resource type ${word}`);
    return k;
  }

  /**
   * @param {string} kind
   * @returns {string} how kubectl names the kind in `-o name` and in what it did: the kind in lower
   * case, with the API group of a kind outside the core group (networkpolicy.networking.k8s.io)
   */
  qualified(kind) {
    return `${kind.toLowerCase()}${this.group(kind)}`;
  }

  /** @param {string} kind @returns {string} '.<group>' for a kind outside the core group, or '' */
  group(kind) {
    const h = this.cluster.kinds.get(kind);
    return h && h.apiVersion.includes('/') ? `.${h.apiVersion.split('/')[0]}` : '';
  }

  /** @param {string} kind @returns {string} its plural resource name with its group, as kubectl's errors say it (statefulsets.apps) */
  resource(kind) {
    const h = this.cluster.kinds.get(kind);
    return h ? `${h.resource}${this.group(kind)}` : kind.toLowerCase();
  }

  /**
   * One kubectl call. Long-running verbs (exec) stream through io.
   * @param {string[]} argv
   * @param {Client} client the caller's directory (for -f paths) and the files it read
   * @param {IO} io
   * @param {AbortSignal} signal aborted when the caller goes away
   * @returns {Promise<number>} the exit code
   */
  async run(argv, client, io, signal) {
    try {
      return await this.dispatch(argv, client, io, signal);
    } catch (err) {
      const e = /** @type {Error} */ (err);
      if (e instanceof UsageError || e instanceof Unsupported) {
        io.err(`kubectl emulator: unsupported: ${argv.join(' ')} (${e.message})\n`);
        return 1;
      }
      io.err(`${e.message.startsWith('error') || e.message.startsWith('Error') ? '' : 'error: '}${e.message}\n`);
      return 1;
    }
  }

  /** @param {string[]} argv @param {Client} client @param {IO} io @param {AbortSignal} signal @returns {Promise<number>} */
  async dispatch(argv, client, io, signal) {
    const cwd = client.cwd;
    // Global flags may appear anywhere before "--".
    let ns = 'default';
    const args = [];
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i];
      if (a === '--') { args.push(...argv.slice(i)); break; }
      if (a === '-n' || a === '--namespace') { ns = argv[++i]; continue; }
      if (a.startsWith('--namespace=')) { ns = a.slice(12); continue; }
      if (a.startsWith('-n') && a.length > 2 && !a.startsWith('--')) { ns = a.slice(2); continue; }
      if (a.startsWith('--kubeconfig=') || a.startsWith('--request-timeout=')) continue;
      if (a === '--kubeconfig' || a === '--request-timeout') { i++; continue; }
      args.push(a);
    }
    if (!ns) throw new UsageError('empty namespace');
    const verb = args.shift();
    switch (verb) {
      case 'apply': return this.apply(args, ns, cwd, io);
      case 'create': return this.create(args, ns, client, io);
      case 'get': return this.get(args, ns, io);
      case 'scale': return this.scale(args, ns, io);
      case 'wait': return this.wait(args, ns, io, signal);
      case 'exec': return this.exec(args, ns, io, signal);
      case 'logs': return this.logs(args, ns, io);
      case 'delete': return this.delete(args, ns, cwd, io, signal);
      case 'cordon': return this.nodeVerbs.cordon(args, true, io);
      case 'uncordon': return this.nodeVerbs.cordon(args, false, io);
      case 'drain': return this.nodeVerbs.drain(args, io, signal);
      case 'rollout': return this.rollout(args, ns, io, signal);
      default: throw new UsageError(`verb ${verb}`);
    }
  }

  /** @param {string[]} args @param {string} ns @param {string} cwd @param {IO} io */
  async apply(args, ns, cwd, io) {
    const { flags, pos } = parseFlags(args, ['-f', '--filename', '-l', '--selector'], []);
    if (pos.length || !flags['-f'] && !flags['--filename']) throw new UsageError('apply needs -f (and -l) and nothing else');
    const selector = one(flags, '-l', '--selector');
    // kubectl filters the file's objects by their own labels before it sends any.
    const selected = selector ? parseSelector(selector) : () => true;
    let code = 0;
    for (const target of [...(flags['-f'] || []), ...(flags['--filename'] || [])]) {
      for (const file of manifestFiles(target, cwd)) {
        for (const doc of readDocs(file)) {
          if (!selected((doc.metadata && doc.metadata.labels) || {})) continue;
          try {
            const result = await this.cluster.apply(doc, ns);
            io.out(`${this.qualified(doc.kind)}/${doc.metadata.name} ${result}\n`);
          } catch (e) {
            if (e instanceof Unsupported) throw e;
            io.err(`Error from server: error when applying ${file}: ${/** @type {Error} */ (e).message}\n`);
            code = 1;
          }
        }
      }
    }
    return code;
  }

  /**
   * `create secret generic NAME --from-file=[KEY=]PATH ...`: a Secret from files the caller read
   * (a directory gives one key per regular file in it). Fails when the Secret exists.
   * @param {string[]} args @param {string} ns @param {Client} client @param {IO} io
   */
  async create(args, ns, client, io) {
    const { flags, pos } = parseFlags(args, ['--from-file'], []);
    if (pos.length !== 3 || pos[0] !== 'secret' || pos[1] !== 'generic' || !flags['--from-file']) {
      throw new UsageError('create secret generic NAME --from-file=[KEY=]PATH ...');
    }
    const name = pos[2];
    /** @type {Record<string, string>} key → base64 */
    const data = {};
    /** @param {string} key @param {string} b64 */
    const put = (key, b64) => {
      if (!DATA_KEY.test(key)) throw new Error(`"${key}" is not a valid key name for a Secret: a key is made of letters, digits, '-', '_' and '.'`);
      if (key in data) throw new Error(`cannot add key ${key}, another key by that name already exists in Data for Secret "${name}"`);
      data[key] = b64;
    };
    for (const spec of flags['--from-file']) {
      const eq = spec.indexOf('=');
      const key = eq >= 0 ? spec.slice(0, eq) : null;
      const source = eq >= 0 ? spec.slice(eq + 1) : spec;
      if (key === '' || source === '') throw new Error(`key names or file paths cannot be empty: --from-file=${spec}`);
      const read = client.files && client.files[source];
      if (!read) throw new Error(`kubectl emulator: the shim sent no contents for ${source}`);
      if (read.error) throw new Error(`error: error reading ${source}: ${read.error}`);
      if (read.dir) {
        if (key !== null) throw new Error(`cannot give a key name for a directory path: --from-file=${spec}`);
        for (const [k, b64] of Object.entries(read.dir)) put(k, b64);
      } else {
        put(key !== null ? key : path.basename(source), String(read.file));
      }
    }
    try {
      this.cluster.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns }, type: 'Opaque', data }, ns);
    } catch (e) {
      io.err(`error: failed to create secret ${/** @type {Error} */ (e).message}\n`);
      return 1;
    }
    io.out(`secret/${name} created\n`);
    return 0;
  }

  /**
   * "pod NAME", "pod/NAME", "pods" → [{kind, name?}]
   * @param {string[]} pos
   * @returns {Array<{ kind: string, name?: string }>}
   */
  targets(pos) {
    if (!pos.length) throw new UsageError('no resource type');
    if (pos[0].includes('/')) {
      return pos.map((p) => { const [k, n] = p.split('/'); if (!n) throw new UsageError(p); return { kind: this.kindOf(k), name: n }; });
    }
    const kind = this.kindOf(pos[0]);
    if (pos.length === 1) return [{ kind }];
    return pos.slice(1).map((n) => ({ kind, name: n }));
  }

  /** @param {string[]} args @param {string} ns @param {IO} io */
  async get(args, ns, io) {
    const { flags, pos } = parseFlags(args, ['-l', '--selector', '-o', '--output', '--field-selector'], ['--ignore-not-found']);
    const targets = this.targets(pos);
    const selector = one(flags, '-l', '--selector');
    const output = one(flags, '-o', '--output');
    const ignore = one(flags, '--ignore-not-found') === 'true';
    const field = one(flags, '--field-selector');
    /** @type {Array<(v: KubeObject) => boolean>} */
    const fieldTerms = (field === undefined ? [] : field.split(',')).map((term) => {
      const m = /^([\w.]+)(!=|==?)(.*)$/.exec(term);
      const read = m && SELECTABLE_FIELDS[m[1]];
      if (!m || !read || (m[1].startsWith('spec.') || m[1].startsWith('status.')) && targets[0].kind !== 'Pod') throw new UsageError(`field selector ${field}`);
      return (v) => (read(v) === m[3]) === (m[2] !== '!=');
    });
    const fieldFilter = (/** @type {KubeObject} */ v) => fieldTerms.every((t) => t(v));
    const wide = output === 'wide';
    if (wide && targets[0].kind !== 'Pod') throw new UsageError(`output wide for ${targets[0].kind}`);
    if (output !== undefined && !wide && output !== 'name' && !output.startsWith('jsonpath=')) throw new UsageError(`output ${output}`);
    const named = targets.every((t) => t.name);
    if (!named && targets.length > 1) throw new UsageError('mixed targets');
    if (named && selector) throw new UsageError('name and selector');
    /** @type {KubeObject[]} */
    let views = [];
    let code = 0;
    if (named) {
      for (const t of targets) {
        const obj = this.cluster.get(t.kind, ns, String(t.name));
        if (!obj) {
          if (!ignore) { io.err(`Error from server (NotFound): ${this.resource(t.kind)} "${t.name}" not found\n`); code = 1; }
          continue;
        }
        views.push(this.cluster.view(obj));
      }
    } else {
      const sel = selector ? parseSelector(selector) : () => true;
      views = this.cluster.list(targets[0].kind, ns)
        .map((o) => this.cluster.view(o))
        .filter((v) => sel(v.metadata.labels || {}))
        .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    }
    views = views.filter(fieldFilter);
    if (output === 'name') {
      for (const v of views) io.out(`${this.qualified(v.kind)}/${v.metadata.name}\n`);
    } else if (wide) {
      if (views.length) io.out(table([WIDE_POD_COLUMNS.map(([h]) => h), ...views.map((v) => WIDE_POD_COLUMNS.map(([, read]) => read(v)))]));
    } else if (output !== undefined) {
      const tpl = output.slice('jsonpath='.length);
      const root = named && targets.length === 1 ? views[0] : { apiVersion: 'v1', kind: 'List', items: views };
      if (root !== undefined) io.out(jsonpath.render(tpl, root));
    } else if (views.length) {
      io.out(this.tableFor(targets[0].kind, views));
    } else if (!named && !ignore) {
      io.err(`No resources found in ${ns} namespace.\n`);
    }
    return code;
  }

  /** What `kubectl get` prints without -o. @param {string} kind @param {KubeObject[]} views */
  tableFor(kind, views) {
    const cols = COLUMNS[kind] || DEFAULT_COLUMNS;
    return table([cols.map(([h]) => h), ...views.map((v) => cols.map(([, read]) => read(v)))]);
  }

  /** @param {string[]} args @param {string} ns @param {IO} io */
  async scale(args, ns, io) {
    const { flags, pos } = parseFlags(args, ['--replicas'], []);
    const t = this.targets(pos);
    const replicas = one(flags, '--replicas');
    const name = t.length === 1 ? t[0].name : undefined;
    if (!name || !this.cluster.scalable(t[0].kind) || !/^\d+$/.test(replicas || '')) throw new UsageError('scale rc|statefulset NAME --replicas=N');
    const obj = this.cluster.get(t[0].kind, ns, name);
    if (!obj) { io.err(`Error from server (NotFound): ${this.resource(t[0].kind)} "${name}" not found\n`); return 1; }
    this.cluster.scale(obj, Number(replicas));
    io.out(`${this.qualified(obj.kind)}/${obj.name} scaled\n`);
    return 0;
  }

  /**
   * `rollout status statefulset/NAME [--timeout=D] [--watch=false]`: kubectl's StatefulSet status
   * viewer, printed whenever its message changes, until the rollout is done.
   * @param {string[]} args @param {string} ns @param {IO} io @param {AbortSignal} signal
   */
  async rollout(args, ns, io, signal) {
    const { flags, pos } = parseFlags(args, ['--timeout'], ['--watch', '-w']);
    if (pos.shift() !== 'status') throw new UsageError('rollout status only');
    const t = this.targets(pos);
    if (t.length !== 1 || !t[0].name || t[0].kind !== 'StatefulSet') throw new UsageError('rollout status statefulset/NAME');
    const name = t[0].name;
    const timeout = parseDuration(one(flags, '--timeout'), 0);
    const watch = one(flags, '--watch', '-w') !== 'false';
    /** @returns {{ message: string, done: boolean } | { error: string }} */
    const status = () => {
      const obj = this.cluster.get('StatefulSet', ns, name);
      if (!obj) return { error: `Error from server (NotFound): ${this.resource('StatefulSet')} "${name}" not found` };
      return statefulSetRollout(this.cluster.view(obj));
    };
    let last = '';
    /** @type {string | null} */
    let error = null;
    const report = () => {
      const s = status();
      if ('error' in s) { error = s.error; return true; }
      if (s.message !== last) { io.out(s.message); last = s.message; }
      return s.done || !watch;
    };
    const done = await this.waitFor(report, timeout > 0 ? timeout : Infinity, signal);
    if (error) { io.err(`${error}\n`); return 1; }
    if (!done) { io.err('error: timed out waiting for the condition\n'); return 1; }
    return 0;
  }

  /**
   * @param {() => boolean} pred
   * @param {number} timeoutMs Infinity: no limit
   * @param {AbortSignal} signal
   * @returns {Promise<boolean>} whether pred came true in time
   */
  waitFor(pred, timeoutMs, signal) {
    return new Promise((resolve) => {
      /** @param {boolean} ok */
      const finish = (ok) => { stop(); if (timer) clearTimeout(timer); clearInterval(poll); resolve(ok); };
      const check = () => { if (pred()) finish(true); else if (signal && signal.aborted) finish(false); };
      const poll = setInterval(check, 250);
      const timer = Number.isFinite(timeoutMs) ? setTimeout(() => finish(pred()), timeoutMs) : null;
      const stop = this.cluster.onChange(check);
      check();
    });
  }

  /** @param {string[]} args @param {string} ns @param {IO} io @param {AbortSignal} signal */
  async wait(args, ns, io, signal) {
    const { flags, pos } = parseFlags(args, ['--for', '--timeout', '-l', '--selector'], []);
    const forWhat = one(flags, '--for');
    const timeout = parseDuration(one(flags, '--timeout'), 30000);
    const selector = one(flags, '-l', '--selector');
    const targets = this.targets(pos);
    if (targets.some((t) => t.kind !== 'Pod')) throw new UsageError('wait supports pods only');
    let names;
    if (selector) {
      if (targets.some((t) => t.name)) throw new UsageError('name and selector');
      const sel = parseSelector(selector);
      names = this.cluster.store.pods().filter((p) => p.ns === ns && sel(p.labels)).map((p) => p.name);
      if (!names.length) { io.err(`error: no matching resources found\n`); return 1; }
    } else {
      if (targets.some((t) => !t.name)) throw new UsageError('wait needs pod/NAME or -l');
      names = targets.map((t) => String(t.name));
    }
    let code = 0;
    const deadline = now() + timeout;
    for (const name of names) {
      const get = () => this.cluster.pod(ns, name);
      if (forWhat === 'delete') {
        const first = get();
        if (!first) continue;
        const ok = await this.waitFor(() => get() !== first, Math.max(0, deadline - now()), signal);
        if (ok) io.out(`pod/${name} condition met\n`);
        else { io.err(`error: timed out waiting for the condition on pods/${name}\n`); code = 1; }
      } else if (/^condition=ready(=true)?$/i.test(forWhat || '')) {
        if (!get()) { io.err(`Error from server (NotFound): pods "${name}" not found\n`); code = 1; continue; }
        const ok = await this.waitFor(() => { const p = get(); return !!p && p.isReady; }, Math.max(0, deadline - now()), signal);
        if (ok) io.out(`pod/${name} condition met\n`);
        else { io.err(`error: timed out waiting for the condition on pods/${name}\n`); code = 1; }
      } else {
        throw new UsageError(`--for=${forWhat}`);
      }
    }
    return code;
  }

  /**
   * -c NAME, or the first container (with kubectl's note when there are more).
   * @param {import('./pod').Pod} pod
   * @param {string | undefined} name
   * @param {IO} io
   */
  pickContainer(pod, name, io) {
    if (!name) {
      if (pod.containers.length > 1) io.err(`Defaulted container "${pod.containers[0].name}" out of: ${pod.containers.map((c) => c.name).join(', ')}\n`);
      return pod.containers[0];
    }
    return pod.containers.find((c) => c.name === name);
  }

  /** @param {string[]} args @param {string} ns @param {IO} io @param {AbortSignal} signal @returns {Promise<number>} */
  async exec(args, ns, io, signal) {
    const { flags, pos, rest } = parseFlags(args, ['-c', '--container'], []);
    if (pos.length !== 1 || !rest || !rest.length) throw new UsageError('exec POD [-c C] -- CMD');
    let podName = pos[0];
    if (podName.includes('/')) { const [k, n] = podName.split('/'); if (this.kindOf(k) !== 'Pod') throw new UsageError(podName); podName = n; }
    const pod = this.cluster.pod(ns, podName);
    if (!pod) { io.err(`Error from server (NotFound): pods "${podName}" not found\n`); return 1; }
    const c = this.pickContainer(pod, one(flags, '-c', '--container'), io);
    if (!c) { io.err(`error: container ${one(flags, '-c', '--container')} not found in pod ${podName}\n`); return 1; }
    if (!c.proc || pod.terminating || !pod.holder) { io.err(`error: unable to upgrade connection: container not found ("${c.name}")\n`); return 1; }
    const p = this.cluster.runtime.containers.enter(c, rest, ['ignore', 'pipe', 'pipe']);
    return new Promise((resolve) => {
      p.stdout?.on('data', (d) => io.out(d));
      p.stderr?.on('data', (d) => io.err(d));
      const kill = () => signalGroup(p.pid, 'SIGKILL');
      if (signal) signal.addEventListener('abort', kill);
      p.on('error', (e) => { io.err(`error: ${e.message}\n`); resolve(126); });
      p.on('close', (code, sig) => {
        if (signal) signal.removeEventListener('abort', kill);
        if (code === null) io.err(`command terminated by signal ${sig}\n`);
        resolve(code === null ? 137 : code);
      });
    });
  }

  /** @param {string[]} args @param {string} ns @param {IO} io */
  async logs(args, ns, io) {
    const { flags, pos } = parseFlags(args, ['-c', '--container', '--tail'], ['--previous', '-p']);
    if (pos.length !== 1) throw new UsageError('logs POD -c C');
    const pod = this.cluster.pod(ns, pos[0]);
    if (!pod) { io.err(`Error from server (NotFound): pods "${pos[0]}" not found\n`); return 1; }
    const c = this.pickContainer(pod, one(flags, '-c', '--container'), io);
    if (!c) { io.err(`error: container ${one(flags, '-c', '--container')} is not valid for pod ${pos[0]}\n`); return 1; }
    const previous = one(flags, '--previous', '-p') === 'true';
    // Current: the latest instance (running or terminated); previous: the one before it.
    const instance = previous ? c.instance - 1 : c.instance;
    const file = c.logPath(instance);
    if (previous && (instance < 0 || !fs.existsSync(file))) {
      io.err(`Error from server (BadRequest): previous terminated container "${c.name}" in pod "${pod.name}" not found\n`);
      return 1;
    }
    let text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    const tail = one(flags, '--tail');
    if (tail !== undefined && Number(tail) >= 0) {
      const lines = text.split('\n');
      if (lines[lines.length - 1] === '') lines.pop();
      text = lines.slice(-Number(tail)).map((l) => `${l}\n`).join('');
    }
    io.out(text);
    return 0;
  }

  /** @param {string[]} args @param {string} ns @param {string} cwd @param {IO} io @param {AbortSignal} signal */
  async delete(args, ns, cwd, io, signal) {
    const { flags, pos } = parseFlags(args, ['-f', '--filename', '--timeout', '--grace-period'], ['--ignore-not-found', '--wait']);
    const ignore = one(flags, '--ignore-not-found') === 'true';
    const wait = one(flags, '--wait') !== 'false';
    const timeout = parseDuration(one(flags, '--timeout'), 0);
    const g = one(flags, '--grace-period');
    if (g !== undefined && !/^-?\d+$/.test(g)) throw new UsageError(`--grace-period=${g}`);
    const gracePeriod = g === undefined || Number(g) < 0 ? undefined : Number(g);
    /** @type {Array<{ kind: string, name: string, ns: string }>} */
    let targets = [];
    const files = [...(flags['-f'] || []), ...(flags['--filename'] || [])];
    if (files.length) {
      if (pos.length) throw new UsageError('delete -f with names');
      for (const f of files) for (const file of manifestFiles(f, cwd)) for (const d of readDocs(file)) {
        if (!this.cluster.kinds.has(d.kind)) throw new Unsupported(`kind ${d.kind}`);
        targets.push({ kind: d.kind, name: d.metadata.name, ns: (d.metadata && d.metadata.namespace) || ns });
      }
    } else {
      const named = this.targets(pos);
      if (named.some((t) => !t.name)) throw new UsageError('delete needs names (or -f)');
      targets = named.map((t) => ({ kind: t.kind, name: String(t.name), ns }));
    }
    let code = 0;
    const waits = [];
    for (const t of targets) {
      const obj = this.cluster.get(t.kind, t.ns, t.name);
      if (!obj) {
        if (!ignore) { io.err(`Error from server (NotFound): ${this.resource(t.kind)} "${t.name}" not found\n`); code = 1; }
        continue;
      }
      const p = this.cluster.delete(t.kind, t.ns, t.name, { gracePeriod });
      io.out(`${this.qualified(t.kind)} "${t.name}" deleted\n`);
      waits.push(p);
    }
    if (wait && waits.length) {
      /** @type {Array<Promise<unknown>>} */
      const limits = [Promise.all(waits)];
      if (timeout > 0) limits.push(new Promise((r) => setTimeout(() => r('timeout'), timeout)));
      if (signal) limits.push(new Promise((r) => signal.addEventListener('abort', () => r('abort'))));
      const r = await Promise.race(limits);
      if (r === 'timeout') { io.err('error: timed out waiting for the condition\n'); code = 1; }
    }
    return code;
  }
}

/**
 * kubectl's StatefulSet rollout status viewer (polymorphichelpers/rollout_status.go), on a view:
 * its message and whether the rollout is done. The API server defaults rollingUpdate.partition to
 * 0, so a RollingUpdate set always takes the partitioned branch.
 * @param {any} v
 * @returns {{ message: string, done: boolean } | { error: string }}
 */
function statefulSetRollout(v) {
  const spec = v.spec;
  const st = v.status;
  if (spec.updateStrategy.type !== 'RollingUpdate') return { error: 'error: rollout status is only available for RollingUpdate strategy type' };
  if (!st.observedGeneration || v.metadata.generation > st.observedGeneration) return { message: 'Waiting for statefulset spec update to be observed...\n', done: false };
  if (st.readyReplicas < spec.replicas) return { message: `Waiting for ${spec.replicas - st.readyReplicas} pods to be ready...\n`, done: false };
  const partition = spec.updateStrategy.rollingUpdate.partition;
  if (st.updatedReplicas < spec.replicas - partition) {
    return { message: `Waiting for partitioned roll out to finish: ${st.updatedReplicas} out of ${spec.replicas - partition} new pods have been updated...\n`, done: false };
  }
  return { message: `partitioned roll out complete: ${st.updatedReplicas} new pods have been updated...\n`, done: true };
}

module.exports = { Kubectl };
