// @ts-check
'use strict';
// The run's event log (events.log: everything the emulator did, every kubectl call) and the change
// signal that `kubectl wait` and the network listen to. Every part reports here, through the
// EventSink interface (types.d.ts).

const fs = require('fs');
const path = require('path');
const { EventEmitter } = require('events');

/** @typedef {import('./types').EventSink} EventSink */

/** @implements {EventSink} */
class EventLog {
  /** @param {string} stateDir the run's state directory; events.log goes there */
  constructor(stateDir) {
    this.stream = fs.createWriteStream(path.join(stateDir, 'events.log'), { flags: 'a' });
    this.emitter = new EventEmitter();
    this.emitter.setMaxListeners(0);
  }

  /** @param {string} msg */
  event(msg) {
    this.stream.write(`${new Date().toISOString()} ${msg}\n`);
  }

  changed() {
    this.emitter.emit('change');
  }

  /**
   * @param {() => void} fn called after every change
   * @returns {() => void} stops the calls
   */
  onChange(fn) {
    this.emitter.on('change', fn);
    return () => { this.emitter.off('change', fn); };
  }

  /** @returns {Promise<void>} once every line is written */
  close() {
    return new Promise((resolve) => { this.stream.end(resolve); });
  }
}

module.exports = { EventLog };
