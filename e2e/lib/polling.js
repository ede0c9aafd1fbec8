// @ts-check
'use strict';
// Waiting in the tests: sleep, and poll until a check holds.

/** @param {number} ms */
function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

/**
 * Polls fn every 200 ms until it returns something truthy; its last value after timeoutMs.
 * @template T
 * @param {number} timeoutMs
 * @param {() => Promise<T>} fn
 * @returns {Promise<T>}
 */
async function eventually(timeoutMs, fn) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v || Date.now() > deadline) return v;
    await sleep(200);
  }
}

module.exports = { sleep, eventually };
