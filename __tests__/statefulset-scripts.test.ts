// The StatefulSet topology's pod scripts: what its pods run that the classic topology's do not.
// The state machine's StatefulSet inputs (stable names, ordinal rank, the sentinel's id) from the
// sourced modules on made-up surveys; the startup and liveness probes on real redis-server
// processes, on loopback. The whole topology runs on the emulator (e2e/statefulset.e2e.test.ts).
import { spawn, spawnSync } from 'child_process';
import { createHash } from 'crypto';
import { createServer, Server } from 'net';
import { join } from 'path';
import { configMapData } from '../src/redis-config';
import { resolveStatefulSetSettings } from '../src/settings';
import { describeIfRedis, Loopback, loopbackNet, Pod, randomSecret } from './helpers/loopback';

const NET = loopbackNet();
const REDIS_PORT = 16379;
const SENTINEL_PORT = 26380;

describeIfRedis('StatefulSet pod scripts on real Redis processes (loopback)', () => {
  const settings = resolveStatefulSetSettings({ name: 'redis-ha', redisPort: REDIS_PORT, sentinelPort: SENTINEL_PORT });
  const secret = randomSecret(settings);
  let loop: Loopback;

  beforeAll(() => { loop = new Loopback({ settings, render: {} }); });
  afterAll(async () => { await loop.cleanup(); });

  /**
   * probe.sh CHECK in the pod, as the kubelet runs it: its exit code and output. Not spawnSync: a
   * fake server in this process must answer meanwhile.
   */
  const probe = (pod: Pod, check: string) => new Promise<{ code: number | null; out: string }>((resolve) => {
    const p = spawn('sh', [join(pod.dir, 'config', 'probe.sh'), check], {
      env: { PATH: process.env.PATH, CONFIG_DIR: join(pod.dir, 'config'), POD_IP: pod.ip, POD_NAME: 'redis-ha-0', POD_NAMESPACE: 'default' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    p.on('close', (code) => resolve({ code, out: out.trim() }));
  });
  /** until(), for an async check. */
  const eventually = async (what: string, check: () => Promise<boolean>) => {
    const end = Date.now() + 30000;
    while (!(await check())) {
      if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  describe('the state machine\'s StatefulSet inputs (docs/state-machine.md, "What each topology adds")', () => {
    /** Runs SCRIPT in pod redis-ha-ORDINAL with common.sh and the modules sourced; its stdout. */
    const sourced = (ordinal: number, script: string, env: Record<string, string> = {}) => {
      const pod = loop.makePod(`${NET}.${10 + ordinal}`, { secret });
      const config = join(pod.dir, 'config');
      const r = spawnSync('sh', ['-c', `set -eu; . "$CONFIG_DIR/common.sh"; . "$CONFIG_DIR/auth.sh"; . "$CONFIG_DIR/discovery.sh"; . "$CONFIG_DIR/founding.sh"; . "$CONFIG_DIR/handover.sh"; . "$CONFIG_DIR/follow.sh"; . "$CONFIG_DIR/sentinel.sh"; ${script}`], {
        env: { PATH: process.env.PATH, CONFIG_DIR: config, POD_IP: pod.ip, POD_NAME: `redis-ha-${ordinal}`, POD_NAMESPACE: 'shop', ...env }, encoding: 'utf8',
      });
      if (r.status !== 0) throw new Error(`sh failed (${r.status}): ${r.stderr}`);
      return r.stdout.trim();
    };
    const name = (i: number) => `redis-ha-${i}.redis-ha-headless.shop.svc`;
    /** A P line of a peer survey: pod i's role, offset and keys (bootstrap marker 0). */
    const peer = (i: number, offset: number, keys: number, role = 'slave') => `P ${name(i)} ${role} - 0 ${offset} ${keys} 0 0`;
    const verdict = (self: number, ...lines: string[]) => sourced(self, 'founding_verdict "$SURVEY" "$SEED"', { SURVEY: lines.join('\n'), SEED: '1' });

    test('a pod is known by its stable name; its peers and sentinels are every ordinal\'s name', () => {
      expect(sourced(1, 'echo "$SELF_HOST"')).toBe(name(1));
      expect(sourced(1, 'peer_addrs').split('\n')).toEqual([name(1), name(0), name(2)]);
      expect(sourced(0, 'stable_sentinels').split('\n')).toEqual([0, 1, 2].map((i) => `${name(i)} ${SENTINEL_PORT}`));
    });

    test('the sentinel id is the SHA-1 of the stable name: the same in every run of the pod', () => {
      expect(sourced(2, 'sentinel_id')).toBe(createHash('sha1').update(name(2)).digest('hex'));
    });

    test('founding: the newest data wins, the ordinal breaks ties, and the verdict is the same in every pod', () => {
      const survey = [peer(0, 100, 5), peer(1, 250, 7), peer(2, 250, 7)];
      expect(verdict(1, ...survey)).toMatch(/^data: 3 of the 3 expected/);
      expect(verdict(2, ...survey)).toBe(`wait: ${name(1)} is the better founder; pods seen: ${name(0)} (5 keys, offset 100), ${name(1)} (7 keys, offset 250), ${name(2)} (7 keys, offset 250)`);
      expect(verdict(0, ...survey)).toMatch(new RegExp(`^wait: ${name(1)} is the better founder`));
    });

    test('founding: an empty cluster is founded by ordinal 0 only once every pod answers; ordinal 0 is no bootstrap pod', () => {
      expect(verdict(0, peer(0, 0, 0), peer(1, 0, 0), peer(2, 0, 0))).toMatch(/^empty: 3 of the 3/);
      expect(verdict(1, peer(0, 0, 0), peer(1, 0, 0), peer(2, 0, 0))).toMatch(new RegExp(`^wait: ${name(0)} is the better founder`));
      // No sentinel names a master (SEED), yet ordinal 0 alone never founds: a pod with data may be away.
      expect(verdict(0, peer(0, 0, 0))).toMatch(/^wait: it sees 1 of the 3 expected Redis pods, fewer than a majority/);
      expect(verdict(0, peer(0, 0, 0), peer(1, 0, 0))).toMatch(/^wait: no pod it sees holds data, but only 2 of the 3/);
    });

    test('founding: an empty pod never founds over a peer with data, whatever its ordinal', () => {
      expect(verdict(0, peer(0, 0, 0), peer(2, 40, 3))).toMatch(new RegExp(`^wait: ${name(2)} is the better founder`));
      expect(verdict(2, peer(0, 0, 0), peer(2, 40, 3))).toMatch(/^data: 2 of the 3/);
    });

    test('a Redis keeps the offset its data reached, and tells its peers after a restart, when its INFO says 0', () => {
      const info = (role: string, port: number, offset: number) => `role:${role}\nmaster_host:${name(2)}\nmaster_port:${port}\nmaster_replid:abc\nmaster_repl_offset:${offset}`;
      const record = (...infos: string[]) => sourced(0, `rm -f "$POSITION_FILE"; ${infos.map((i) => `record_position '${i}'`).join('; ')}; cat "$POSITION_FILE" 2>/dev/null || echo none`);
      expect(record(info('slave', REDIS_PORT, 77))).toBe('abc 77');
      // a waiting Redis (a replica of port 0) or one that has no offset yet leaves the last position alone
      expect(record(info('slave', REDIS_PORT, 77), info('slave', 0, 0), info('master', 0, 0))).toBe('abc 77');
      expect(record(info('slave', 0, 0))).toBe('none');
      // under set -e, as the entry script runs it: without a position the title is the plain one
      expect(sourced(1, 'rm -f "$POSITION_FILE"; title_of redis; title_of master')).toBe('{title} {listen-addr} {server-mode}\n{title} {listen-addr} {server-mode} bootstrap');
      // The title of its next start carries the position; a peer's survey reads it when INFO has 0.
      const line = sourced(3, `printf 'abc 4242\\n' >"$POSITION_FILE"
        redis-server --port "$REDIS_PORT" --bind "$POD_IP" --save '' --appendonly no --daemonize yes --pidfile "$DATA_DIR/pid" \\
          --user admin on ">$(cat "$AUTH_DIR/$ADMIN_PASSWORD_KEY")" '~*' '&*' '+@all' --user default off \\
          --replicaof "$POD_IP" 0 --proc-title-template "$(title_of redis)"
        poll 50 0.1 redis_answers || true
        ask_peer "$SELF_HOST"; redis_at "$POD_IP" "$REDIS_PORT" INFO replication | info_field master_repl_offset
        kill "$(cat "$DATA_DIR/pid")"`);
      expect(line.split('\n')).toEqual([`P ${name(3)} slave ${`${NET}.13`} 0 4242 0 0 0`, '0']);
    });

    test('of several masters, the pods follow the same one: replicas, then offset, then the lowest ordinal', () => {
      const best = (...lines: string[]) => sourced(1, 'best_peer_master "$SURVEY" "$SELF_HOST"', { SURVEY: lines.join('\n') });
      expect(best(`P ${name(2)} master - 0 90 1 0 1`, `P ${name(0)} master - 0 90 1 0 1`, `P ${name(1)} master - 0 900 1 0 2`)).toBe(`${name(0)} ${REDIS_PORT}`);
      expect(best(`P ${name(2)} master - 0 91 1 0 1`, `P ${name(0)} master - 0 90 1 0 1`)).toBe(`${name(2)} ${REDIS_PORT}`);
    });

    describe('the master\'s home (masterOnFirstPod): a master elsewhere hands back to ordinal 0', () => {
      const self = `${name(1)} ${REDIS_PORT}`;
      /** An S line of a sentinel survey: sentinel i names MASTER (epoch 3), failover state STATE. */
      const sentinel = (i: number, master = self, state = '-') => `S id${i} 3 ${master} master ${name(i)} ${SENTINEL_PORT} ${state}`;
      const replica = (i: number, n: number, state = 'online', lag = 0) => `slave${n}:ip=${name(i)},port=${REDIS_PORT},state=${state},offset=500,lag=${lag}`;
      const allNaming = [0, 1, 2].map((i) => sentinel(i));
      /** keep_home in pod 1, the master, at each of TICKS (ms) with the same survey and INFO; the hand_back calls it makes. */
      const keepHome = (ordinal: number, survey: string[], info: string[], ticks: number[]) => sourced(ordinal,
        `hand_back() { echo "hand_back $1 at $_tick"; }; _self="$SELF_HOST $REDIS_PORT"; _home_since=
        for _tick in ${ticks.join(' ')}; do keep_home; done`, { _survey: survey.join('\n'), _info: ['role:master', ...info].join('\n') })
        ;
      const ready = (survey: string[], info: string[]) => sourced(1, '_self="$SELF_HOST $REDIS_PORT"; home_ready && echo yes || echo no',
        { _survey: survey.join('\n'), _info: ['role:master', ...info].join('\n') });

      test('the home pod is ready for the master only as an online, acknowledging replica, with every sentinel naming this master and no failover running', () => {
        expect(sourced(1, 'echo "$HOME_HOST"')).toBe(name(0));
        expect(ready(allNaming, [replica(2, 0), replica(0, 1)])).toBe('yes');
        expect(ready(allNaming, [replica(0, 0, 'online', 1)])).toBe('yes');
        expect(ready(allNaming, [replica(0, 0, 'online', 2)])).toBe('no'); // not acknowledging
        expect(ready(allNaming, [replica(0, 0, 'wait_bgsave')])).toBe('no'); // still syncing
        expect(ready(allNaming, [replica(2, 0)])).toBe('no'); // not a replica of this master
        expect(ready(allNaming.slice(0, 2), [replica(0, 0)])).toBe('no'); // a sentinel did not answer
        expect(ready([...allNaming.slice(0, 2), sentinel(2, `${name(2)} ${REDIS_PORT}`)], [replica(0, 0)])).toBe('no');
        expect(ready([...allNaming.slice(0, 2), sentinel(2).replace(' master ', ' master,failover_in_progress ')], [replica(0, 0)])).toBe('no');
      });

      test('the master hands back after HOME_AFTER_SECONDS of readiness in a row, once; never from the home pod itself', () => {
        const after = Number(sourced(1, 'echo "$HOME_AFTER_SECONDS"')) * 1000;
        expect(after).toBe(30000);
        const home = `${name(0)} ${REDIS_PORT}`;
        expect(keepHome(1, allNaming, [replica(0, 0)], [1000, 1000 + after - 1, 1000 + after, 1000 + after + 1000])).toBe(`hand_back ${home} at ${1000 + after}`);
        // pod 0 is home: nothing to hand back
        expect(keepHome(0, allNaming.map((l) => l.replace(self, `${name(0)} ${REDIS_PORT}`)), [replica(1, 0)], [1000, 1000 + after])).toBe('');
      });

      test('a check that finds the home pod not ready starts the count again', () => {
        const after = 30000;
        const script = `hand_back() { echo "hand_back at $_tick"; }; _self="$SELF_HOST $REDIS_PORT"; _home_since=; _survey=$ALL
          _info=$READY; _tick=1000; keep_home; _tick=20000; keep_home
          _info=$LAGGING; _tick=21000; keep_home
          _info=$READY; _tick=22000; keep_home; _tick=${1000 + after}; keep_home; _tick=${22000 + after}; keep_home`;
        expect(sourced(1, script, {
          ALL: allNaming.join('\n'), READY: `role:master\n${replica(0, 0)}`, LAGGING: `role:master\n${replica(0, 0, 'online', 5)}`,
        })).toBe(`hand_back at ${22000 + after}`);
      });

      test('with masterOnFirstPod: false there is no home', () => {
        const off = resolveStatefulSetSettings({ name: 'redis-ha', redisPort: REDIS_PORT, sentinelPort: SENTINEL_PORT, masterOnFirstPod: false });
        expect(off.statefulSet!.masterOnFirstPod).toBe(false);
        expect(configMapData(off)['cluster.env']).toMatch(/^MASTER_HOME_POD=''$/m);
        expect(configMapData(settings)['cluster.env']).toMatch(/^MASTER_HOME_POD='redis-ha-0'$/m);
        expect(() => resolveStatefulSetSettings({ masterOnFirstPod: 'yes' as unknown as boolean })).toThrow(/masterOnFirstPod.*"yes".*true or false.*masterOnFirstPod: false/s);
      });
    });
  });

  describe('probes: startup waits for the data to load, liveness accepts any answer', () => {
    const servers: Server[] = [];
    afterAll(() => { for (const s of servers) s.close(); });

    test('a Redis that answers PONG has started and is alive', async () => {
      // GIVEN a Redis with the pods' users: the admin logs in with the Secret's password
      const pod = loop.makePod(`${NET}.2`, { secret });
      const server = spawn('redis-server', ['--port', String(REDIS_PORT), '--bind', pod.ip, '--save', '', '--appendonly', 'no',
        '--requirepass', secret['client-password'], '--user', 'admin', 'on', `>${secret['admin-password']}`, '~*', '&*', '+@all'], { stdio: 'ignore' });
      pod.procs.push(server);
      await eventually('the Redis answers', async () => (await probe(pod, 'redis-alive')).code === 0);
      // THEN both probes pass
      expect(await probe(pod, 'redis-started')).toEqual({ code: 0, out: '' });
      expect(await probe(pod, 'redis-alive')).toEqual({ code: 0, out: '' });
    });

    test('a Redis that is LOADING is alive but has not started', async () => {
      // GIVEN a server that answers every command as a Redis busy loading its append-only file does
      const pod = loop.makePod(`${NET}.3`, { secret });
      const loading = createServer((socket) => socket.on('data', () => socket.write('-LOADING Redis is loading the dataset in memory\r\n')));
      servers.push(loading);
      await new Promise<void>((r) => loading.listen(REDIS_PORT, pod.ip, r));
      // THEN liveness leaves it alone and startup keeps waiting
      expect(await probe(pod, 'redis-alive')).toEqual({ code: 0, out: '' });
      expect(await probe(pod, 'redis-started')).toEqual({ code: 1, out: 'redis has not started yet: LOADING Redis is loading the dataset in memory on port 16379' });
    });

    test('a Redis that does not answer is neither', async () => {
      const pod = loop.makePod(`${NET}.4`, { secret });
      expect(await probe(pod, 'redis-alive')).toEqual({ code: 1, out: 'redis does not answer on port 16379' });
      expect(await probe(pod, 'redis-started')).toEqual({ code: 1, out: 'redis has not started yet: no answer on port 16379' });
    });
  });
});
