// The pod parts that several constructs share: the Redis container (bootstrap `master` and the
// controller's `redis`), the sentinel container (bootstrap pod and sentinel controller), their
// volumes and security settings. One place, so the bootstrap pod and the controllers' templates
// cannot drift apart (the seed's pod and controller were hand-kept copies of each other).
import * as k8s from '../imports/k8s';
import { handoverSeconds, SHUTDOWN_SECONDS } from './redis-config';
import { ResolvedResources, RedisSentinelSettings } from './settings';

/** The volumes, in the order a pod lists them. */
export const VOLUMES = {
  data: 'data',
  sentinelState: 'sentinel-state',
  config: 'config',
  auth: 'auth',
  run: 'run',
} as const;

const ENTRYPOINT = 'entrypoint.sh';
const PROBE = 'probe.sh';
const PRESTOP = 'prestop.sh';

/** The containers' user: the `redis` user (uid/gid 999) of the official image. */
const REDIS_UID = 999;
/** The auth Secret's files: readable by the owner (root) and the pod's fsGroup (the redis user). */
const SECRET_FILE_MODE = 0o440;

/**
 * Env from the downward API: the entry scripts identify the pod by its IP, or in the StatefulSet
 * topology by its stable DNS name, which needs its namespace.
 */
function podEnv(s: RedisSentinelSettings): k8s.EnvVar[] {
  return [
    { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
    { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    ...(s.statefulSet ? [{ name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } }] : []),
  ];
}

function script(s: RedisSentinelSettings, file: string): string {
  return `${s.paths.configDir}/${file}`;
}

function resources(r: ResolvedResources): k8s.ResourceRequirements {
  const toQuantities = (m: Readonly<Record<string, string>>) =>
    Object.fromEntries(Object.entries(m).map(([k, v]) => [k, k8s.Quantity.fromString(v)]));
  return { limits: toQuantities(r.limits), requests: toQuantities(r.requests) };
}

function readinessProbe(s: RedisSentinelSettings, check: 'redis-ready' | 'sentinel-ready'): k8s.Probe {
  return {
    exec: { command: ['sh', script(s, PROBE), check] },
    initialDelaySeconds: 1,
    periodSeconds: 2,
    timeoutSeconds: 5,
    failureThreshold: 2,
  };
}

const CONTAINER_SECURITY: k8s.SecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
};

const POD_SECURITY: k8s.PodSecurityContext = {
  runAsNonRoot: true,
  runAsUser: REDIS_UID,
  runAsGroup: REDIS_UID,
  fsGroup: REDIS_UID,
  seccompProfile: { type: 'RuntimeDefault' },
};

/** What tells the Redis and the sentinel container apart; the rest they share. */
interface Role {
  readonly name: string;
  readonly roleEnv: k8s.EnvVar[];
  readonly port: number;
  readonly resources: ResolvedResources;
  readonly probe: 'redis-ready' | 'sentinel-ready';
  readonly stateVolume: string;
  readonly statePath: string;
}

function container(s: RedisSentinelSettings, r: Role): k8s.Container {
  return {
    name: r.name,
    image: s.image,
    command: ['sh', script(s, ENTRYPOINT)],
    env: [...r.roleEnv, ...podEnv(s)],
    ports: [{ containerPort: r.port }],
    resources: resources(r.resources),
    readinessProbe: readinessProbe(s, r.probe),
    // A master hands over before its pod goes; a sentinel leading a failover lets it end.
    lifecycle: { preStop: { exec: { command: ['sh', script(s, PRESTOP)] } } },
    securityContext: CONTAINER_SECURITY,
    volumeMounts: [
      { name: r.stateVolume, mountPath: r.statePath },
      { name: VOLUMES.config, mountPath: s.paths.configDir, readOnly: true },
      ...(s.auth ? [
        { name: VOLUMES.auth, mountPath: s.paths.authDir, readOnly: true },
        { name: VOLUMES.run, mountPath: s.paths.runDir },
      ] : []),
    ],
  };
}

/**
 * A Redis server container. In the bootstrap pod it is `master` with the seed's `MASTER: "true"`;
 * in the redis controller's pods it is `redis`, a replica of whatever master the sentinels name.
 */
export function redisContainer(s: RedisSentinelSettings, inBootstrapPod: boolean): k8s.Container {
  return container(s, {
    name: inBootstrapPod ? s.containers.bootstrapRedis : s.containers.redis,
    roleEnv: inBootstrapPod ? [{ name: 'MASTER', value: 'true' }] : [],
    port: s.redisPort,
    resources: s.redisResources,
    probe: 'redis-ready',
    stateVolume: VOLUMES.data,
    statePath: s.paths.dataDir,
  });
}

/** A sentinel container (`SENTINEL: "true"`, as in the seed). */
export function sentinelContainer(s: RedisSentinelSettings): k8s.Container {
  return container(s, {
    name: s.containers.sentinel,
    roleEnv: [{ name: 'SENTINEL', value: 'true' }],
    port: s.sentinelPort,
    resources: s.sentinelResources,
    probe: 'sentinel-ready',
    stateVolume: VOLUMES.sentinelState,
    statePath: s.paths.sentinelStateDir,
  });
}

/** Every volume a container of ours may mount; a pod gets the ones its containers mount. */
function volume(s: RedisSentinelSettings, name: string): k8s.Volume {
  switch (name) {
    case VOLUMES.config: return { name, configMap: { name: s.names.configMap } };
    // Optional: without the Secret the pods start and say, once, which Secret they wait for.
    case VOLUMES.auth: return { name, secret: { secretName: s.auth!.secretName, optional: true, defaultMode: SECRET_FILE_MODE } };
    // The files the entry scripts write from the Secret for the servers: in memory, never on disk.
    case VOLUMES.run: return { name, emptyDir: { medium: 'Memory' } };
    default: return { name, emptyDir: {} };
  }
}

/** A pod spec for these containers: their volumes, the pod's security context, and no API token. */
export function podSpec(s: RedisSentinelSettings, containers: k8s.Container[]): k8s.PodSpec {
  const names = [...new Set(containers.flatMap((c) => (c.volumeMounts ?? []).map((m) => m.name)))];
  const order = Object.values(VOLUMES) as string[];
  return {
    // Nothing in these pods talks to the Kubernetes API.
    automountServiceAccountToken: false,
    // The preStop hook's handover, then the servers' own shutdown.
    terminationGracePeriodSeconds: handoverSeconds(s) + SHUTDOWN_SECONDS,
    securityContext: POD_SECURITY,
    containers,
    volumes: names.sort((a, b) => order.indexOf(a) - order.indexOf(b)).map((n) => volume(s, n)),
  };
}
