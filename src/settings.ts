// Props in, settings out: every default and every rule on props lives here, once. Nothing downstream
// re-checks or re-defaults a prop.
import { Duration } from 'cdk8s';
import type { ContainerResources } from 'cdk8s-plus-28';
import type { RedisSentinelProps } from './props';

/** The objects' names, derived from the instance name. */
export interface ResolvedNames {
  readonly instance: string;
  readonly configMap: string;
  /** The bootstrap pod (the seed's `redis-master`): the first master and first sentinel. */
  readonly bootstrapPod: string;
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
  readonly bootstrapPod: Readonly<Record<string, string>>;
  readonly redisPod: Readonly<Record<string, string>>;
  readonly sentinelPod: Readonly<Record<string, string>>;
  readonly sentinelService: Readonly<Record<string, string>>;
}

/** Resource requirements in Kubernetes quantities. */
export interface ResolvedResources {
  readonly limits?: Readonly<Record<string, string>>;
  readonly requests?: Readonly<Record<string, string>>;
}

/** The containers' names (the seed's), which the launch script also uses for `kubectl exec -c`. */
export interface ResolvedContainers {
  /** The bootstrap pod's Redis: `master`. */
  readonly bootstrapRedis: string;
  /** The redis controller's Redis: `redis`. */
  readonly redis: string;
  /** Every sentinel container: `sentinel`. */
  readonly sentinel: string;
}

/** Props resolved: every default applied and every rule checked, once. */
export interface RedisSentinelSettings {
  readonly names: ResolvedNames;
  readonly labels: ResolvedLabels;
  readonly containers: ResolvedContainers;
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

/** The seed's container names. */
const CONTAINERS: ResolvedContainers = { bootstrapRedis: 'master', redis: 'redis', sentinel: 'sentinel' };

const SENTINEL_SUFFIX = '-sentinel';
const MAX_NAME = 63;
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MASTER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * A prop that breaks the rules: the message names the construct and the prop, shows the value and
 * says the fix.
 */
export class RedisSentinelPropError extends Error {
  constructor(prop: string, value: unknown, problem: string, fix: string, construct = 'RedisSentinel') {
    super(`Invalid ${construct} prop '${prop}' = ${show(value)}: ${problem}. Fix: ${fix}.`);
    this.name = 'RedisSentinelPropError';
  }
}

function show(value: unknown): string {
  if (value instanceof Duration) return `Duration(${value.toMilliseconds()} ms)`;
  return JSON.stringify(value) ?? String(value);
}

/** Resolves props into settings: applies the defaults and rejects every bad value. */
export function resolveSettings(props: RedisSentinelProps = {}): RedisSentinelSettings {
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
    bootstrapPod: `${instance}-master`,
    sentinelService: sentinelName,
    redisController: instance,
    sentinelController: sentinelName,
  };
  const redisSelector = { name: instance };
  const sentinelSelector = { [sentinelName]: 'true' };
  const labels: ResolvedLabels = {
    redisSelector,
    sentinelSelector,
    bootstrapPod: { ...redisSelector, ...sentinelSelector, role: 'master' },
    redisPod: { ...redisSelector },
    sentinelPod: { name: sentinelName, ...sentinelSelector, role: 'sentinel' },
    sentinelService: { name: 'sentinel', role: 'service' },
  };

  return {
    names,
    labels,
    containers: CONTAINERS,
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

/**
 * A controller's `replicas` prop: `spec.replicas` in its manifest, or nothing (Kubernetes starts it at
 * one, and a later `kubectl apply` leaves a scaled controller alone).
 */
export function resolveControllerReplicas(construct: string, replicas: number | undefined): number | undefined {
  if (replicas === undefined) return undefined;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 1) {
    throw new RedisSentinelPropError('replicas', replicas, 'a controller needs at least one pod',
      'set replicas to 1 or more, or leave it unset to let the launch scale the controller', construct);
  }
  return replicas;
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
