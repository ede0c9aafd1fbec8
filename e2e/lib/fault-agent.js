// @ts-check
'use strict';
// The fault scenarios' client, run inside the client pod like agent.js (which it leaves alone): a
// writer that keeps, for every acknowledged write, when it was acknowledged and by which server, so
// that a lost write can be placed against the fault that lost it, and a check of earlier writers'
// keys. It prints one JSON line with its result. It logs in as an application does: with the client
// password of its env (REDIS_PASSWORD), when there is one.
//
//   fault-agent.js writer PREFIX   ioredis through the sentinel Service, SET + WAIT 1 until "stop" on stdin
//                                  (meanwhile "ack <ms>" lines: writes are being acknowledged)
//   fault-agent.js verify          reads [{ prefix, runs }] (writer results' `kept`) on stdin: which keys the master lacks

const path = require('path');
const resp = require('./resp');

const SENTINEL_HOST = process.env.K8E_SENTINEL_HOST || 'redis-sentinel';
const SENTINEL_PORT = Number(process.env.K8E_SENTINEL_PORT || 26379);
const MASTER_NAME = process.env.K8E_MASTER_NAME || 'mymaster';
const PASSWORD = process.env.REDIS_PASSWORD;
/** A pause between two acknowledged writes longer than this is an outage in the writer's report. */
const GAP_MS = 250;
/** At most this many lost writes are listed one by one (all are counted). */
const LIST_LOST = 2000;
/** Acknowledgements are counted per slot of this many ms (`acks`), to find the first after any moment. */
const ACK_SLOT_MS = 100;
/** The writer keeps its last this many connection events (`trace`). */
const TRACE_EVENTS = 400;

/**
 * @typedef {[number, number]} Run acknowledged sequence numbers first..first+count-1
 * @typedef {{ seq: number, t: number, via: string }} LostWrite
 * @typedef {{ from: number, to: number, ms: number }} Gap
 */

/** @param {number} ms @returns {Promise<void>} */
function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

/** @param {unknown} e */
function message(e) { return /** @type {Error} */ (e).message; }

/**
 * resp.call, logged in with the client password when there is one.
 * @param {string} host @param {number} port @param {Array<Array<string | number>>} commands @param {number} timeoutMs
 */
async function call(host, port, commands, timeoutMs) {
  const auth = PASSWORD ? [['AUTH', PASSWORD]] : [];
  const replies = await resp.call(host, port, [...auth, ...commands], timeoutMs);
  if (auth.length && replies[0] !== 'OK') throw new Error(`login at ${host}:${port} refused`);
  return replies.slice(auth.length);
}

/** The master the sentinel Service names, asked again for a while when nobody answers. */
async function currentMaster(tries = 20) {
  for (let i = 1; ; i++) {
    try {
      const [addr] = await call(SENTINEL_HOST, SENTINEL_PORT, [['SENTINEL', 'get-master-addr-by-name', MASTER_NAME]], 2000);
      if (Array.isArray(addr)) return { host: String(addr[0]), port: Number(addr[1]) };
    } catch { /* no sentinel answered */ }
    if (i >= tries) throw new Error(`no master named by ${SENTINEL_HOST}:${SENTINEL_PORT} after ${tries} tries`);
    await sleep(500);
  }
}

/**
 * The sequence numbers (of keys PREFIX:seq) in runs that the master lacks.
 * @param {{ host: string, port: number }} m
 * @param {string} prefix
 * @param {Run[]} runs
 * @returns {Promise<number[]>}
 */
async function missing(m, prefix, runs) {
  /** @type {number[]} */
  const out = [];
  const seqs = runs.flatMap(([first, n]) => Array.from({ length: n }, (_, i) => first + i));
  for (let i = 0; i < seqs.length; i += 500) {
    const chunk = seqs.slice(i, i + 500);
    const [vals] = await call(m.host, m.port, [['MGET', ...chunk.map((q) => `${prefix}:${q}`)]], 5000);
    if (!Array.isArray(vals)) throw new Error(`MGET on ${m.host}: ${message(/** @type {Error} */ (vals))}`);
    vals.forEach((v, k) => { if (v === null) out.push(chunk[k]); });
  }
  return out;
}

/** @param {number[]} seqs ascending @returns {Run[]} */
function toRuns(seqs) {
  /** @type {Run[]} */
  const runs = [];
  for (const q of seqs) {
    const last = runs[runs.length - 1];
    if (last && last[0] + last[1] === q) last[1]++; else runs.push([q, 1]);
  }
  return runs;
}

/** @returns {Promise<string>} stdin until it ends or says "stop" */
function readStdin(untilStop = false) {
  return new Promise((resolve) => {
    let buf = '';
    process.stdin.on('data', (d) => { buf += d; if (untilStop && buf.includes('stop')) resolve(buf); });
    process.stdin.on('end', () => resolve(buf));
    process.on('SIGTERM', () => resolve(buf));
  });
}

/**
 * The application of issue 8: ioredis with the sentinels option (the settings of agent.js's writer,
 * so that the two measure the same client), one SET + WAIT 1 at a time.
 * @param {string} prefix
 */
async function writer(prefix) {
  const Redis = require(require.resolve('ioredis', { paths: [path.resolve(__dirname, '../..')] }));
  const r = new Redis({
    sentinels: [{ host: SENTINEL_HOST, port: SENTINEL_PORT }],
    name: MASTER_NAME,
    password: PASSWORD,
    sentinelPassword: PASSWORD,
    connectTimeout: 1000,
    commandTimeout: 1500,
    maxRetriesPerRequest: 0,
    retryStrategy: () => 100,
    sentinelRetryStrategy: () => 100,
    reconnectOnError: (/** @type {Error} */ err) => (/READONLY|NOREPLICAS/.test(err.message) ? 2 : false),
  });
  /** @type {Array<[number, string]>} the client's connection events, the last TRACE_EVENTS of them: what a long gap waited for */
  const trace = [];
  const traced = (/** @type {string} */ what) => { trace.push([Date.now(), what]); if (trace.length > TRACE_EVENTS) trace.shift(); };
  r.on('connect', () => traced(`connect ${(r.stream && r.stream.remoteAddress) || '?'}`));
  r.on('ready', () => traced('ready'));
  r.on('close', () => traced('close'));
  r.on('reconnecting', () => traced('reconnecting'));
  r.on('error', (/** @type {Error} */ e) => traced(`error ${message(e).slice(0, 160)}`)); // (counted per command)
  r.on('sentinelError', (/** @type {Error} */ e) => traced(`sentinelError ${message(e).slice(0, 160)}`));
  r.on('+switch-master', () => traced('+switch-master'));
  let stopping = false;
  readStdin(true).then(() => { stopping = true; });
  /** @type {number[]} */
  const ackedSeq = [];
  /** @type {number[]} */
  const ackedAt = [];
  /** @type {string[]} the server that acknowledged each write */
  const ackedVia = [];
  /** @type {Record<string, { acked: number, first: number, last: number }>} */
  const byServer = {};
  let masterOnly = 0;
  /** @type {Record<string, number>} */
  const errors = {};
  let seq = 0;
  const started = Date.now();
  // "ack <ms>" on stdout at most twice a second, so that the test can tell that writes are back.
  let told = 0;
  while (!stopping) {
    const q = seq++;
    try {
      await r.set(`${prefix}:${q}`, String(Date.now()));
      const n = await r.wait(1, 1000);
      if (n >= 1) {
        const t = Date.now();
        const via = (r.stream && r.stream.remoteAddress) || '?';
        ackedSeq.push(q); ackedAt.push(t); ackedVia.push(via);
        if (t - told >= 500) { process.stdout.write(`ack ${t}\n`); told = t; }
        const s = (byServer[via] ||= { acked: 0, first: t, last: t });
        s.acked++; s.last = t;
      } else masterOnly++;
    } catch (e) {
      const kind = message(e).replace(/[0-9.:]+/g, '#').slice(0, 60);
      errors[kind] = (errors[kind] || 0) + 1;
      await sleep(20);
    }
    await sleep(5);
  }
  const stopped = Date.now();
  r.disconnect();
  /** @type {Gap[]} */
  const gaps = [];
  let prev = started;
  for (const t of [...ackedAt, stopped]) {
    if (t - prev > GAP_MS) gaps.push({ from: prev, to: t, ms: t - prev });
    prev = t;
  }
  /** @type {Array<[number, number]>} [slot start, acknowledgements in it], the slots that had any */
  const acks = [];
  for (const t of ackedAt) {
    const slot = t - (t % ACK_SLOT_MS);
    const last = acks[acks.length - 1];
    if (last && last[0] === slot) last[1]++; else acks.push([slot, 1]);
  }
  const runs = toRuns(ackedSeq);
  /** The acknowledged writes that are still there at the end (all of them when that is unknown): what later checks expect to stay. */
  let kept = runs;
  /** @type {number | null} */
  let lost = null;
  /** @type {LostWrite[]} */
  let lostWrites = [];
  let verifiedOn = null;
  let verifyError = null;
  try {
    const m = await currentMaster();
    verifiedOn = m.host;
    const gone = new Set(await missing(m, prefix, runs));
    lost = gone.size;
    kept = toRuns(ackedSeq.filter((q) => !gone.has(q)));
    lostWrites = ackedSeq.flatMap((q, i) => (gone.has(q) ? [{ seq: q, t: ackedAt[i], via: ackedVia[i] }] : [])).slice(0, LIST_LOST);
  } catch (e) { verifyError = message(e); }
  return {
    prefix, started, stopped, attempted: seq, acked: ackedSeq.length, masterOnly, errors, byServer, gaps, acks, kept,
    lost, lostWrites, verifiedOn, verifyError, trace,
  };
}

/** Checks the keys of earlier writers, given as [{ prefix, runs }] on stdin. */
async function verify() {
  /** @type {Array<{ prefix: string, runs: Run[] }>} */
  const sets = JSON.parse(await readStdin());
  const m = await currentMaster();
  let checked = 0;
  /** @type {Array<{ prefix: string, missing: number, sample: number[] }>} */
  const out = [];
  for (const { prefix, runs } of sets) {
    checked += runs.reduce((a, [, n]) => a + n, 0);
    const gone = await missing(m, prefix, runs);
    if (gone.length) out.push({ prefix, missing: gone.length, sample: gone.slice(0, 10) });
  }
  return { master: m.host, checked, missing: out.reduce((a, x) => a + x.missing, 0), byPrefix: out };
}

async function main() {
  const [mode, ...args] = process.argv.slice(2);
  /** @type {unknown} */
  let result;
  if (mode === 'writer') result = await writer(args[0]);
  else if (mode === 'verify') result = await verify();
  else throw new Error(`unknown mode ${mode}`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

main().catch((e) => { process.stderr.write(`${e.stack}\n`); process.exit(1); });
