import { Duration } from 'cdk8s';
import type { ContainerResources } from 'cdk8s-plus-28';

/**
 * Props of a Redis + Sentinel topology: the composite `RedisSentinel` takes them, and so do the part
 * constructs (`RedisMasterPod`, `SentinelService`, `RedisController`, `SentinelController`,
 * `RedisSentinelConfig`), so that parts composed by hand agree on names, labels and ports.
 *
 * Every prop is optional; the defaults are the classic Kubernetes example's ("Reliable, Scalable
 * Redis on Kubernetes"), except the Sentinel timings, which are chosen for fast, safe failover.
 */
export interface RedisSentinelProps {
  /**
   * The instance name. Every object name, label value and selector follows from it, so a second
   * instance (say `cache`) can live next to the default one in the same namespace.
   *
   * Names for `redis`: Pod `redis-master`, Service `redis-sentinel`, ReplicationControllers `redis`
   * and `redis-sentinel`, ConfigMap `redis-config`, sentinel label `redis-sentinel: "true"`.
   * @default 'redis'
   */
  readonly name?: string;

  /**
   * The namespace of every object.
   * @default - no namespace in the manifests: kubectl's current namespace
   */
  readonly namespace?: string;

  /**
   * The container image of every container: the official Redis image, pinned by tag or digest.
   * Our entry scripts (shipped in a ConfigMap) run on it; it needs only `sh`, `redis-server`,
   * `redis-sentinel` and `redis-cli`.
   * @default 'redis:7.2.5'
   */
  readonly image?: string;

  /**
   * How many Redis servers (one master, the rest replicas) the launch scales `rc/<name>` to.
   * At least 2: deleting the bootstrap pod must leave a replica to promote.
   * @default 3
   */
  readonly redisReplicas?: number;

  /**
   * How many sentinels the launch scales `rc/<name>-sentinel` to. At least 3: deleting the
   * bootstrap pod takes one sentinel with it, and the others must still be a majority.
   * @default 3
   */
  readonly sentinelReplicas?: number;

  /**
   * The name under which the sentinels monitor the master (what clients ask for).
   * @default 'mymaster'
   */
  readonly masterName?: string;

  /**
   * How many sentinels must agree that the master is down before a failover starts.
   * Between 1 and `sentinelReplicas - 1` (the bootstrap pod's sentinel leaves with it).
   * @default 2
   */
  readonly quorum?: number;

  /**
   * How long the master must be unreachable before a sentinel considers it down
   * (`down-after-milliseconds`). The classic example used 60 s.
   * @default Duration.seconds(5)
   */
  readonly downAfter?: Duration;

  /**
   * Sentinel's `failover-timeout`: how long a failover may take, and half the time before the same
   * master is failed over again. Must be longer than `downAfter`. The classic example used 180 s.
   * @default Duration.seconds(15)
   */
  readonly failoverTimeout?: Duration;

  /**
   * How many replicas resynchronise with a new master at the same time (`parallel-syncs`).
   * @default 1
   */
  readonly parallelSyncs?: number;

  /**
   * A master refuses writes while fewer replicas than this are connected with a lag of at most
   * 10 s (`min-replicas-to-write`). It stops a cut-off old master from taking writes that a
   * failover would discard. 0 turns the guard off.
   * @default 1
   */
  readonly minReplicasToWrite?: number;

  /**
   * Resources of the Redis containers (`master` and `redis`).
   * @default - CPU limit of 1 core, as in the example the Kolla demo borrowed
   */
  readonly redisResources?: ContainerResources;

  /**
   * Resources of the sentinel containers.
   * @default - none set, as in the classic example
   */
  readonly sentinelResources?: ContainerResources;

  /**
   * How long a Redis replica (or a sentinel) keeps asking the sentinel Service for the master
   * before its container exits and Kubernetes restarts it.
   * @default Duration.minutes(2)
   */
  readonly discoveryTimeout?: Duration;

  /**
   * The Redis port.
   * @default 6379
   */
  readonly redisPort?: number;

  /**
   * The Sentinel port, also the sentinel Service's port.
   * @default 26379
   */
  readonly sentinelPort?: number;
}

/** The objects' names, derived from the instance name. */
export interface ResolvedNames {
  readonly instance: string;
  readonly configMap: string;
  readonly masterPod: string;
  readonly sentinelService: string;
  readonly redisController: string;
  readonly sentinelController: string;
}

/** Labels and selectors, derived from the instance name (the seed's for `redis`). */
export interface ResolvedLabels {
  /** `name: <instance>`: the redis controller's selector; the bootstrap pod carries it too. */
  readonly redisSelector: Readonly<Record<string, string>>;
  /** `<instance>-sentinel: "true"`: the sentinel controller's and Service's selector. */
  readonly sentinelSelector: Readonly<Record<string, string>>;
  readonly masterPod: Readonly<Record<string, string>>;
  readonly redisPod: Readonly<Record<string, string>>;
  readonly sentinelPod: Readonly<Record<string, string>>;
  readonly sentinelService: Readonly<Record<string, string>>;
}

/** Resource requirements in Kubernetes quantities. */
export interface ResolvedResources {
  readonly limits?: Readonly<Record<string, string>>;
  readonly requests?: Readonly<Record<string, string>>;
}

/** Props resolved: every default applied and every rule checked, once. */
export interface RedisSentinelSettings {
  readonly names: ResolvedNames;
  readonly labels: ResolvedLabels;
  readonly namespace?: string;
  readonly image: string;
  readonly redisReplicas: number;
  readonly sentinelReplicas: number;
  readonly masterName: string;
  readonly quorum: number;
  readonly downAfterMs: number;
  readonly failoverTimeoutMs: number;
  readonly parallelSyncs: number;
  readonly minReplicasToWrite: number;
  readonly redisResources: ResolvedResources;
  readonly sentinelResources: ResolvedResources;
  readonly discoveryTimeoutSeconds: number;
  readonly redisPort: number;
  readonly sentinelPort: number;
  /** Paths inside the containers. */
  readonly paths: {
    readonly configDir: string;
    readonly dataDir: string;
    readonly sentinelStateDir: string;
  };
}

export const DEFAULTS = {
  name: 'redis',
  image: 'redis:7.2.5',
  redisReplicas: 3,
  sentinelReplicas: 3,
  masterName: 'mymaster',
  quorum: 2,
  downAfter: Duration.seconds(5),
  failoverTimeout: Duration.seconds(15),
  parallelSyncs: 1,
  minReplicasToWrite: 1,
  discoveryTimeout: Duration.minutes(2),
  redisPort: 6379,
  sentinelPort: 26379,
} as const;

/** The seed's data path; the entry scripts and the config files are mounted beside it. */
const PATHS = {
  configDir: '/etc/redis-sentinel',
  dataDir: '/redis-master-data',
  sentinelStateDir: '/var/lib/redis-sentinel',
} as const;

const SENTINEL_SUFFIX = '-sentinel';
const MAX_NAME = 63;
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MASTER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** A prop that breaks the rules: the message names the prop, shows the value and says the fix. */
export class RedisSentinelPropError extends Error {
  constructor(prop: string, value: unknown, problem: string, fix: string) {
    super(`Invalid RedisSentinel prop '${prop}' = ${show(value)}: ${problem}. Fix: ${fix}.`);
    this.name = 'RedisSentinelPropError';
  }
}

function show(value: unknown): string {
  if (value instanceof Duration) return `Duration(${value.toMilliseconds()} ms)`;
  return JSON.stringify(value) ?? String(value);
}

const cache = new WeakMap<RedisSentinelProps, RedisSentinelSettings>();

/**
 * Resolves props into settings: applies the defaults and rejects every bad value. The result is
 * cached per props object, so the composite and its parts resolve the same props once.
 */
export function resolveSettings(props: RedisSentinelProps = {}): RedisSentinelSettings {
  const cached = cache.get(props);
  if (cached) return cached;
  const settings = resolve(props);
  cache.set(props, settings);
  return settings;
}

function resolve(props: RedisSentinelProps): RedisSentinelSettings {
  const instance = props.name ?? DEFAULTS.name;
  checkInstanceName(instance);
  if (props.namespace !== undefined) checkNamespace(props.namespace);

  const image = props.image ?? DEFAULTS.image;
  checkImage(image);

  const redisReplicas = props.redisReplicas ?? DEFAULTS.redisReplicas;
  checkInteger('redisReplicas', redisReplicas, 2, 'deleting the bootstrap pod must leave at least one replica to promote',
    'set redisReplicas to 2 or more (3 is the default)');
  const sentinelReplicas = props.sentinelReplicas ?? DEFAULTS.sentinelReplicas;
  checkInteger('sentinelReplicas', sentinelReplicas, 3,
    'deleting the bootstrap pod takes one sentinel with it, and the rest must still be a majority to authorise the failover',
    'set sentinelReplicas to 3 or more (an odd number is best)');

  const masterName = props.masterName ?? DEFAULTS.masterName;
  if (!MASTER_NAME.test(masterName)) {
    throw new RedisSentinelPropError('masterName', masterName,
      'a master name may hold only letters, digits, ".", "_" and "-", starting with a letter or digit',
      "use a name such as 'mymaster'");
  }

  const quorum = props.quorum ?? DEFAULTS.quorum;
  const maxQuorum = sentinelReplicas - 1;
  if (!Number.isInteger(quorum) || quorum < 1 || quorum > maxQuorum) {
    throw new RedisSentinelPropError('quorum', quorum,
      `it must be a whole number from 1 to sentinelReplicas - 1 (${maxQuorum}): the bootstrap pod's sentinel leaves with it, so a larger quorum can never be reached`,
      `set quorum to ${Math.floor(sentinelReplicas / 2) + 1} (a majority of ${sentinelReplicas}) or raise sentinelReplicas`);
  }

  const downAfterMs = durationMs('downAfter', props.downAfter ?? DEFAULTS.downAfter);
  if (downAfterMs < 1000) {
    throw new RedisSentinelPropError('downAfter', props.downAfter,
      'Sentinel pings once a second, so less than 1 s marks a healthy master down',
      'use Duration.seconds(1) or more (5 s is the default)');
  }
  const failoverTimeoutMs = durationMs('failoverTimeout', props.failoverTimeout ?? DEFAULTS.failoverTimeout);
  if (failoverTimeoutMs <= downAfterMs) {
    throw new RedisSentinelPropError('failoverTimeout', props.failoverTimeout ?? DEFAULTS.failoverTimeout,
      `it must be longer than downAfter (${downAfterMs} ms), or a failover can time out before the master is even seen down`,
      `set failoverTimeout to at least three times downAfter, e.g. Duration.millis(${downAfterMs * 3})`);
  }

  const parallelSyncs = props.parallelSyncs ?? DEFAULTS.parallelSyncs;
  checkInteger('parallelSyncs', parallelSyncs, 1, 'at least one replica must resynchronise at a time', 'set parallelSyncs to 1 or more');

  const minReplicasToWrite = props.minReplicasToWrite ?? DEFAULTS.minReplicasToWrite;
  if (!Number.isInteger(minReplicasToWrite) || minReplicasToWrite < 0 || minReplicasToWrite > redisReplicas - 1) {
    throw new RedisSentinelPropError('minReplicasToWrite', minReplicasToWrite,
      `it must be a whole number from 0 to redisReplicas - 1 (${redisReplicas - 1}), or the master refuses every write`,
      'set minReplicasToWrite to 1 (the default) or 0 to turn the guard off');
  }

  const discoveryTimeoutMs = durationMs('discoveryTimeout', props.discoveryTimeout ?? DEFAULTS.discoveryTimeout);
  if (discoveryTimeoutMs < 10_000) {
    throw new RedisSentinelPropError('discoveryTimeout', props.discoveryTimeout,
      'pods need time to find the master while the sentinels start',
      'use Duration.seconds(10) or more (2 minutes is the default)');
  }

  const redisPort = props.redisPort ?? DEFAULTS.redisPort;
  checkPort('redisPort', redisPort);
  const sentinelPort = props.sentinelPort ?? DEFAULTS.sentinelPort;
  checkPort('sentinelPort', sentinelPort);
  if (redisPort === sentinelPort) {
    throw new RedisSentinelPropError('sentinelPort', sentinelPort,
      'Redis and Sentinel share the bootstrap pod\'s network, so their ports must differ',
      `use different ports, e.g. redisPort ${DEFAULTS.redisPort} and sentinelPort ${DEFAULTS.sentinelPort}`);
  }

  const sentinelName = `${instance}${SENTINEL_SUFFIX}`;
  const names: ResolvedNames = {
    instance,
    configMap: `${instance}-config`,
    masterPod: `${instance}-master`,
    sentinelService: sentinelName,
    redisController: instance,
    sentinelController: sentinelName,
  };
  const redisSelector = { name: instance };
  const sentinelSelector = { [sentinelName]: 'true' };
  const labels: ResolvedLabels = {
    redisSelector,
    sentinelSelector,
    masterPod: { ...redisSelector, ...sentinelSelector, role: 'master' },
    redisPod: { ...redisSelector },
    sentinelPod: { name: sentinelName, ...sentinelSelector, role: 'sentinel' },
    sentinelService: { name: 'sentinel', role: 'service' },
  };

  return {
    names,
    labels,
    namespace: props.namespace,
    image,
    redisReplicas,
    sentinelReplicas,
    masterName,
    quorum,
    downAfterMs,
    failoverTimeoutMs,
    parallelSyncs,
    minReplicasToWrite,
    redisResources: resolveResources('redisResources', props.redisResources, { limits: { cpu: '1' } }),
    sentinelResources: resolveResources('sentinelResources', props.sentinelResources, {}),
    discoveryTimeoutSeconds: Math.ceil(discoveryTimeoutMs / 1000),
    redisPort,
    sentinelPort,
    paths: PATHS,
  };
}

function checkInstanceName(name: unknown): void {
  const max = MAX_NAME - SENTINEL_SUFFIX.length;
  if (typeof name !== 'string' || !DNS_1035_LABEL.test(name) || name.length > max) {
    throw new RedisSentinelPropError('name', name,
      `object names derive from it (Service '<name>-sentinel'), so it must be a DNS label: lowercase letters, digits and '-', starting with a letter, ending with a letter or digit, at most ${max} characters`,
      "use a name such as 'redis' or 'cache'");
  }
}

function checkNamespace(namespace: unknown): void {
  if (typeof namespace !== 'string' || !DNS_1123_LABEL.test(namespace) || namespace.length > MAX_NAME) {
    throw new RedisSentinelPropError('namespace', namespace,
      `a namespace must be a DNS label: lowercase letters, digits and '-', at most ${MAX_NAME} characters`,
      "use a name such as 'default' or 'redis', or leave namespace unset");
  }
}

function checkImage(image: unknown): void {
  if (typeof image !== 'string' || image.trim() === '') {
    throw new RedisSentinelPropError('image', image, 'every container needs an image', "set image to a pinned Redis image such as 'redis:7.2.5'");
  }
  if (/\s/.test(image)) {
    throw new RedisSentinelPropError('image', image, 'an image reference has no white space', "remove the spaces, e.g. 'redis:7.2.5'");
  }
  const digest = /@sha256:[a-f0-9]{64}$/.test(image);
  const lastPart = image.slice(image.lastIndexOf('/') + 1);
  const tag = lastPart.includes(':') ? lastPart.slice(lastPart.indexOf(':') + 1) : '';
  if (!digest && (tag === '' || tag === 'latest')) {
    throw new RedisSentinelPropError('image', image,
      'the image must be pinned by a tag other than "latest" or by a digest, so every pod runs the same Redis',
      `add a version tag, e.g. '${image.replace(/:latest$/, '')}:7.2.5'`);
  }
}

function checkInteger(prop: string, value: unknown, min: number, why: string, fix: string): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new RedisSentinelPropError(prop, value, `it must be a whole number of at least ${min}: ${why}`, fix);
  }
}

function checkPort(prop: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
    throw new RedisSentinelPropError(prop, value, 'a port is a whole number from 1 to 65535', `use the default ${prop === 'redisPort' ? DEFAULTS.redisPort : DEFAULTS.sentinelPort}`);
  }
}

function durationMs(prop: string, value: unknown): number {
  if (!(value instanceof Duration)) {
    throw new RedisSentinelPropError(prop, value, 'durations are cdk8s Duration values, not bare numbers', `write e.g. Duration.seconds(5)`);
  }
  const ms = value.toMilliseconds();
  if (!Number.isInteger(ms) || ms <= 0) {
    throw new RedisSentinelPropError(prop, value, 'it must be a positive whole number of milliseconds', 'use e.g. Duration.seconds(5)');
  }
  return ms;
}

function resolveResources(prop: string, resources: ContainerResources | undefined, fallback: ResolvedResources): ResolvedResources {
  if (resources === undefined) return fallback;
  const limits: Record<string, string> = {};
  const requests: Record<string, string> = {};
  if (resources.cpu?.limit) limits.cpu = resources.cpu.limit.amount;
  if (resources.cpu?.request) requests.cpu = resources.cpu.request.amount;
  if (resources.memory?.limit) limits.memory = `${resources.memory.limit.toMebibytes()}Mi`;
  if (resources.memory?.request) requests.memory = `${resources.memory.request.toMebibytes()}Mi`;
  if (resources.ephemeralStorage?.limit) limits['ephemeral-storage'] = `${resources.ephemeralStorage.limit.toMebibytes()}Mi`;
  if (resources.ephemeralStorage?.request) requests['ephemeral-storage'] = `${resources.ephemeralStorage.request.toMebibytes()}Mi`;
  for (const key of Object.keys(requests)) {
    const limit = limits[key];
    if (limit !== undefined && quantity(requests[key]) > quantity(limit)) {
      throw new RedisSentinelPropError(`${prop}.${RESOURCE_PROPS[key]}`,
        { request: requests[key], limit }, 'a request above its limit is rejected by the API server', 'lower the request or raise the limit');
    }
  }
  return {
    ...(Object.keys(limits).length ? { limits } : {}),
    ...(Object.keys(requests).length ? { requests } : {}),
  };
}

/** The ContainerResources prop of each Kubernetes resource name, for error messages. */
const RESOURCE_PROPS: Record<string, string> = { 'cpu': 'cpu', 'memory': 'memory', 'ephemeral-storage': 'ephemeralStorage' };

/** Compares the quantities this file writes: plain cores, millicores (`m`) and mebibytes (`Mi`). */
function quantity(q: string): number {
  if (q.endsWith('m')) return Number(q.slice(0, -1)) / 1000;
  if (q.endsWith('Mi')) return Number(q.slice(0, -2));
  return Number(q);
}
