#!/usr/bin/env node
// @ts-check
'use strict';
// npm run bench:chaos -- --minutes N [--seed S] [--faults freeze,kill,...] [--settle-min 5] [--settle-max 30] [--out FILE]
//
// A benchmark, not a test (issue 8 §8): launches dist/ on the e2e pod emulator, then until N minutes
// have passed injects random faults of e2e/lib/faults.js (freeze, cuts, kills, sentinels or every
// pod deleted, three kills, a planned delete), one at a time, after a random settle on a healthy
// cluster. Around each fault an ioredis writer (SET + WAIT 1), the two-masters monitor and the
// sentinel events run (faults.observe); after each, the writes of every earlier fault are checked
// again. It reports the faults injected, the acknowledged writes, the lost writes (target 0), the
// longest write outage per fault class and any time with no master. The seed makes the sequence
// of faults and settles repeatable. Needs root (see e2e/README.md).

const fs = require('fs');
const { canRun } = require('../e2e/lib/harness');
const s = require('../e2e/lib/scenario');
const f = require('../e2e/lib/faults');
const { arg, stats, sec } = require('./failover-lib');

/** A small seeded generator (mulberry32), so that a run's faults can be replayed. @param {number} seed */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * @typedef {{ n: number, fault: string, atS: number, settleS: number, detail: string, obs: import('../e2e/lib/faults').Observation,
 *   healthy: string | null, earlierMissing: number | null, earlierError?: string, noMasterBeforeMs: number }} Record
 */

async function main() {
  const reason = canRun();
  if (reason) { console.error(`bench:chaos cannot run: ${reason}`); process.exit(2); }
  const minutes = Number(arg('minutes', '30'));
  const seed = Number(arg('seed', String(Date.now() % 100000)));
  const settleMin = Number(arg('settle-min', '5'));
  const settleMax = Number(arg('settle-max', '30'));
  const names = String(arg('faults', Object.keys(f.FAULTS).join(','))).split(',');
  const unknown = names.filter((x) => !f.FAULTS[x]);
  if (unknown.length) { console.error(`bench:chaos: unknown faults ${unknown.join(', ')}; known: ${Object.keys(f.FAULTS).join(', ')}`); process.exit(2); }
  /** @type {string | null} */
  const out = arg('out', null);
  const cs = f.clusterSettings();
  const ctx = { cs, b: f.bounds(cs) };
  const rnd = random(seed);
  console.log(`chaos benchmark: ${minutes} min, seed ${seed}, faults ${names.join(', ')}, settle ${settleMin}-${settleMax} s, `
    + `down-after ${cs.downAfterMs} ms, failover-timeout ${cs.failoverTimeoutMs} ms, manifests ${s.DIST}`);
  const emu = await s.startWithClient();
  /** @type {Record[]} */
  const records = [];
  /** @type {Array<{ prefix: string, runs: Array<[number, number]> }>} */
  let keySets = [];
  let stopped = '';
  const started = Date.now();
  try {
    const l = await s.launch(emu);
    if (l.code !== 0) throw new Error(`launch failed (${l.code}):\n${l.stdout}\n${l.stderr}`);
    await s.waitHealthy(emu, { timeoutMs: 120000 });
    const deadline = started + minutes * 60000;
    for (let n = 1; Date.now() < deadline; n++) {
      const fault = f.FAULTS[names[Math.floor(rnd() * names.length)]];
      const settleS = settleMin + rnd() * (settleMax - settleMin);
      try {
        await s.waitHealthy(emu, { timeoutMs: 120000 });
      } catch (e) {
        stopped = `the cluster was not healthy 120 s after fault ${n - 1}: ${/** @type {Error} */ (e).message.split('\n').slice(0, 6).join('; ')}`;
        break;
      }
      // The monitor watches the settle too: a master lost between faults is a time with no master.
      const monitor = await s.agentBackground(emu, ['monitor']);
      const settleFrom = Date.now();
      await s.sleep(settleS * 1000);
      const { inj, obs, healthy, writer, monitor: m } = await f.observe(emu, fault, ctx, `chaos-${n}`, { monitor });
      const noMasterBeforeMs = f.noMasterPeriods(m.masterTimeline, settleFrom, inj.t0).reduce((a, g) => a + g.ms, 0);
      // The pods' emptyDir volumes went with them: what was written before is gone by design.
      if (fault.name === 'delete-all') keySets = [];
      /** @type {number | null} */
      let earlierMissing = 0;
      let earlierError;
      if (keySets.length) {
        const v = await f.verifyKeys(emu, keySets);
        earlierMissing = v.missing ?? null;
        earlierError = v.error;
      }
      keySets.push({ prefix: `chaos-${n}`, runs: writer.kept });
      const r = { n, fault: fault.name, atS: Math.round((inj.t0 - started) / 1000), settleS: Math.round(settleS), detail: inj.detail, obs, healthy, earlierMissing, earlierError, noMasterBeforeMs };
      records.push(r);
      console.log(`#${n} at ${r.atS} s (${fault.name}, settle ${r.settleS} s): ${f.summary(inj, obs)}${earlierMissing ? `; ${earlierMissing} earlier writes gone` : ''}`
        + `${earlierError ? `; earlier writes not checked: ${earlierError}` : ''}${healthy ? `; NOT HEALTHY: ${healthy.split('\n')[0]}` : ''}`);
    }
  } catch (e) {
    stopped = /** @type {Error} */ (e).message;
  } finally {
    await emu.stop({ keepLogs: !!stopped || records.some((r) => r.healthy || r.obs.lostCounted) });
  }
  const md = report({ minutes, seed, names, settleMin, settleMax, cs, records, stopped, elapsedS: Math.round((Date.now() - started) / 1000), stateDir: emu.stateDir });
  console.log(`\n${md}`);
  if (out) fs.writeFileSync(out, `${md}\n<details><summary>per fault</summary>\n\n\`\`\`json\n${JSON.stringify(records, null, 1)}\n\`\`\`\n</details>\n`);
  process.exit(stopped ? 1 : 0);
}

/**
 * @param {{ minutes: number, seed: number, names: string[], settleMin: number, settleMax: number, cs: import('../e2e/lib/faults').ClusterSettings,
 *   records: Record[], stopped: string, elapsedS: number, stateDir: string }} p
 */
function report(p) {
  const { records } = p;
  const sum = (/** @type {(r: Record) => number | null} */ fn) => records.reduce((a, r) => a + (fn(r) || 0), 0);
  const lost = sum((r) => r.obs.lostCounted);
  const unverified = records.filter((r) => r.obs.lost === null).length;
  const rows = p.names.filter((x, i) => p.names.indexOf(x) === i).map((name) => {
    const rs = records.filter((r) => r.fault === name);
    if (!rs.length) return `| ${name} | 0 | | | | | | |`;
    const out = stats(rs.map((r) => r.obs.writerOutageMs));
    const next = stats(rs.map((r) => r.obs.newMasterMs));
    return `| ${name} | ${rs.length} | ${sec(out.max)} | ${sec(out.median)} | ${sec(next.max)} | ${sec(Math.max(...rs.map((r) => r.obs.longestNoMasterMs)))} `
      + `| ${rs.reduce((a, r) => a + (r.obs.lostCounted || 0), 0)} (${rs.reduce((a, r) => a + r.obs.lostExcused, 0)} excused`
      + `${rs.some((r) => r.obs.lost === null) ? `; ${rs.filter((r) => r.obs.lost === null).length} not checked: no master` : ''}) | ${rs.filter((r) => r.healthy).length} |`;
  });
  const noMaster = records.flatMap((r) => [
    ...(r.obs.longestNoMasterMs ? [`#${r.n} ${r.fault} at ${r.atS} s: ${sec(r.obs.noMasterMs)} in all, longest ${sec(r.obs.longestNoMasterMs)}`] : []),
    ...(r.noMasterBeforeMs ? [`#${r.n} during the settle before ${r.fault}: ${sec(r.noMasterBeforeMs)}`] : []),
  ]);
  return [
    `Chaos benchmark (\`npm run bench:chaos -- --minutes ${p.minutes} --seed ${p.seed}\`), ${new Date().toISOString()}, ${p.elapsedS} s in all, `
      + `${records.length} faults (${p.names.join(', ')}), settle ${p.settleMin}-${p.settleMax} s, down-after ${p.cs.downAfterMs} ms, `
      + `failover-timeout ${p.cs.failoverTimeoutMs} ms, on the e2e pod emulator, ${require('os').cpus().length} cores.`,
    p.stopped ? `\nSTOPPED EARLY: ${p.stopped} (logs in ${p.stateDir})` : '',
    '',
    '| fault | injected | longest write outage | median write outage | longest until another master took writes | longest with no master | lost writes | not healthy in bound |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `Acknowledged writes: ${sum((r) => r.obs.acked)}. Lost: ${lost} (target 0)${unverified ? `, and ${unverified} faults whose writes could not be checked` : ''}. `
      + `Writes of earlier faults gone later: ${sum((r) => r.earlierMissing)}. Excused, not counted as lost: ${sum((r) => r.obs.lostExcused)} `
      + '(acknowledged by a cut-off minority before it could know, or written before every pod and its emptyDir was deleted).',
    `Two masters accepting writes at once: ${sum((r) => r.obs.splitRounds.length)} monitor rounds. Failover aborts: ${sum((r) => r.obs.failoverAborts.length)}.`,
    '',
    'The write outage is what the ioredis writer saw (from its last acknowledged write before a fault to its first after); a client on a',
    'frozen or cut-off master waits for that master, so for those faults it includes the fault\'s own duration. "Another master" and',
    '"no master" come from the monitor, which probes every Redis pod the client pod can reach (during cut-minority: its own side only).',
    '',
    noMaster.length ? `Times with no master accepting writes:\n${noMaster.map((x) => `- ${x}`).join('\n')}` : 'No time without a master accepting writes.',
  ].join('\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
