// Fake pods on loopback for the tests that run the entry scripts on real redis-server and
// redis-sentinel processes. Each "pod" is a loopback address (127.0.x.y): its Redis and Sentinel
// bind to it, its ConfigMap files are rendered into its own config dir through RenderOptions, and
// its "Secret" is a directory of files that the test writes as the kubelet would. Nothing leaves
// the machine.
import { ChildProcess, execFileSync, spawn, spawnSync } from 'child_process';
import { randomBytes } from 'crypto';
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { RedisSentinelSettings } from '../../src';
import { configMapData, RenderOptions } from '../../src/redis-config';

const have = (cmd: string) => { try { execFileSync('sh', ['-c', `command -v ${cmd}`]); return true; } catch { return false; } };
export const haveRedis = have('redis-server') && have('redis-sentinel') && have('redis-cli');
/** `describe`, or `describe.skip` with a warning when Redis is not installed (.ci/run installs it). */
export const describeIfRedis = haveRedis ? describe : describe.skip;
if (!haveRedis) console.warn('loopback tests skipped: redis-server, redis-sentinel and redis-cli are not installed');

/**
 * A /24 of loopback addresses for one test file's run, `127.A.B` (A from 64 to 253), picked at
 * random: fake pods bind fixed ports, so two runs on one machine (another worktree's, say) must not
 * share addresses. Linux routes all of 127.0.0.0/8 to the loopback device.
 */
export function loopbackNet(): string {
  const [a, b] = [...randomBytes(2)];
  return `127.${64 + (a % 190)}.${b % 255}`;
}

/** An INFO replication text of a replica that is linked to `master`. */
export function linkedTo(master: string, info: string): boolean {
  return new RegExp(`master_host:${master.replace(/\./g, '\\.')}\\r?\\n[\\s\\S]*master_link_status:up`).test(info);
}

/** The auth Secret's files: key -> password. */
export type SecretFiles = Record<string, string>;

/** Random passwords for the four keys of the default Secret. */
export function randomSecret(settings: RedisSentinelSettings): SecretFiles {
  const keys = Object.values(settings.auth?.secretKeys ?? {});
  return Object.fromEntries(keys.map((k) => [k, execFileSync('od', ['-An', '-N16', '-tx1', '/dev/urandom'], { encoding: 'utf8' }).replace(/\s/g, '')]));
}

export interface Pod {
  readonly ip: string;
  readonly dir: string;
  readonly authDir: string;
  readonly runDir: string;
  readonly procs: ChildProcess[];
}

export interface Container {
  readonly proc: ChildProcess;
  log(): string;
}

/** Who runs a redis-cli call: a user and password (the admin's by default), or nobody. */
export interface As { readonly user?: string; readonly password?: string }

export class Loopback {
  readonly root = mkdtempSync(join(tmpdir(), 'loopback-'));
  readonly pods: Pod[] = [];

  constructor(private readonly defaults: { settings: RedisSentinelSettings; render: RenderOptions; env?: Record<string, string> }) {}

  /** A pod: the ConfigMap's files in its config dir, rendered for its own address and dirs, and its Secret's files. */
  makePod(ip: string, options: RenderOptions & { settings?: RedisSentinelSettings; secret?: SecretFiles } = {}): Pod {
    const { settings = this.defaults.settings, secret, ...render } = options;
    const dir = join(this.root, ip);
    const pod: Pod = { ip, dir, authDir: join(dir, 'auth'), runDir: join(dir, 'run'), procs: [] };
    for (const sub of ['config', 'data', 'sentinel', 'auth', 'run']) mkdirSync(join(dir, sub), { recursive: true });
    const files = configMapData(settings, {
      bind: ip, dataDir: join(dir, 'data'), sentinelStateDir: join(dir, 'sentinel'), authDir: pod.authDir, runDir: pod.runDir,
      ...this.defaults.render, ...render,
    });
    for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, 'config', file), text);
    if (secret) writeSecret(pod, secret);
    this.pods.push(pod);
    return pod;
  }

  /** Starts a container: the entry script with the env the manifests give it. */
  start(pod: Pod, env: Record<string, string>): Container {
    let out = '';
    const proc = spawn('sh', [join(pod.dir, 'config', 'entrypoint.sh')], {
      env: { PATH: process.env.PATH, CONFIG_DIR: join(pod.dir, 'config'), POD_IP: pod.ip, POD_NAME: `pod-${pod.ip}`, ...this.defaults.env, ...env },
      detached: true, // its own process group: the background loops and the server die with it
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout!.on('data', (d) => { out += d; });
    proc.stderr!.on('data', (d) => { out += d; });
    // When the main process ends, so does the container: Kubernetes ends the rest of its processes.
    proc.on('exit', () => { try { process.kill(-proc.pid!, 'SIGKILL'); } catch { /* none left */ } });
    pod.procs.push(proc);
    return { log: () => out, proc };
  }

  /**
   * Kills every container's process group, also of a container whose main process ended (its
   * background loops live on, where Kubernetes would have ended them with the container), and
   * removes the files.
   */
  async cleanup(): Promise<void> {
    for (const p of this.pods) {
      for (const proc of p.procs) {
        if (proc.pid) { try { process.kill(-proc.pid, 'SIGKILL'); } catch { /* already gone */ } }
      }
    }
    await new Promise((r) => setTimeout(r, 200));
    rmSync(this.root, { recursive: true, force: true });
  }
}

/**
 * Replaces a pod's Secret files as the kubelet does: each file whole (a rename), and the keys that
 * are no longer in the Secret removed.
 */
export function writeSecret(pod: Pod, files: SecretFiles): void {
  for (const [key, value] of Object.entries(files)) {
    writeFileSync(join(pod.authDir, `.${key}.tmp`), value);
    renameSync(join(pod.authDir, `.${key}.tmp`), join(pod.authDir, key));
  }
  for (const key of readdirSync(pod.authDir)) if (!(key in files)) rmSync(join(pod.authDir, key));
}

/**
 * redis-cli ARGS..., or with no args the commands on `input`, one a line, all on one connection;
 * logged in as `as` (the password goes on stdin, with --askpass). Throws when redis-cli fails or
 * prints an error reply.
 */
export function redisCli(ip: string, port: number, args: string[], input = '', as: As = {}): string {
  const r = rawCli(ip, port, args, input, as);
  // redis-cli exits 0 on an error reply and prints it as a line that opens with its upper-case code
  if (r.status !== 0 || /^[A-Z]{3,} /m.test(r.out)) {
    throw new Error(`redis-cli -h ${ip} -p ${port} ${args.join(' ') || input}: status ${r.status}\n${r.out}\n${r.err}`);
  }
  return r.out;
}

/** redis-cli as redisCli, but returning the reply and status whatever they are. */
export function rawCli(ip: string, port: number, args: string[], input = '', as: As = {}): { status: number | null; out: string; err: string } {
  const auth = as.password !== undefined ? [...(as.user ? ['--user', as.user] : []), '--askpass'] : [];
  const r = spawnSync('redis-cli', ['-h', ip, '-p', String(port), ...auth, ...args], {
    input: as.password !== undefined ? `${as.password}\n${input}` : input, timeout: 5000, encoding: 'utf8',
  });
  return { status: r.status, out: (r.stdout ?? '').trim(), err: `${r.error ?? ''}${r.stderr ?? ''}` };
}

export async function until(what: string, check: () => boolean, seconds = 30): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${seconds}s waiting until ${what}`);
}
