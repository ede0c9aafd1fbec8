// A property test over random props (fast-check), valid and adversarial: whatever resolveSettings
// accepts synthesizes objects that pass the strict Kubernetes 1.28 and 1.36 checks, and a sample of
// them starts on real redis-server and redis-sentinel (loopback, through RenderOptions); whatever
// it rejects, it rejects with a RedisSentinelPropError, and the construct rejects the same.
import { createServer } from 'net';
import { Duration, Size, Testing } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-28';
import fc from 'fast-check';
import { RedisSentinel, RedisSentinelPropError, RedisSentinelProps, RedisSentinelSettings, resolveSettings } from '../src';
import { SCHEMA_FILES, strictValidators } from './strict-schema';
import { As, describeIfRedis, Loopback, loopbackNet, randomSecret, rawCli, until } from './helpers/loopback';

const INT32_MAX = 2 ** 31 - 1;
/** Synthesized runs: 5000 take about 9 s on this machine (2 cores); PROPS_RUNS=40000 for a deeper search (80 s). */
const RUNS = Number(process.env.PROPS_RUNS ?? 5000);
/** The loopback /24 of this run's fake pods. */
const NET = loopbackNet();
/** Accepted props that start on real servers, per run. */
const STARTS = 5;

/**
 * A valid value most of the time, else one of the adversarial ones: with a dozen props set at
 * once, about half the prop sets are then accepted.
 */
const mostly = <T>(valid: fc.Arbitrary<T>, ...bad: Array<fc.Arbitrary<unknown>>) =>
  fc.oneof({ arbitrary: valid as fc.Arbitrary<unknown>, weight: 30 }, { arbitrary: fc.oneof(...bad), weight: 1 });

/** Values of the wrong type, or odd numbers, for any prop. */
const junk = fc.constantFrom<unknown>(null, '3', '', true, [], {}, [1], NaN, Infinity, -Infinity, -0, 0.5, -1, 2 ** 31, 2 ** 53, 1e21, 10n, Symbol('s'), () => 1);
const oddNumbers = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(0, -1, 0.5, 1e-7, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), 2 ** 53, 2 ** 53 + 2, 1e21, NaN, Infinity));
const oddStrings = fc.oneof(
  fc.string(), fc.string({ unit: 'binary' }),
  fc.constantFrom('', ' ', 'A', '-a', 'a-', 'a_b', 'a.b', 'é', "a'b", 'a b', 'a\nb', '$(id)', '`id`', '%MASTER_HOST%', 'a'.repeat(300), '*', '#', '\\'),
);
const dnsLabel = (max: number) => fc.stringMatching(new RegExp(`^[a-z]([-a-z0-9]{0,${max - 2}}[a-z0-9])?$`));
/** A cdk8s value built from a number, or the number itself when cdk8s refuses it. */
const built = <T>(make: (n: number) => T) => (n: number): T | number => { try { return make(n); } catch { return n; } };
const duration = (minMs: number, maxMs: number) => mostly(
  fc.integer({ min: minMs, max: maxMs }).map(Duration.millis),
  oddNumbers.map(built(Duration.millis)), oddNumbers.map(built(Duration.seconds)), oddNumbers, junk,
  fc.constant({ toMilliseconds: () => { throw new Error('no'); } }), fc.constant({ toMilliseconds: () => 'soon' }),
);
const size = (minMiB: number, maxMiB: number) => mostly(
  fc.integer({ min: minMiB, max: maxMiB }).map(Size.mebibytes),
  oddNumbers.map(built(Size.kibibytes)), oddNumbers.map(built(Size.gibibytes)), junk, fc.constant({ toKibibytes: () => 1.5 }),
);
const cpu = mostly(fc.constant(undefined), fc.integer({ min: 1, max: 4000 }).map(Cpu.millis), oddNumbers.map(built(Cpu.units)), junk, fc.constant({ amount: '1e3' }));
/** ContainerResources: mostly a request at or below its limit, a memory limit above 300 MiB (maxMemory goes up to 300). */
const resources = mostly(
  fc.record({
    cpu: fc.record({ request: cpu, limit: cpu }, { requiredKeys: [] }),
    memory: mostly(fc.integer({ min: 320, max: 2048 }).chain((limit) => fc.record({ request: size(16, limit), limit: fc.constant(Size.mebibytes(limit)) }, { requiredKeys: [] })),
      fc.record({ request: size(16, 4096), limit: size(1, 4096) }, { requiredKeys: [] })),
    ephemeralStorage: fc.record({ limit: size(1, 100) }, { requiredKeys: [] }),
  }, { requiredKeys: [] }),
  junk, fc.constant({ gpu: {} }), fc.constant({ memory: { max: Size.mebibytes(1) } }),
);
/** Real Redis 7.0 commands, subcommands and categories, and strings that only look like rules. */
const realRule = fc.tuple(fc.constantFrom('+', '-'), fc.constantFrom('flushdb', 'keys', '@scripting', 'config|get', 'sort', 'client|list', '@slow', 'lpush', 'object|encoding'))
  .map(([sign, name]) => `${sign}${name}`);
const aclRule = mostly(realRule, fc.stringMatching(/^[+-]@?[a-z][a-z0-9_-]{0,12}(\|[a-z][a-z0-9_-]{0,8})?$/), oddStrings, junk, fc.constantFrom('~*', '&*', 'on', 'nopass', '>pw', '+FLUSHDB'));
const auth = fc.oneof(
  { arbitrary: fc.constantFrom<unknown>(undefined, true, false), weight: 4 },
  { arbitrary: fc.record({ secretName: mostly(dnsLabel(20), oddStrings, junk), clientAclRules: mostly(fc.array(aclRule, { maxLength: 5 }), fc.array(realRule, { minLength: 65, maxLength: 70 }), junk) }, { requiredKeys: [] }), weight: 4 },
  { arbitrary: junk, weight: 1 }, { arbitrary: fc.constant({ password: 'x' }), weight: 1 },
);

const propsArb: fc.Arbitrary<Record<string, unknown>> = fc.tuple(
  fc.record({
    name: mostly(dnsLabel(20), oddStrings, junk),
    namespace: mostly(dnsLabel(20), oddStrings, junk),
    image: mostly(fc.constantFrom('redis:7.0.15', 'redis:8.6.5', 'registry.example.com:5000/lib/redis:7.2.5', `redis@sha256:${'a'.repeat(64)}`),
      fc.constantFrom('redis', 'redis:latest', 'Redis:7', 'redis:', ':7', `redis@sha256:${'a'.repeat(63)}`), oddStrings, junk),
    redisReplicas: mostly(fc.integer({ min: 2, max: 7 }), fc.constant(INT32_MAX), oddNumbers, junk),
    sentinelReplicas: mostly(fc.integer({ min: 3, max: 7 }), fc.constant(INT32_MAX), oddNumbers, junk),
    masterName: mostly(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/), oddStrings, junk),
    quorum: mostly(fc.integer({ min: 1, max: 3 }), oddNumbers, junk),
    downAfter: duration(1000, 30_000),
    failoverTimeout: duration(3000, 200_000),
    parallelSyncs: mostly(fc.integer({ min: 1, max: 5 }), fc.constant(INT32_MAX), oddNumbers, junk),
    minReplicasToWrite: mostly(fc.integer({ min: 0, max: 2 }), oddNumbers, junk),
    redisResources: resources,
    sentinelResources: resources,
    maxMemory: size(1, 300),
    auth,
    networkPolicy: mostly(fc.boolean(), junk),
    discoveryTimeout: duration(10_000, 600_000),
    redisPort: mostly(fc.integer({ min: 1024, max: 65535 }), oddNumbers, junk),
    sentinelPort: mostly(fc.integer({ min: 1024, max: 65535 }), oddNumbers, junk),
  }, { requiredKeys: [] }),
  fc.oneof({ arbitrary: fc.constant({}), weight: 20 }, { arbitrary: fc.dictionary(oddStrings, fc.anything(), { minKeys: 1, maxKeys: 2 }), weight: 1 }),
).map(([known, unknown]) => ({ ...unknown, ...known }));

describe('props, at random', () => {
  const validators = SCHEMA_FILES.map((file) => ({ file, validatorFor: strictValidators(file) }));
  const accepted: RedisSentinelSettings[] = [];
  let rejected = 0;

  test(`${RUNS} random prop sets: accepted ones synthesize valid objects, rejected ones fail with a RedisSentinelPropError`, () => {
    fc.assert(fc.property(propsArb, (props) => {
      let settings: RedisSentinelSettings | undefined;
      let error: unknown;
      try { settings = resolveSettings(props as RedisSentinelProps); } catch (e) { error = e; }
      let docs: any[] | undefined;
      let synthError: unknown;
      try {
        const chart = Testing.chart();
        new RedisSentinel(chart, 'Redis', props as RedisSentinelProps);
        docs = Testing.synth(chart);
      } catch (e) { synthError = e; }
      if (error !== undefined) {
        rejected++;
        expect(error).toBeInstanceOf(RedisSentinelPropError);
        expect((error as Error).message).toMatch(/^Invalid RedisSentinel prop '[\s\S]*' = [\s\S]*: [\s\S]+\. Fix: [\s\S]+\.$/);
        expect(synthError).toBeInstanceOf(RedisSentinelPropError);
        expect((synthError as Error).message).toBe((error as Error).message);
        return;
      }
      expect(synthError).toBeUndefined();
      for (const doc of docs!) {
        for (const { file, validatorFor } of validators) {
          const validate = validatorFor(doc);
          validate(doc);
          expect({ file, object: `${doc.kind}/${doc.metadata.name}`, errors: validate.errors ?? [] }).toEqual({ file, object: `${doc.kind}/${doc.metadata.name}`, errors: [] });
        }
      }
      accepted.push(settings!);
    }), { numRuns: RUNS });
    // Both sides of the property were exercised in earnest.
    expect(accepted.length).toBeGreaterThan(RUNS / 5);
    expect(rejected).toBeGreaterThan(RUNS / 5);
  }, 60000);

  describeIfRedis(`${STARTS} of the accepted ones start on real redis-server and redis-sentinel`, () => {
    let loop: Loopback;
    beforeAll(() => { loop = new Loopback({ settings: resolveSettings({}), render: { pacing: { RETRY_SECONDS: 0.2 } } }); });
    afterAll(async () => { await loop.cleanup(); });

    test('each one: its bootstrap pod founds a cluster, its sentinel monitors it, with the props\' passwords and maxmemory', async () => {
      // Rules that are not Redis commands cannot start (see the known gap below): a sample has real ones only.
      const real = new Set(fc.sample(realRule, 500));
      const candidates = accepted.filter((s) => (s.auth?.clientAclRules ?? []).every((r) => real.has(r)));
      const picks = fc.sample(fc.shuffledSubarray(candidates, { minLength: STARTS, maxLength: STARTS }), 1)[0];
      expect(picks).toHaveLength(STARTS);
      for (const [i, settings] of picks.entries()) {
        const ip = `${NET}.${10 + i}`;
        const shown = JSON.stringify({ redisPort: settings.redisPort, sentinelPort: settings.sentinelPort, masterName: settings.masterName, auth: settings.auth, maxMemoryBytes: settings.maxMemoryBytes, quorum: settings.quorum, parallelSyncs: settings.parallelSyncs });
        if (!(await free(ip, settings.redisPort)) || !(await free(ip, settings.sentinelPort))) continue; // a port taken on this machine, not a finding
        await startsOnRealServers(loop, settings, ip).catch((e) => { throw new Error(`${shown}: ${(e as Error).message}`); });
      }
    }, 60000);

    test('a client ACL rule that names no Redis command keeps every Redis from starting: why settings must reject it', async () => {
      const valid = resolveSettings({ redisPort: 16579, sentinelPort: 26579 });
      const settings = { ...valid, auth: { ...valid.auth!, clientAclRules: ['+notacommand'] } };
      await expect(startsOnRealServers(loop, settings, `${NET}.30`)).rejects.toThrow(/Aborting Redis startup because of ACL errors: .*users\.acl:1: Error in applying operation '\+notacommand': Unknown command or category name in ACL/);
    }, 30000);

    // Found by this test: settings accepted any lowercase name as a rule; now it checks the names
    // against Redis 7.0's (src/acl-names.ts).
    test('resolveSettings rejects a client ACL rule that names no Redis command', () => {
      expect(() => resolveSettings({ auth: { clientAclRules: ['+notacommand'] } })).toThrow(RedisSentinelPropError);
    });
  });
});

/** The IP:port is free to listen on. */
function free(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

/**
 * Starts a bootstrap pod (Redis and sentinel) for these settings at `ip`, with a Secret of random
 * passwords when auth is on; resolves once the sentinel monitors the Redis as master and the Redis
 * runs with the settings' maxmemory and lets the client log in. Rejects with the container logs
 * when a container ends or time runs out.
 */
async function startsOnRealServers(loop: Loopback, settings: RedisSentinelSettings, ip: string): Promise<void> {
  const secret = settings.auth ? randomSecret(settings) : undefined;
  const pod = loop.makePod(ip, { settings, sentinelHost: ip, secret });
  const admin: As = secret ? { user: 'admin', password: secret[settings.auth!.secretKeys.admin] } : {};
  const client: As = secret ? { password: secret[settings.auth!.secretKeys.client] } : {};
  const containers = [loop.start(pod, { MASTER: 'true' }), loop.start(pod, { SENTINEL: 'true' })];
  const ended = new Promise<never>((_, reject) => {
    for (const c of containers) c.proc.on('exit', (code) => reject(new Error(`a container ended (${code})`)));
  });
  ended.catch(() => undefined); // the containers end when this is done, too
  const ask = (port: number, args: string[], as: As = admin) => rawCli(ip, port, args, '', as).out;
  try {
    await Promise.race([ended, until(`the sentinel at ${ip}:${settings.sentinelPort} monitors the master`, () =>
      ask(settings.sentinelPort, ['SENTINEL', 'get-master-addr-by-name', settings.masterName]) === `${ip}\n${settings.redisPort}`
      && /^role:master/m.test(ask(settings.redisPort, ['INFO', 'replication'])), 20)]);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${containers.map((x) => x.log()).join('\n')}`);
  }
  expect(ask(settings.redisPort, ['CONFIG', 'GET', 'maxmemory'])).toBe(`maxmemory\n${settings.maxMemoryBytes}`);
  // The client logs in (its rules may take PING away: NOPERM comes after a login, NOAUTH without one)
  expect(ask(settings.redisPort, ['PING'], client)).toMatch(secret ? /^(PONG|NOPERM )/ : /^PONG$/);
  if (secret) expect(ask(settings.redisPort, ['PING'], {})).toBe('NOAUTH Authentication required.');
  for (const c of containers) process.kill(-c.proc.pid!, 'SIGKILL');
}
