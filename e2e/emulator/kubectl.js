'use strict';
// The kubectl verbs and flags the launch script and the e2e tests use, and nothing else:
// anything outside this list fails with "kubectl emulator: unsupported: <args>" and exit 1.

const fs = require('fs');
const path = require('path');
const YAML = require('yaml');
const { spawn } = require('child_process');
const { Unsupported, matchLabels, now } = require('./cluster');
const jsonpath = require('./jsonpath');

const KINDS = {
  pod: 'Pod', pods: 'Pod', po: 'Pod',
  rc: 'ReplicationController', replicationcontroller: 'ReplicationController', replicationcontrollers: 'ReplicationController',
  svc: 'Service', service: 'Service', services: 'Service',
  configmap: 'ConfigMap', configmaps: 'ConfigMap', cm: 'ConfigMap',
  secret: 'Secret', secrets: 'Secret',
};
const RESOURCE = { Pod: 'pods', ReplicationController: 'replicationcontrollers', Service: 'services', ConfigMap: 'configmaps', Secret: 'secrets' };
const LOWER = { Pod: 'pod', ReplicationController: 'replicationcontroller', Service: 'service', ConfigMap: 'configmap', Secret: 'secret' };

class UsageError extends Error {}

function kindOf(word) {
  const k = KINDS[String(word).toLowerCase()];
  if (!k) throw new UsageError(`resource type ${word}`);
  return k;
}

// Split "--flag=value" / "--flag value" / "-f value"; valueFlags take a value.
function parseFlags(args, valueFlags, boolFlags) {
  const flags = {};
  const pos = [];
  let rest = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') { rest = args.slice(i + 1); break; }
    if (a.startsWith('-') && a !== '-') {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(0, eq) : a;
      if (valueFlags.includes(name)) {
        const v = eq > 0 ? a.slice(eq + 1) : args[++i];
        if (v === undefined) throw new UsageError(`flag ${name} needs a value`);
        (flags[name] = flags[name] || []).push(v);
      } else if (boolFlags.includes(name)) {
        const v = eq > 0 ? a.slice(eq + 1) : 'true';
        if (!['true', 'false'].includes(v)) throw new UsageError(`flag ${a}`);
        flags[name] = [v];
      } else {
        throw new UsageError(`flag ${a}`);
      }
    } else {
      pos.push(a);
    }
  }
  return { flags, pos, rest };
}

function one(flags, ...names) {
  for (const n of names) if (flags[n]) return flags[n][flags[n].length - 1];
  return undefined;
}

function parseSelector(sel) {
  const terms = [];
  for (const part of String(sel).split(',').map((s) => s.trim()).filter(Boolean)) {
    let m;
    if ((m = /^([^!=]+)!=(.*)$/.exec(part))) terms.push({ k: m[1], op: '!=', v: m[2] });
    else if ((m = /^([^!=]+)==?(.*)$/.exec(part))) terms.push({ k: m[1], op: '=', v: m[2] });
    else if ((m = /^!([^!=]+)$/.exec(part))) terms.push({ k: m[1], op: '!' });
    else if (/^[A-Za-z0-9._\/-]+$/.test(part)) terms.push({ k: part, op: 'exists' });
    else throw new UsageError(`label selector ${sel}`);
  }
  return (labels) => terms.every((t) => {
    const has = Object.prototype.hasOwnProperty.call(labels || {}, t.k);
    if (t.op === '=') return has && labels[t.k] === t.v;
    if (t.op === '!=') return !has || labels[t.k] !== t.v;
    if (t.op === '!') return !has;
    return has;
  });
}

function parseDuration(s, dflt) {
  if (s === undefined) return dflt;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(String(s));
  if (!m) throw new UsageError(`duration ${s}`);
  const mult = { ms: 1, s: 1000, m: 60000, h: 3600000 }[m[2] || 's'];
  return Number(m[1]) * mult;
}

function manifestFiles(target, cwd) {
  const p = path.resolve(cwd, target);
  if (!fs.existsSync(p)) throw new Error(`error: the path "${target}" does not exist`);
  if (fs.statSync(p).isDirectory()) {
    return fs.readdirSync(p).filter((f) => /\.(ya?ml|json)$/.test(f)).sort().map((f) => path.join(p, f))
      .filter((f) => fs.statSync(f).isFile());
  }
  return [p];
}

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

function age(t) {
  const s = Math.floor((now() - t) / 1000);
  return s < 120 ? `${s}s` : `${Math.floor(s / 60)}m`;
}

function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? String(c) : String(c).padEnd(widths[i] + 3))).join('')).join('\n') + '\n';
}

class Kubectl {
  constructor(cluster) {
    this.cluster = cluster;
  }

  // io: { out(s), err(s) }; returns exit code. Long-running verbs (exec) stream through io.
  async run(argv, cwd, io, signal) {
    try {
      return await this.dispatch(argv, cwd, io, signal);
    } catch (e) {
      if (e instanceof UsageError || e instanceof Unsupported) {
        io.err(`kubectl emulator: unsupported: ${argv.join(' ')} (${e.message})\n`);
        return 1;
      }
      io.err(`${e.message.startsWith('error') || e.message.startsWith('Error') ? '' : 'error: '}${e.message}\n`);
      return 1;
    }
  }

  async dispatch(argv, cwd, io, signal) {
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
      case 'get': return this.get(args, ns, io);
      case 'scale': return this.scale(args, ns, io);
      case 'wait': return this.wait(args, ns, io, signal);
      case 'exec': return this.exec(args, ns, io, signal);
      case 'logs': return this.logs(args, ns, io);
      case 'delete': return this.delete(args, ns, cwd, io, signal);
      default: throw new UsageError(`verb ${verb}`);
    }
  }

  async apply(args, ns, cwd, io) {
    const { flags, pos } = parseFlags(args, ['-f', '--filename'], []);
    if (pos.length || !flags['-f'] && !flags['--filename']) throw new UsageError('apply needs -f and nothing else');
    let code = 0;
    for (const target of [...(flags['-f'] || []), ...(flags['--filename'] || [])]) {
      for (const file of manifestFiles(target, cwd)) {
        for (const doc of readDocs(file)) {
          try {
            const result = await this.cluster.apply(doc, ns);
            io.out(`${LOWER[doc.kind] || doc.kind.toLowerCase()}/${doc.metadata.name} ${result}\n`);
          } catch (e) {
            if (e instanceof Unsupported) throw e;
            io.err(`Error from server: error when applying ${file}: ${e.message}\n`);
            code = 1;
          }
        }
      }
    }
    return code;
  }

  // "pod NAME", "pod/NAME", "pods" → [{kind, name?}]
  targets(pos) {
    if (!pos.length) throw new UsageError('no resource type');
    if (pos[0].includes('/')) {
      return pos.map((p) => { const [k, n] = p.split('/'); if (!n) throw new UsageError(p); return { kind: kindOf(k), name: n }; });
    }
    const kind = kindOf(pos[0]);
    if (pos.length === 1) return [{ kind }];
    return pos.slice(1).map((n) => ({ kind, name: n }));
  }

  async get(args, ns, io) {
    const { flags, pos } = parseFlags(args, ['-l', '--selector', '-o', '--output', '--field-selector'], ['--ignore-not-found']);
    const targets = this.targets(pos);
    const selector = one(flags, '-l', '--selector');
    const output = one(flags, '-o', '--output');
    const ignore = one(flags, '--ignore-not-found') === 'true';
    const field = one(flags, '--field-selector');
    let fieldFilter = () => true;
    if (field !== undefined) {
      const m = /^status\.phase(!?=)(\w+)$/.exec(field);
      if (!m) throw new UsageError(`field selector ${field}`);
      fieldFilter = (v) => ((v.status && v.status.phase) === m[2]) === (m[1] === '=');
    }
    if (output !== undefined && output !== 'name' && !output.startsWith('jsonpath=')) throw new UsageError(`output ${output}`);
    const named = targets.every((t) => t.name);
    if (!named && targets.length > 1) throw new UsageError('mixed targets');
    if (named && selector) throw new UsageError('name and selector');
    let views = [];
    let code = 0;
    if (named) {
      for (const t of targets) {
        const obj = this.cluster.getObject(t.kind, ns, t.name);
        if (!obj) {
          if (!ignore) { io.err(`Error from server (NotFound): ${RESOURCE[t.kind]} "${t.name}" not found\n`); code = 1; }
          continue;
        }
        views.push(this.cluster.objectView(obj));
      }
    } else {
      const sel = selector ? parseSelector(selector) : () => true;
      views = this.cluster.listObjects(targets[0].kind, ns)
        .map((o) => this.cluster.objectView(o))
        .filter((v) => sel(v.metadata.labels || {}))
        .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    }
    views = views.filter(fieldFilter);
    if (output === 'name') {
      for (const v of views) io.out(`${LOWER[v.kind]}/${v.metadata.name}\n`);
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

  tableFor(kind, views) {
    if (kind === 'Pod') {
      return table([['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'], ...views.map((v) => {
        const cs = v.status.containerStatuses;
        const status = v.metadata.deletionTimestamp ? 'Terminating' : v.status.phase;
        return [v.metadata.name, `${cs.filter((c) => c.ready).length}/${cs.length}`, status, cs.reduce((a, c) => a + c.restartCount, 0), age(Date.parse(v.metadata.creationTimestamp))];
      })]);
    }
    if (kind === 'ReplicationController') {
      return table([['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE'], ...views.map((v) => [v.metadata.name, v.spec.replicas, v.status.replicas, v.status.readyReplicas, age(Date.parse(v.metadata.creationTimestamp))])]);
    }
    if (kind === 'Service') {
      return table([['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'], ...views.map((v) => [v.metadata.name, v.spec.type, v.spec.clusterIP, '<none>', (v.spec.ports || []).map((p) => `${p.port}/${p.protocol || 'TCP'}`).join(','), age(Date.parse(v.metadata.creationTimestamp))])]);
    }
    return table([['NAME', 'DATA', 'AGE'], ...views.map((v) => [v.metadata.name, Object.keys(v.data || {}).length, age(Date.parse(v.metadata.creationTimestamp))])]);
  }

  async scale(args, ns, io) {
    const { flags, pos } = parseFlags(args, ['--replicas'], []);
    const t = this.targets(pos);
    const replicas = one(flags, '--replicas');
    if (t.length !== 1 || !t[0].name || t[0].kind !== 'ReplicationController' || !/^\d+$/.test(replicas || '')) throw new UsageError('scale rc NAME --replicas=N');
    const rc = this.cluster.getObject('ReplicationController', ns, t[0].name);
    if (!rc) { io.err(`Error from server (NotFound): replicationcontrollers "${t[0].name}" not found\n`); return 1; }
    rc.live.replicas = Number(replicas);
    this.cluster.event(`scaled rc ${rc.name} to ${replicas}`);
    this.cluster.reconcile();
    this.cluster.changed();
    io.out(`replicationcontroller/${rc.name} scaled\n`);
    return 0;
  }

  waitFor(pred, timeoutMs, signal) {
    return new Promise((resolve) => {
      const c = this.cluster;
      let timer = null;
      const finish = (ok) => { c.off('change', check); clearTimeout(timer); clearInterval(poll); resolve(ok); };
      const check = () => { if (pred()) finish(true); else if (signal && signal.aborted) finish(false); };
      const poll = setInterval(check, 250);
      timer = setTimeout(() => finish(pred()), timeoutMs);
      c.on('change', check);
      check();
    });
  }

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
      names = this.cluster.listObjects('Pod', ns).filter((o) => sel(o.pod.labels)).map((o) => o.name);
      if (!names.length) { io.err(`error: no matching resources found\n`); return 1; }
    } else {
      if (targets.some((t) => !t.name)) throw new UsageError('wait needs pod/NAME or -l');
      names = targets.map((t) => t.name);
    }
    let code = 0;
    const deadline = now() + timeout;
    for (const name of names) {
      const get = () => { const o = this.cluster.getObject('Pod', ns, name); return o && o.pod; };
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

  findPod(ns, name) {
    const o = this.cluster.getObject('Pod', ns, name);
    return o && o.pod;
  }

  pickContainer(pod, name, io) {
    if (!name) {
      if (pod.containers.length > 1) io.err(`Defaulted container "${pod.containers[0].name}" out of: ${pod.containers.map((c) => c.name).join(', ')}\n`);
      return pod.containers[0];
    }
    return pod.containers.find((c) => c.name === name);
  }

  async exec(args, ns, io, signal) {
    const { flags, pos, rest } = parseFlags(args, ['-c', '--container'], []);
    if (pos.length !== 1 || !rest || !rest.length) throw new UsageError('exec POD [-c C] -- CMD');
    let podName = pos[0];
    if (podName.includes('/')) { const [k, n] = podName.split('/'); if (kindOf(k) !== 'Pod') throw new UsageError(podName); podName = n; }
    const pod = this.findPod(ns, podName);
    if (!pod) { io.err(`Error from server (NotFound): pods "${podName}" not found\n`); return 1; }
    const c = this.pickContainer(pod, one(flags, '-c', '--container'), io);
    if (!c) { io.err(`error: container ${one(flags, '-c', '--container')} not found in pod ${podName}\n`); return 1; }
    if (!c.proc || pod.terminating || !pod.holder) { io.err(`error: unable to upgrade connection: container not found ("${c.name}")\n`); return 1; }
    const env = this.cluster.containerEnv(c).env;
    return new Promise((resolve) => {
      const p = spawn('nsenter', [...this.cluster.nsenterArgs(pod, c.spec.workingDir), ...rest], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      p.stdout.on('data', (d) => io.out(d));
      p.stderr.on('data', (d) => io.err(d));
      const kill = () => { try { process.kill(-p.pid, 'SIGKILL'); } catch (e) { /* gone */ } };
      if (signal) signal.addEventListener('abort', kill);
      p.on('error', (e) => { io.err(`error: ${e.message}\n`); resolve(126); });
      p.on('close', (code, sig) => {
        if (signal) signal.removeEventListener('abort', kill);
        if (code === null) io.err(`command terminated by signal ${sig}\n`);
        resolve(code === null ? 137 : code);
      });
    });
  }

  async logs(args, ns, io) {
    const { flags, pos } = parseFlags(args, ['-c', '--container', '--tail'], ['--previous', '-p']);
    if (pos.length !== 1) throw new UsageError('logs POD -c C');
    const pod = this.findPod(ns, pos[0]);
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

  async delete(args, ns, cwd, io, signal) {
    const { flags, pos } = parseFlags(args, ['-f', '--filename', '--timeout', '--grace-period'], ['--ignore-not-found', '--wait']);
    const ignore = one(flags, '--ignore-not-found') === 'true';
    const wait = one(flags, '--wait') !== 'false';
    const timeout = parseDuration(one(flags, '--timeout'), 0);
    const g = one(flags, '--grace-period');
    if (g !== undefined && !/^-?\d+$/.test(g)) throw new UsageError(`--grace-period=${g}`);
    const gracePeriod = g === undefined || Number(g) < 0 ? undefined : Number(g);
    let targets = [];
    const files = [...(flags['-f'] || []), ...(flags['--filename'] || [])];
    if (files.length) {
      if (pos.length) throw new UsageError('delete -f with names');
      for (const f of files) for (const file of manifestFiles(f, cwd)) for (const d of readDocs(file)) {
        if (!RESOURCE[d.kind]) throw new Unsupported(`kind ${d.kind}`);
        targets.push({ kind: d.kind, name: d.metadata.name, ns: (d.metadata && d.metadata.namespace) || ns });
      }
    } else {
      targets = this.targets(pos).map((t) => ({ ...t, ns }));
      if (targets.some((t) => !t.name)) throw new UsageError('delete needs names (or -f)');
    }
    let code = 0;
    const waits = [];
    for (const t of targets) {
      const obj = this.cluster.getObject(t.kind, t.ns, t.name);
      if (!obj) {
        if (!ignore) { io.err(`Error from server (NotFound): ${RESOURCE[t.kind]} "${t.name}" not found\n`); code = 1; }
        continue;
      }
      const p = this.cluster.deleteObject(t.kind, t.ns, t.name, { gracePeriod });
      io.out(`${LOWER[t.kind]} "${t.name}" deleted\n`);
      waits.push(p);
    }
    if (wait && waits.length) {
      const all = Promise.all(waits);
      const limits = [all];
      if (timeout > 0) limits.push(new Promise((r) => setTimeout(() => r('timeout'), timeout)));
      if (signal) limits.push(new Promise((r) => signal.addEventListener('abort', () => r('abort'))));
      const r = await Promise.race(limits);
      if (r === 'timeout') { io.err('error: timed out waiting for the condition\n'); code = 1; }
    }
    return code;
  }
}

module.exports = { Kubectl, parseSelector };
