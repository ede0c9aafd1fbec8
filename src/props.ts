// The public props: what users of the constructs write. Defaults and rules live in settings.ts.
import type { Duration, Size } from 'cdk8s';
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
   * @default - the namespace of the chart the construct is in; with none, no namespace in the
   * manifests (kubectl's current namespace)
   */
  readonly namespace?: string;

  /**
   * The container image of every container: the official Redis image, pinned by tag or digest.
   * Our entry scripts (shipped in a ConfigMap) run on it; it needs only `sh`, `redis-server`,
   * `redis-sentinel`, `redis-cli`, `sha256sum` and `timeout`.
   * @default 'redis:8.6.5'
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
   * Resources of the Redis containers (`master` and `redis`). Each field you set replaces the
   * default's; every container keeps CPU and memory requests and a memory limit.
   * @default - requests 100m CPU and 512 MiB; limits 1 CPU (the classic example's) and 512 MiB
   */
  readonly redisResources?: ContainerResources;

  /**
   * Resources of the sentinel containers. Each field you set replaces the default's.
   * @default - requests 20m CPU and 64 MiB; limit 64 MiB
   */
  readonly sentinelResources?: ContainerResources;

  /**
   * The memory Redis may use for data (`maxmemory`); writes that need more are refused
   * (`noeviction`). It must stay below the Redis containers' memory limit.
   * @default - 60% of the Redis containers' memory limit: the rest is headroom for replication
   * buffers and for the copy-on-write pages of a forked rewrite or full sync
   */
  readonly maxMemory?: Size;

  /**
   * Authentication: ACL users on Redis and Sentinel, their passwords in a Secret (see
   * `RedisSentinelAuthProps`). `false` turns it off: then any pod that can reach the ports can read,
   * change or wipe the data and redirect failover.
   * @default - on, with the Secret `<name>-auth`
   */
  readonly auth?: RedisSentinelAuthProps | false;

  /**
   * A NetworkPolicy for the instance's pods: the Redis and Sentinel ports take traffic only from the
   * instance's own pods, from pods labelled `<name>-client: "true"` in the namespace, and from peers
   * given to `allowFrom`; the pods reach only each other and DNS. `false` leaves the pods open, for
   * clusters whose network plugin does not enforce NetworkPolicy.
   * @default true
   */
  readonly networkPolicy?: boolean;

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

/** Authentication settings. */
export interface RedisSentinelAuthProps {
  /**
   * The Secret that holds the passwords, one key per user: `client-password` (applications, on
   * Redis and Sentinel), `replication-password`, `sentinel-password` and `admin-password` (our
   * scripts and the launch). The launch script creates it with random passwords when it is missing.
   * A key `<user>-password-<anything>` adds a second accepted password, for rotation.
   * @default '<name>-auth'
   */
  readonly secretName?: string;

  /**
   * ACL rules added to the client user (`default`) after its defaults, to widen (or narrow) what
   * applications may run: commands and categories such as `+flushdb`, `+@scripting` or `-keys`.
   * @default - none: every command except `@admin`, `@dangerous` and the ones that change
   * replication, configuration or modules
   */
  readonly clientAclRules?: string[];
}

/** Props of the controllers: the topology's props plus the replicas written into the manifest. */
export interface ControllerProps extends RedisSentinelProps {
  /**
   * `spec.replicas` in the manifest.
   * @default - omitted: Kubernetes starts the controller at 1 (the seed's value), the launch scales
   * it, and a later `kubectl apply` of the same manifest never scales a running cluster back down
   */
  readonly replicas?: number;
}

/** Where the sentinels of the StatefulSet topology run. */
export enum SentinelPlacement {
  /** A sentinel container in each Redis pod: as many sentinels as Redis pods. */
  SIDECAR = 'sidecar',
  /** A StatefulSet of sentinel pods of its own, `sentinelReplicas` of them. */
  STATEFUL_SET = 'statefulset',
}

/** How hard the scheduler spreads the Redis pods over nodes. */
export enum PodAntiAffinity {
  /** Prefer other nodes; share one when there is no other (the default). */
  PREFERRED = 'preferred',
  /** Never two Redis pods of the instance on one node: a pod stays Pending rather. */
  REQUIRED = 'required',
}

/** What happens to a Redis pod's volume (a PersistentVolumeClaim). */
export enum VolumeRetention {
  /** The claim and its data stay (the default): nothing is lost by a mistaken delete. */
  RETAIN = 'Retain',
  /** The claim is deleted with its pod's StatefulSet or on scale-down. */
  DELETE = 'Delete',
}

/** A toleration, as in a pod spec. */
export interface PodToleration {
  readonly key?: string;
  /** `Equal` or `Exists`. @default 'Equal' */
  readonly operator?: string;
  readonly value?: string;
  /** `NoSchedule`, `PreferNoSchedule` or `NoExecute`. @default - all effects */
  readonly effect?: string;
  readonly tolerationSeconds?: number;
}

/**
 * Props of the StatefulSet topology (`RedisSentinelStatefulSet`): the same props as the classic one
 * where they mean the same thing, plus storage and scheduling. There is no bootstrap pod and no
 * launch script: `kubectl apply` alone brings it up.
 */
export interface RedisSentinelStatefulSetProps extends RedisSentinelProps {
  /** Where the sentinels run. @default SentinelPlacement.SIDECAR (docs/statefulset.md says why) */
  readonly sentinelPlacement?: SentinelPlacement;
  /** The size of each Redis pod's volume. @default Size.gibibytes(1) */
  readonly storageSize?: Size;
  /** The StorageClass of the volumes. @default - the cluster's default StorageClass */
  readonly storageClassName?: string;
  /** The volumes when the StatefulSet is deleted. @default VolumeRetention.RETAIN */
  readonly volumesWhenDeleted?: VolumeRetention;
  /** The volumes of the pods a scale-down removes. @default VolumeRetention.RETAIN */
  readonly volumesWhenScaled?: VolumeRetention;
  /** Spreading the Redis pods over nodes. @default PodAntiAffinity.PREFERRED */
  readonly podAntiAffinity?: PodAntiAffinity;
  /** Spread the pods evenly over zones (`topology.kubernetes.io/zone`), when the scheduler can. @default true */
  readonly spreadOverZones?: boolean;
  /** Only nodes with these labels. @default - any node */
  readonly nodeSelector?: Readonly<Record<string, string>>;
  /** Taints the pods tolerate. @default - none */
  readonly tolerations?: readonly PodToleration[];
  /** The pods' PriorityClass. @default - the cluster's default priority */
  readonly priorityClassName?: string;
  /**
   * Keep the master on the first pod (ordinal 0). After a failover or a handover has moved the
   * master, it hands back to ordinal 0 (a planned handover: writes paused for well under a second)
   * once that pod has been an in-sync replica, with every sentinel naming the master, for 30 s. A
   * rolling update replaces the pods from the highest ordinal down, so it then replaces the
   * replicas first and the master last, with one handover. `false`: no hand-back, so no extra
   * pause after an update or a failover, but an update then replaces the master first or in the
   * middle whenever it is not on ordinal 0, and hands over once or twice.
   * @default true
   */
  readonly masterOnFirstPod?: boolean;
}
