import { labelSelector } from '../metadata';
import { RedisSentinelSettings } from '../settings';
import { kubectlText } from './kubectl';

/** A manifest file that holds objects of the instance (a chart's file, as `app.synth()` wrote it). */
export interface ManifestFile {
  /** Its path relative to the synth output folder. */
  readonly file: string;
}

/** The label that tells the bootstrap pod apart: a relaunch applies everything else. */
const COMPONENT_LABEL = 'app.kubernetes.io/component';

/**
 * When a step or an apply runs. A launch is a relaunch when `rc/<redis>` is scaled above the one pod
 * its manifest starts with (the scale step ran before). A relaunch whose survey finds the cluster
 * lost (no master anywhere, no pod holding data, even after the pods had time to found a cluster
 * themselves) starts afresh and runs the first launch's steps.
 */
export type LaunchWhen = 'always' | 'first-launch' | 'relaunch';

/** What the launch checks while it waits; each is a function of the launch script's library. */
export type LaunchCheck =
  /** The bootstrap pod runs a master, and its own sentinel monitors it. */
  | { readonly type: 'bootstrap-master' }
  /** At least `redisPods` Redis pods run, and every replica is in sync with the master the sentinels name. */
  | { readonly type: 'replicas-in-sync'; readonly redisPods: number }
  /** At least `sentinels` sentinels run, know each other, agree on the master and pass `SENTINEL CKQUORUM`. */
  | { readonly type: 'sentinels-agree'; readonly sentinels: number }
  /** The sentinels agree on a master that is a pod of the redis controller, not the deleted bootstrap pod. */
  | { readonly type: 'new-master' }
  /** Exactly one Redis pod answers as master, and every running sentinel names it. */
  | { readonly type: 'one-master' }
  /** Both controllers have at least their target count of pods, all ready. */
  | { readonly type: 'controllers-ready' };

/** One thing the launch does. */
export type LaunchAction =
  /** `kubectl create secret generic` with a fresh random password per key, unless the Secret exists. */
  | { readonly type: 'create-secret'; readonly secret: string; readonly keys: readonly string[] }
  /**
   * `kubectl apply -f` a manifest file, only its objects that match `selector`: on a first launch
   * all of the instance's, when it was launched before all but the bootstrap pod.
   */
  | { readonly type: 'apply'; readonly file: string; readonly selector: string; readonly when: Exclude<LaunchWhen, 'always'> }
  /**
   * Print what every Redis pod (role, its master, keys or data files) and every sentinel (the master
   * it names) says, and what it means. When no Redis pod is a master and none holds data, give the
   * pods `foundSeconds` to found a cluster themselves and survey again: a cluster still lost is
   * marked to start afresh. Otherwise say what is wrong and what to do: it never makes a master.
   */
  | { readonly type: 'survey'; readonly foundSeconds: number }
  /**
   * Only for a cluster the survey found lost: `kubectl delete rc` both controllers (no Redis pod
   * holds data or is a master; a sentinel may still name a master that is gone, which would keep
   * a new bootstrap pod from founding), then go on as a first launch, whose manifest makes the
   * bootstrap pod the re-created Redis controller's one pod, as the seed's order does (a bootstrap
   * pod applied beside a full controller would be adopted by it and deleted as one pod too many).
   */
  | { readonly type: 'start-afresh'; readonly controllers: readonly string[]; readonly timeoutSeconds: number }
  /** `kubectl scale rc` a controller to a number of pods. */
  | { readonly type: 'scale'; readonly controller: string; readonly replicas: number }
  /** Poll a check until it holds, or fail after the timeout, saying what held last and where to look. */
  | { readonly type: 'wait'; readonly until: string; readonly timeoutSeconds: number; readonly hint: string; readonly condition: LaunchCheck }
  /** `kubectl delete pod` and wait until it is gone; later checks know the deleted pod's IP. */
  | { readonly type: 'delete-pod'; readonly pod: string; readonly timeoutSeconds: number }
  /** Print the master that the sentinels agree on, and how clients reach it. */
  | { readonly type: 'report' };

export interface LaunchStep {
  readonly number: number;
  readonly title: string;
  /** When it runs: a relaunch skips the first launch's steps, and runs its survey. */
  readonly when: LaunchWhen;
  readonly actions: readonly LaunchAction[];
}

/** The facts the steps refer to: the launch script receives each as a variable. */
export interface LaunchContext {
  readonly instance: string;
  readonly namespace?: string;
  /** The synth output folder (where the manifest files are), relative to the launch script's folder. */
  readonly manifestDir: string;
  readonly bootstrapPod: string;
  readonly redisController: string;
  readonly sentinelController: string;
  readonly sentinelService: string;
  readonly redisSelector: string;
  readonly sentinelSelector: string;
  /** The bootstrap pod's Redis container. */
  readonly bootstrapRedisContainer: string;
  /** The redis controller's Redis container. */
  readonly redisContainer: string;
  /** Every sentinel container. */
  readonly sentinelContainer: string;
  readonly masterName: string;
  readonly redisPort: number;
  readonly sentinelPort: number;
  readonly redisReplicas: number;
  readonly sentinelReplicas: number;
  /** The script the launch runs inside pods for redis-cli. */
  readonly cliScript: string;
  /** Where a Redis container keeps its data: the survey looks for data files there when its Redis does not answer. */
  readonly dataDir: string;
}

/** The launch sequence as data: the launch script and the step list are both rendered from it. */
export interface LaunchPlan {
  readonly context: LaunchContext;
  readonly files: readonly string[];
  readonly steps: readonly LaunchStep[];
}

/** Time for pods to be scheduled and images pulled on a real cluster. */
const POD_START_SECONDS = 300;
/** How long the bootstrap pod may take to shut down. */
const DELETE_SECONDS = 120;

/** Where a plan's launch script sits relative to the synth output folder. */
export interface LaunchPlanOptions {
  /** The synth output folder, relative to the launch script's folder. @default '..' */
  readonly manifestDir?: string;
}

/** Builds the seed tutorial's sequence from the settings and the manifest files that hold the instance. */
export function launchPlan(s: RedisSentinelSettings, manifests: readonly ManifestFile[], options: LaunchPlanOptions = {}): LaunchPlan {
  const n = s.names;
  const c = s.containers;
  const ns = s.namespace;
  const instanceSelector = labelSelector(s.labels.instanceSelector);
  const context: LaunchContext = {
    instance: n.instance,
    namespace: ns,
    manifestDir: options.manifestDir ?? '..',
    bootstrapPod: n.bootstrapPod,
    redisController: n.redisController,
    sentinelController: n.sentinelController,
    sentinelService: n.sentinelService,
    redisSelector: labelSelector(s.labels.redisSelector),
    sentinelSelector: labelSelector(s.labels.sentinelSelector),
    bootstrapRedisContainer: c.bootstrapRedis,
    redisContainer: c.redis,
    sentinelContainer: c.sentinel,
    masterName: s.masterName,
    redisPort: s.redisPort,
    sentinelPort: s.sentinelPort,
    redisReplicas: s.redisReplicas,
    sentinelReplicas: s.sentinelReplicas,
    cliScript: `${s.paths.configDir}/cli.sh`,
    dataDir: s.paths.dataDir,
  };
  const sentinelLogs = kubectlText(['logs', '-l', context.sentinelSelector, '-c', c.sentinel], ns);
  const redisLogs = kubectlText(['logs', '-l', context.redisSelector, '--all-containers'], ns);
  const failoverSeconds = Math.ceil((s.downAfterMs + 2 * s.failoverTimeoutMs) / 1000) + POD_START_SECONDS;
  const inSync: LaunchAction = {
    type: 'wait',
    until: `at least ${s.redisReplicas} redis pods run and every replica is in sync with the master`,
    timeoutSeconds: POD_START_SECONDS,
    hint: `${kubectlText(['get', 'pods', '-l', context.redisSelector], ns)}; ${redisLogs}`,
    condition: { type: 'replicas-in-sync', redisPods: s.redisReplicas },
  };
  const sentinelsAgree: LaunchAction = {
    type: 'wait',
    until: `at least ${s.sentinelReplicas} sentinels run, know each other, agree on the master and pass SENTINEL CKQUORUM`,
    timeoutSeconds: POD_START_SECONDS,
    hint: `${kubectlText(['get', 'pods', '-l', context.sentinelSelector], ns)}; ${sentinelLogs}`,
    condition: { type: 'sentinels-agree', sentinels: s.sentinelReplicas },
  };
  type StepOf = Omit<LaunchStep, 'number'>;
  const steps: StepOf[] = [
    ...(s.auth ? [{
      title: `Create the Secret ${s.auth.secretName} with random passwords, unless it exists`,
      when: 'always',
      actions: [{ type: 'create-secret', secret: s.auth.secretName, keys: Object.values(s.auth.secretKeys) }],
    } satisfies StepOf] : []),
    {
      title: 'On a relaunch: survey the pods; only if no master exists anywhere and no pod holds data, start afresh',
      when: 'relaunch',
      actions: [
        { type: 'survey', foundSeconds: s.discoveryTimeoutSeconds },
        { type: 'start-afresh', controllers: [n.redisController, n.sentinelController], timeoutSeconds: DELETE_SECONDS },
      ],
    },
    {
      title: 'Apply the manifests in order',
      when: 'always',
      actions: manifests.flatMap((m): LaunchAction[] => [
        { type: 'apply', file: m.file, selector: instanceSelector, when: 'first-launch' },
        { type: 'apply', file: m.file, selector: `${instanceSelector},${COMPONENT_LABEL}!=bootstrap`, when: 'relaunch' },
      ]),
    },
    {
      title: 'On a relaunch: wait until one master is named by every sentinel',
      when: 'relaunch',
      actions: [{
        type: 'wait',
        until: 'exactly one Redis pod is a master and every sentinel names it',
        timeoutSeconds: failoverSeconds,
        hint: `${kubectlText(['get', 'pods', '-l', context.redisSelector], ns)}; ${sentinelLogs}; ${redisLogs}`,
        condition: { type: 'one-master' },
      }],
    },
    {
      title: 'Wait for the bootstrap master and its sentinel',
      when: 'first-launch',
      actions: [{
        type: 'wait',
        until: `pod/${n.bootstrapPod} runs a master and its sentinel monitors it`,
        timeoutSeconds: POD_START_SECONDS,
        hint: [
          kubectlText(['describe', 'pod', n.bootstrapPod], ns),
          kubectlText(['logs', n.bootstrapPod, '-c', c.bootstrapRedis], ns),
          kubectlText(['logs', n.bootstrapPod, '-c', c.sentinel], ns),
        ].join('; '),
        condition: { type: 'bootstrap-master' },
      }],
    },
    {
      title: `Scale both controllers to ${s.redisReplicas} redis and ${s.sentinelReplicas} sentinels`,
      when: 'first-launch',
      actions: [
        { type: 'scale', controller: n.redisController, replicas: s.redisReplicas },
        { type: 'scale', controller: n.sentinelController, replicas: s.sentinelReplicas },
      ],
    },
    {
      title: 'Wait until the replicas are in sync and the sentinels have quorum',
      when: 'always',
      actions: [inSync, sentinelsAgree],
    },
    {
      title: 'Delete the bootstrap pod',
      when: 'always',
      actions: [{ type: 'delete-pod', pod: n.bootstrapPod, timeoutSeconds: DELETE_SECONDS }],
    },
    {
      title: 'Wait until a new master is elected and both controllers are back at full count',
      when: 'always',
      actions: [
        {
          type: 'wait',
          until: `the sentinels agree on a new master among the pods of rc/${n.redisController}`,
          timeoutSeconds: failoverSeconds,
          hint: `${sentinelLogs}; ${redisLogs}`,
          condition: { type: 'new-master' },
        },
        { ...inSync, timeoutSeconds: failoverSeconds },
        { ...sentinelsAgree, timeoutSeconds: failoverSeconds },
        {
          type: 'wait',
          until: `rc/${n.redisController} and rc/${n.sentinelController} have all their pods ready`,
          timeoutSeconds: failoverSeconds,
          hint: `${kubectlText(['get', 'rc', n.redisController, n.sentinelController], ns)}; ${kubectlText(['get', 'pods'], ns)}`,
          condition: { type: 'controllers-ready' },
        },
      ],
    },
    { title: 'Print where the master is', when: 'always', actions: [{ type: 'report' }] },
  ];
  return {
    context,
    files: manifests.map((m) => m.file),
    steps: steps.map((st, i) => ({ number: i + 1, ...st })),
  };
}

