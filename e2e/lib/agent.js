// @ts-check
'use strict';
// Runs inside the client pod (its network and mount namespaces), so it reaches Redis only the way
// an application in the cluster would: by the sentinel Service's name, or by pod IP. The test
// starts it through the harness; it prints one JSON line with its result (and, for the long-running
// modes, stops on "stop" from stdin).
//
//   agent.js state                      roles as each Redis and each Sentinel pod reports them
//   agent.js write-wait PREFIX N        N keys through the current master, each acknowledged by WAIT 1
//   agent.js read PREFIX N              which of PREFIX:0..N-1 the current master lacks
//   agent.js writer PREFIX              ioredis (sentinels option) writing until "stop"
//   agent.js monitor                    polls every Redis pod: how many masters accept writes at once
//   agent.js events                     sentinel pub/sub events (+sdown, +odown, +switch-master, ...)
//   agent.js security                   what a pod gets without a password and with the client
//                                       password: refused commands, a forged sentinel hello
//   agent.js reach                      which Redis and Sentinel ports of the pods it can connect to
//
// It logs in as an application does: with the client password from its env (REDIS_PASSWORD, a
// secretKeyRef). What only an operator may ask (CKQUORUM, every sentinel event) it asks as the
// admin user, with the password read from a file of the Secret's volume, never from the env.
// Without those (auth: false) it logs in as nobody.

const fs = require('fs');
const net = require('net');
const path = require('path');
const resp = require('./resp');

const SENTINEL_HOST = process.env.K8E_SENTINEL_HOST || 'redis-sentinel';
const SENTINEL_PORT = Number(process.env.K8E_SENTINEL_PORT || 26379);
const MASTER_NAME = process.env.K8E_MASTER_NAME || 'mymaster';
const REDIS_PORT = Number(process.env.K8E_REDIS_PORT || 6379);
const ADMIN_PASSWORD_FILE = process.env.K8E_ADMIN_PASSWORD_FILE || '/etc/k8e-admin/admin-password';
// The StatefulSet topology's pods are known by stable names, <pod>.<K8E_POD_DOMAIN>
// (e.g. redis-ha-0.redis-ha-headless.default.svc); the classic one's by IP.
const POD_DOMAIN = process.env.K8E_POD_DOMAIN || '';

/**
 * The AUTH command of each login: the client password from the env, the admin's from its file,
 * or none.
 * @param {'client' | 'admin' | 'nobody'} who
 * @returns {string[][]}
 */
function login(who) {
  if (who === 'client') return process.env.REDIS_PASSWORD ? [['AUTH', process.env.REDIS_PASSWORD]] : [];
  if (who === 'admin') {
    try { return [['AUTH', 'admin', fs.readFileSync(ADMIN_PASSWORD_FILE, 'utf8')]]; } catch { return []; }
  }
  return [];
}

/**
 * resp.call after logging in as `who`; a refused login throws.
 * @param {'client' | 'admin' | 'nobody'} who
 * @param {string} host
 * @param {number} port
 * @param {Array<Array<string | number>>} commands
 * @param {number} [timeoutMs]
 * @returns {Promise<resp.Reply[]>}
 */
async function callAs(who, host, port, commands, timeoutMs) {
  const auth = login(who);
  const replies = await resp.call(host, port, [...auth, ...commands], timeoutMs);
  if (auth.length && replies[0] !== 'OK') throw new Error(`login as ${who} at ${host}:${port}: ${message(replies[0])}`);
  return replies.slice(auth.length);
}

/** @param {'client' | 'admin' | 'nobody'} who @param {string} host @param {number} port @param {Array<string | number>} args @param {number} [timeoutMs] */
async function oneAs(who, host, port, args, timeoutMs) {
  const [r] = await callAs(who, host, port, [args], timeoutMs);
  return r;
}

/**
 * @typedef {{ pod: string, ip: string, host: string, role?: string, masterHost?: string, link?: string, connectedSlaves?: number, dbsize?: unknown, pingPeriod?: string, error?: string }} RedisState
 *   pingPeriod: repl-ping-replica-period, which a handover stops while writes are paused
 * @typedef {{ pod: string, ip: string, host: string, master?: string | null, ckquorum?: unknown, knownSentinels?: string[], knownReplicas?: string[], error?: string }} SentinelState
 * @typedef {{ redis: RedisState[], sentinels: SentinelState[] }} ClusterState
 * @typedef {{ name: string, ip: string, phase: string, terminating: boolean, containers: Array<{ name: string }> }} PodSummary what the daemon's `pods` op reports (in part)
 */

/** @param {number} ms @returns {Promise<void>} */
function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

/** One request to the emulator daemon. @param {{ op: string }} req @returns {Promise<any>} */
function daemon(req) {
  return new Promise((resolve, reject) => {
    const c = net.connect(String(process.env.K8E_SOCKET));
    let buf = '';
    c.on('connect', () => c.write(`${JSON.stringify(req)}\n`));
    c.on('data', (d) => { buf += d; });
    c.on('error', reject);
    c.on('close', () => {
      const m = buf.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((x) => x.t === 'result' || x.t === 'error');
      if (!m || m.t === 'error') reject(new Error(m ? m.message : 'no answer')); else resolve(m);
    });
  });
}

/** Running pods with a container that containerName accepts. @param {(name: string) => boolean} containerName @returns {Promise<PodSummary[]>} */
async function podsWith(containerName) {
  /** @type {{ pods: PodSummary[] }} */
  const { pods } = await daemon({ op: 'pods' });
  return pods.filter((p) => !p.terminating && p.phase === 'Running' && p.containers.some((c) => containerName(c.name)));
}

/** @param {string} n */
const isRedis = (n) => n === 'redis' || n === 'master';
/** @param {string} n */
const isSentinel = (n) => n === 'sentinel';

/** @param {unknown} e */
function message(e) { return /** @type {Error} */ (e).message; }

/** What the cluster knows a pod by: its stable name, or its IP. @param {PodSummary} p */
function hostOf(p) { return POD_DOMAIN ? `${p.name}.${POD_DOMAIN}` : p.ip; }

/** @returns {Promise<ClusterState>} */
async function state() {
  /** @type {ClusterState} */
  const out = { redis: [], sentinels: [] };
  for (const p of await podsWith(isRedis)) {
    /** @type {RedisState} */
    const r = { pod: p.name, ip: p.ip, host: hostOf(p) };
    try {
      const info = await oneAs('client', p.ip, REDIS_PORT, ['INFO', 'replication'], 1500);
      r.role = resp.infoField(info, 'role');
      r.masterHost = resp.infoField(info, 'master_host');
      r.link = resp.infoField(info, 'master_link_status');
      r.connectedSlaves = Number(resp.infoField(info, 'connected_slaves') || 0);
      const keys = await oneAs('client', p.ip, REDIS_PORT, ['DBSIZE'], 1500);
      r.dbsize = keys;
      const ping = await oneAs('admin', p.ip, REDIS_PORT, ['CONFIG', 'GET', 'repl-ping-replica-period'], 1500);
      r.pingPeriod = Array.isArray(ping) ? String(ping[1]) : String(ping);
    } catch (e) { r.error = message(e); }
    out.redis.push(r);
  }
  for (const p of await podsWith(isSentinel)) {
    /** @type {SentinelState} */
    const s = { pod: p.name, ip: p.ip, host: hostOf(p) };
    try {
      const [addr, sentinels, replicas] = await callAs('client', p.ip, SENTINEL_PORT, [
        ['SENTINEL', 'get-master-addr-by-name', MASTER_NAME], ['SENTINEL', 'sentinels', MASTER_NAME], ['SENTINEL', 'replicas', MASTER_NAME]], 1500);
      const ck = await oneAs('admin', p.ip, SENTINEL_PORT, ['SENTINEL', 'ckquorum', MASTER_NAME], 1500);
      s.master = Array.isArray(addr) ? addr[0] : null;
      s.ckquorum = ck instanceof Error ? ck.message : ck;
      /** SENTINEL sentinels / replicas: a flat name-value list per entry. @param {resp.Reply} arr */
      const flags = (arr) => (Array.isArray(arr) ? arr : []).map((e) => {
        /** @type {Record<string, string>} */
        const o = {};
        for (let i = 0; i < e.length; i += 2) o[e[i]] = e[i + 1];
        return o;
      });
      s.knownSentinels = flags(sentinels).map((o) => `${o.ip}:${o.flags}`);
      s.knownReplicas = flags(replicas).map((o) => `${o.ip}:${o.flags}`);
    } catch (e) { s.error = message(e); }
    out.sentinels.push(s);
  }
  return out;
}

/** The master the sentinel Service names. @returns {Promise<{ host: string, port: number }>} */
async function currentMaster() {
  // A connection to the Service can land on a sentinel that its janitor is restarting (pruning, for
  // a moment, while its readiness probe still passes) and be refused: ask again, as a client would.
  for (let attempt = 1; ; attempt++) {
    try {
      const addr = await oneAs('client', SENTINEL_HOST, SENTINEL_PORT, ['SENTINEL', 'get-master-addr-by-name', MASTER_NAME], 2000);
      if (!Array.isArray(addr)) throw new Error(`no master from ${SENTINEL_HOST}: ${addr}`);
      return { host: addr[0], port: Number(addr[1]) };
    } catch (e) {
      if (attempt >= 5 || !/ECONNREFUSED|ECONNRESET/.test(String(e))) throw e;
      await sleep(500);
    }
  }
}

/** @param {string} prefix @param {number} n */
async function writeWait(prefix, n) {
  const m = await currentMaster();
  /** @type {string[]} */
  const acked = [];
  /** @type {string[]} */
  const notAcked = [];
  const batch = 50;
  for (let i = 0; i < n; i += batch) {
    /** @type {string[][]} */
    const cmds = [];
    for (let j = i; j < Math.min(n, i + batch); j++) cmds.push(['SET', `${prefix}:${j}`, `v${j}`]);
    cmds.push(['WAIT', '1', '2000']);
    const replies = await callAs('client', m.host, m.port, cmds, 5000);
    const waited = replies[replies.length - 1];
    for (let j = 0; j < cmds.length - 1; j++) {
      const ok = replies[j] === 'OK' && typeof waited === 'number' && waited >= 1;
      (ok ? acked : notAcked).push(cmds[j][1]);
    }
  }
  return { master: m.host, acked: acked.length, notAcked: notAcked.length };
}

/** @param {string} prefix @param {number} n */
async function read(prefix, n) {
  const m = await currentMaster();
  const batch = 200;
  /** @type {string[]} */
  const keys = [];
  for (let j = 0; j < n; j++) keys.push(`${prefix}:${j}`);
  const missing = await missingKeys(m, keys, batch);
  return { master: m.host, checked: n, missing: missing.length, sample: missing.slice(0, 10) };
}

/**
 * The keys a server lacks, asked in batches.
 * @param {{ host: string, port: number }} m
 * @param {string[]} keys
 * @param {number} batch
 * @param {boolean} [present] list the keys it has instead
 */
async function missingKeys(m, keys, batch, present = false) {
  /** @type {string[]} */
  const out = [];
  for (let i = 0; i < keys.length; i += batch) {
    const chunk = keys.slice(i, i + batch);
    const [vals] = await callAs('client', m.host, m.port, [['MGET', ...chunk]], 5000);
    /** @type {unknown[]} */ (vals).forEach((v, k) => { if ((v === null) !== present) out.push(chunk[k]); });
  }
  return out;
}

/** @param {() => void} fn called on "stop" from stdin or SIGTERM */
function onStop(fn) {
  let buf = '';
  process.stdin.on('data', (d) => { buf += d; if (buf.includes('stop')) fn(); });
  process.on('SIGTERM', fn);
}

/** A Sentinel-aware application: ioredis with the sentinels option, through the sentinel Service. @param {string} prefix */
async function writer(prefix) {
  const Redis = require(require.resolve('ioredis', { paths: [path.resolve(__dirname, '../..')] }));
  const r = new Redis({
    sentinels: [{ host: SENTINEL_HOST, port: SENTINEL_PORT }],
    name: MASTER_NAME,
    // The client password logs in to Redis and to the sentinels alike (README, docs/security.md).
    password: process.env.REDIS_PASSWORD,
    sentinelPassword: process.env.REDIS_PASSWORD,
    connectTimeout: 1000,
    commandTimeout: 1500,
    maxRetriesPerRequest: 0,
    retryStrategy: () => 100,
    sentinelRetryStrategy: () => 100,
    reconnectOnError: (/** @type {Error} */ err) => (/READONLY|NOREPLICAS/.test(err.message) ? 2 : false),
    // ioredis' opt-in failoverDetector reconnects on +switch-master; when a second sentinel's
    // +switch-master arrives while it is reconnecting, the client ends for good ("Connection is
    // closed"), which is what the e2e runs showed. Defaults here, as most applications run it.
    lazyConnect: false,
  });
  r.on('error', () => { /* counted per command */ });
  let stopping = false;
  onStop(() => { stopping = true; });
  /** @type {string[]} */
  const acked = [];
  /** @type {string[]} */
  const masterOnly = [];
  /** @type {Record<string, number>} */
  const errors = {};
  /** @type {number[]} */
  const okTimes = [];
  let seq = 0;
  const started = Date.now();
  while (!stopping) {
    const key = `${prefix}:${seq++}`;
    try {
      await r.set(key, String(Date.now()));
      const n = await r.wait(1, 1000);
      if (n >= 1) { acked.push(key); okTimes.push(Date.now()); } else masterOnly.push(key);
    } catch (e) {
      const kind = message(e).replace(/[0-9.:]+/g, '#').slice(0, 60);
      errors[kind] = (errors[kind] || 0) + 1;
      await sleep(20);
    }
    await sleep(5);
  }
  const stopped = Date.now();
  // Verify against the master the sentinels name now, with a fresh one-shot client.
  /** @type {number | null} */
  let lost = null;
  /** @type {string[]} */
  let lostSample = [];
  let verifyMaster = null;
  for (let attempt = 0; attempt < 20 && lost === null; attempt++) {
    try {
      const m = await currentMaster();
      verifyMaster = m.host;
      const missing = await missingKeys(m, acked, 500);
      const masterOnlyPresent = await missingKeys(m, masterOnly, 500, true);
      lost = missing.length;
      lostSample = missing.slice(0, 10);
      errors.masterOnlyPresentAfter = masterOnlyPresent.length;
    } catch { await sleep(500); }
  }
  let longestGap = 0;
  /** @type {number | null} */
  let gapEnd = null;
  let prev = started;
  for (const t of [...okTimes, stopped]) {
    if (t - prev > longestGap) { longestGap = t - prev; gapEnd = t; }
    prev = t;
  }
  r.disconnect();
  return {
    attempted: seq, acked: acked.length, masterOnly: masterOnly.length, errors, lost, lostSample,
    verifyMaster, longestGapMs: longestGap, longestGapEndedAt: gapEnd, okTimes: process.env.K8E_OK_TIMES ? okTimes : undefined,
    started, stopped,
  };
}

// Split-brain watch: every 200 ms, every Redis pod is asked for its role, and every one that says
// master gets a probe write. Two or more accepting a write in the same round is a split brain.
async function monitor() {
  let stopping = false;
  onStop(() => { stopping = true; });
  let rounds = 0;
  let maxAccepting = 0;
  /** @type {Array<{ t: number, accepting: string[] }>} */
  const splitRounds = [];
  /** @type {Array<{ t: number, accepting: string[] }>} */
  const masterTimeline = [];
  let lastMasters = '';
  while (!stopping) {
    rounds++;
    /** @type {PodSummary[]} */
    let pods = [];
    try { pods = await podsWith(isRedis); } catch { /* daemon busy */ }
    /** @type {string[]} */
    const accepting = [];
    await Promise.all(pods.map(async (p) => {
      try {
        const [info, set] = await callAs('client', p.ip, REDIS_PORT, [['INFO', 'replication'], ['SET', 'k8e:monitor', `${Date.now()}`]], 500);
        if (resp.infoField(info, 'role') === 'master' && set === 'OK') accepting.push(`${p.name}@${p.ip}`);
      } catch { /* down or unreachable */ }
    }));
    accepting.sort();
    maxAccepting = Math.max(maxAccepting, accepting.length);
    if (accepting.length > 1) splitRounds.push({ t: Date.now(), accepting });
    const key = accepting.join(',');
    if (key !== lastMasters) { masterTimeline.push({ t: Date.now(), accepting }); lastMasters = key; }
    await sleep(200);
  }
  return { rounds, maxAccepting, splitRounds: splitRounds.slice(0, 20), masterTimeline };
}

// Sentinel events from every sentinel pod (new pods are picked up every second).
async function events() {
  let stopping = false;
  onStop(() => { stopping = true; });
  /** @type {Map<string, net.Socket>} */
  const subs = new Map();
  /** @type {Array<{ t: number, sentinel: string, channel: string, msg: string }>} */
  const evs = [];
  /** @param {PodSummary} p */
  const subscribe = (p) => {
    const s = net.connect({ host: p.ip, port: SENTINEL_PORT });
    let buf = '';
    // Every event: a pattern only the admin may subscribe to. Its AUTH reply (+OK) precedes the messages.
    s.on('connect', () => s.write(`${login('admin').map(resp.encode).join('')}*2\r\n$10\r\nPSUBSCRIBE\r\n$1\r\n*\r\n`));
    s.on('data', (d) => {
      buf += d.toString();
      // Messages arrive as RESP arrays: pmessage, pattern, channel, payload.
      const re = /\*4\r\n\$8\r\npmessage\r\n\$1\r\n\*\r\n\$\d+\r\n([^\r]*)\r\n\$\d+\r\n([^\r]*)\r\n/g;
      let m;
      let last = 0;
      while ((m = re.exec(buf))) { evs.push({ t: Date.now(), sentinel: p.name, channel: m[1], msg: m[2] }); last = re.lastIndex; }
      if (last) buf = buf.slice(last);
    });
    s.on('error', () => { subs.delete(p.name); });
    s.on('close', () => { subs.delete(p.name); });
    subs.set(p.name, s);
  };
  while (!stopping) {
    try {
      for (const p of await podsWith(isSentinel)) if (!subs.has(p.name)) subscribe(p);
    } catch { /* retry */ }
    await sleep(500);
  }
  for (const s of subs.values()) s.destroy();
  return { events: evs };
}

/** A reply as text, an error by its message. @param {resp.Reply} r */
function text(r) { return r instanceof Error ? r.message : JSON.stringify(r); }

/** An address that belongs to no pod, for commands that would point a server elsewhere. */
const NOWHERE = '10.244.254.254';

// What a pod gets from every Redis and sentinel without a password, and with the client password:
// the commands no application may run, and a forged sentinel hello naming a replica as master,
// published on every Redis and sentinel, then every sentinel's master 3 s later.
async function security() {
  const redis = await podsWith(isRedis);
  const sentinels = await podsWith(isSentinel);
  const master = await currentMaster();
  /** @type {string[][]} where, what, reply */
  const noauth = [];
  for (const p of redis) noauth.push([p.name, 'PING', text(await oneAs('nobody', p.ip, REDIS_PORT, ['PING']))]);
  for (const p of sentinels) {
    noauth.push([p.name, 'SENTINEL get-master-addr-by-name', text(await oneAs('nobody', p.ip, SENTINEL_PORT, ['SENTINEL', 'get-master-addr-by-name', MASTER_NAME]))]);
  }
  /** @type {Array<Array<string | number>>} */
  const redisForbidden = [
    ['CONFIG', 'SET', 'maxmemory', '1'], ['CONFIG', 'GET', 'dir'], ['SHUTDOWN', 'NOSAVE'], ['REPLICAOF', NOWHERE, REDIS_PORT], ['SLAVEOF', NOWHERE, REDIS_PORT],
    ['FLUSHALL'], ['FLUSHDB'], ['DEBUG', 'SLEEP', '0'], ['MODULE', 'LIST'], ['ACL', 'LIST'], ['PUBLISH', '__sentinel__:hello', 'x'],
    ['SUBSCRIBE', '__sentinel__:hello'], ['KEYS', '*'], ['MONITOR'], ['CLIENT', 'KILL', 'TYPE', 'normal'], ['SAVE'], ['FAILOVER'],
  ];
  /** @type {Array<Array<string | number>>} */
  const sentinelForbidden = [
    ['SENTINEL', 'MONITOR', 'k8e', NOWHERE, REDIS_PORT, '1'], ['SENTINEL', 'SET', MASTER_NAME, 'quorum', '9'], ['SENTINEL', 'REMOVE', MASTER_NAME],
    ['SENTINEL', 'FAILOVER', MASTER_NAME], ['SENTINEL', 'RESET', '*'], ['SENTINEL', 'CONFIG', 'SET', 'resolve-hostnames', 'yes'],
    ['SENTINEL', 'FLUSHCONFIG'], ['SHUTDOWN'], ['PUBLISH', '__sentinel__:hello', 'x'], ['ACL', 'LIST'], ['CLIENT', 'KILL', 'TYPE', 'normal'],
  ];
  /** @type {string[][]} */
  const refused = [];
  for (const p of redis) {
    const replies = await callAs('client', p.ip, REDIS_PORT, redisForbidden, 3000);
    redisForbidden.forEach((c, i) => refused.push([p.name, c.join(' '), text(replies[i])]));
  }
  for (const p of sentinels) {
    const replies = await callAs('client', p.ip, SENTINEL_PORT, sentinelForbidden, 3000);
    sentinelForbidden.forEach((c, i) => refused.push([p.name, c.join(' '), text(replies[i])]));
  }
  // What an application does, with the same password.
  const allowed = (await callAs('client', master.host, master.port, [['SET', 'k8e:security', 'v'], ['GET', 'k8e:security'], ['PUBLISH', 'news', 'x']])).map(text);
  const replica = redis.find((p) => p.ip !== master.host);
  const target = replica ? replica.ip : NOWHERE;
  const hello = `${NOWHERE},${SENTINEL_PORT},${'f'.repeat(40)},1000,${MASTER_NAME},${target},${REDIS_PORT},1000`;
  /** @type {string[][]} */
  const helloReplies = [];
  for (const p of redis) helloReplies.push([p.name, text(await oneAs('client', p.ip, REDIS_PORT, ['PUBLISH', '__sentinel__:hello', hello]))]);
  for (const p of sentinels) helloReplies.push([p.name, text(await oneAs('client', p.ip, SENTINEL_PORT, ['PUBLISH', '__sentinel__:hello', hello]))]);
  await sleep(3000);
  /** @type {string[][]} */
  const mastersAfter = [];
  for (const p of sentinels) {
    const addr = await oneAs('client', p.ip, SENTINEL_PORT, ['SENTINEL', 'get-master-addr-by-name', MASTER_NAME]);
    mastersAfter.push([p.name, Array.isArray(addr) ? String(addr[0]) : text(addr)]);
  }
  return { master: master.host, noauth, refused, allowed, hello: { target, replies: helloReplies, mastersAfter } };
}

/** One TCP connect: open, timeout (a policy drops it) or the error. @param {string} host @param {number} port @returns {Promise<string>} */
function connect(host, port) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const t = setTimeout(() => { s.destroy(); resolve('timeout'); }, 2000);
    s.on('connect', () => { clearTimeout(t); s.destroy(); resolve('open'); });
    s.on('error', (e) => { clearTimeout(t); resolve(/** @type {NodeJS.ErrnoException} */ (e).code || e.message); });
  });
}

// Which ports this pod can open: every Redis pod's, every sentinel pod's, and the sentinel Service.
async function reach() {
  /** @type {Array<[string, string, number]>} */
  const targets = [
    ...(await podsWith(isRedis)).map((p) => /** @type {[string, string, number]} */ ([p.name, p.ip, REDIS_PORT])),
    ...(await podsWith(isSentinel)).map((p) => /** @type {[string, string, number]} */ ([p.name, p.ip, SENTINEL_PORT])),
    [SENTINEL_HOST, SENTINEL_HOST, SENTINEL_PORT],
  ];
  return Promise.all(targets.map(async ([name, host, port]) => [`${name}:${port}`, await connect(host, port)]));
}

async function main() {
  const [mode, ...args] = process.argv.slice(2);
  /** @type {unknown} */
  let result;
  if (mode === 'state') result = await state();
  else if (mode === 'write-wait') result = await writeWait(args[0], Number(args[1]));
  else if (mode === 'read') result = await read(args[0], Number(args[1]));
  else if (mode === 'writer') result = await writer(args[0]);
  else if (mode === 'monitor') result = await monitor();
  else if (mode === 'events') result = await events();
  else if (mode === 'security') result = await security();
  else if (mode === 'reach') result = await reach();
  else throw new Error(`unknown mode ${mode}`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

main().catch((e) => { process.stderr.write(`${e.stack}\n`); process.exit(1); });
