// @ts-check
'use strict';
// The cluster's name server (CoreDNS's job): dnsmasq, which the emulator runs inside the node
// network namespace, bound to the node's address on the pod bridge only, never to the host's
// network. It answers from one hosts file in a directory it watches (--hostsdir, inotify): at each
// network sync the records (names.js) are rendered and, when they changed, a new file is renamed
// over the old one, so a record comes or goes within the sync period and dnsmasq's inotify read.
// TTL 0 (dnsmasq's own default for such records), so no client keeps an old answer. Every other
// name is NXDOMAIN at once; nothing is forwarded anywhere.

const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const { NAME_SERVER_IP } = require('./names');

/** @returns {string | null} the dnsmasq binary (Debian: dnsmasq-base, in /usr/sbin, which a user's PATH may lack) */
function findDnsmasq() {
  for (const dir of [...(process.env.PATH || '').split(':'), '/usr/sbin', '/usr/local/sbin', '/sbin']) {
    if (!dir) continue;
    const p = path.join(dir, 'dnsmasq');
    try { fs.accessSync(p, fs.constants.X_OK); return p; } catch { /* not here */ }
  }
  return null;
}

/** A dnsmasq that dies is started again after this many ms. */
const RESTART_MS = 500;

class NameServer {
  /**
   * Starts dnsmasq (the node's bridge address must exist: the harness makes it first).
   * @param {object} p
   * @param {string} p.stateDir the run's state directory: dns/ holds the records and dnsmasq.log
   * @param {Pick<import('../types').EventSink, 'event'>} p.sink
   */
  constructor({ stateDir, sink }) {
    this.sink = sink;
    this.dir = path.join(stateDir, 'dns');
    this.hostsDir = path.join(this.dir, 'hosts');
    fs.mkdirSync(this.hostsDir, { recursive: true });
    /** The records last written (null: none yet). @type {string | null} */
    this.records = null;
    this.closed = false;
    /** @type {import('child_process').ChildProcess | null} */
    this.proc = null;
    this.update('');
    this.start();
  }

  start() {
    const bin = findDnsmasq();
    if (!bin) throw new Error('dnsmasq not found: install it (Debian: apt-get install dnsmasq-base)');
    const log = fs.openSync(path.join(this.dir, 'dnsmasq.log'), 'a');
    const proc = spawn(bin, [
      '--keep-in-foreground', '--conf-file=/dev/null', '--log-facility=-',
      '--no-resolv', '--no-hosts', '--no-poll', `--hostsdir=${this.hostsDir}`,
      `--listen-address=${NAME_SERVER_IP}`, '--bind-interfaces', '--port=53',
      '--local=/#/', '--local-ttl=0', '--pid-file=', '--user=nobody', '--group=nogroup',
    ], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    this.proc = proc;
    proc.on('error', (e) => this.sink.event(`name server: ${e.message}`));
    proc.on('exit', (code, signal) => {
      if (this.closed || this.proc !== proc) return;
      this.sink.event(`name server exited (code ${code}, signal ${signal}); starting it again`);
      setTimeout(() => { if (!this.closed) this.start(); }, RESTART_MS);
    });
    this.sink.event(`name server dnsmasq pid ${proc.pid} on ${NAME_SERVER_IP}:53`);
  }

  /**
   * Serves these records from now on (hosts-file text), when they differ from the last ones.
   * @param {string} records
   */
  update(records) {
    if (records === this.records) return;
    // Written beside the watched directory and renamed in: dnsmasq reads it whole or not at all.
    const tmp = path.join(this.dir, 'records.tmp');
    fs.writeFileSync(tmp, records, { mode: 0o644 });
    fs.renameSync(tmp, path.join(this.hostsDir, 'records'));
    this.records = records;
  }

  close() {
    this.closed = true;
    if (this.proc && this.proc.exitCode === null) this.proc.kill('SIGTERM');
  }
}

module.exports = { NameServer, findDnsmasq };
