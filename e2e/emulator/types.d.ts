// The seams between the emulator's parts (see e2e/README.md, "The parts"). Each part takes these
// narrow interfaces, never another part's class, so that the parts do not require one another:
// cluster.js alone wires them (e2e/emulator-graph.test.ts checks the require() graph).

import type { IPodSpec } from 'kubernetes-models/v1';
import type { Pod } from './pod';

export type Labels = Record<string, string>;

/** An API object: a manifest as `kubectl apply` read it, or a view the cluster prints. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Labels; annotations?: Labels; [field: string]: unknown };
  spec?: unknown;
  status?: unknown;
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
  stringData?: Record<string, string>;
  [field: string]: unknown;
}

/** The fields the cluster owns, by kind. A new kind adds its own here. */
export interface LiveFields {
  /** ReplicationController: replicas (set on create, by `kubectl scale`, and by an apply that names them). */
  replicas?: number;
  /** Service: its ClusterIP, or 'None' for a headless Service. */
  clusterIP?: string;
  /** PodDisruptionBudget: the status the disruption controller last computed. */
  disruption?: DisruptionStatus;
  /** StatefulSet: its revisions, generation and rollout (controllers/statefulset.js). */
  statefulSet?: StatefulSetState;
  /** PersistentVolumeClaim: its volume on the host and its lifecycle (runtime/claims.js). */
  claim?: ClaimState;
  /** Node: an emulated node (nodes/nodes.js). */
  node?: NodeState;
}

/** What the StatefulSet controller keeps of a StatefulSet besides its manifest. */
export interface StatefulSetState {
  /** metadata.generation: 1 on create, +1 for each apply that changes the spec, and for `kubectl scale`. */
  generation: number;
  /** The spec last applied, as canonical JSON: an apply that changes it makes a new generation. */
  specText: string;
  /** status.observedGeneration: the generation the controller last acted on. */
  observedGeneration: number;
  /** status.currentRevision and status.updateRevision: ControllerRevision names, `<sts>-<hash of the template>`. */
  currentRevision: string;
  updateRevision: string;
  /** The pod template of each revision still in use (the ControllerRevisions). */
  revisions: Record<string, PodTemplate>;
}

/** What the emulator keeps of a PersistentVolumeClaim: its volume (a host directory) and its lifecycle. */
export interface ClaimState {
  /** The directory behind the volume; it outlives every pod that mounts it and goes with the claim. */
  dir: string;
  /** spec.volumeName: the dynamically provisioned volume, pvc-<uid>. */
  volumeName: string;
  /** Set by a delete: the claim goes once no pod uses it (the kubernetes.io/pvc-protection finalizer). */
  deletionTimestamp: number | null;
  /** The one controlling owner (a StatefulSet or a Pod, by its retention policy); the garbage collector deletes the claim once it is gone. */
  owner: OwnerRef | null;
  /** Resolves once the claim left the store. */
  gone: Promise<void>;
  markGone: () => void;
}

/** A node taint (spec.taints[]). */
export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  /** ms since the epoch; NoExecute taints evict tolerating pods tolerationSeconds after it. */
  timeAdded?: number;
}

/** An emulated node: where the scheduler binds pods. Every node's pods run in the one node network namespace. */
export interface NodeState {
  name: string;
  /** status.addresses InternalIP, a pod's status.hostIP. Not routed: nothing listens on it. */
  ip: string;
  labels: Labels;
  /** The taints the tests set (the node's own: unschedulable, unreachable come from its state). */
  taints: Taint[];
  /** Cordoned (spec.unschedulable): no new pods. */
  unschedulable: boolean;
  /** False while the node is lost: its kubelet posts no status, no pod starts on it. */
  ready: boolean;
  /** When the node was lost, ms since the epoch (null while it is up). */
  lostAt: number | null;
}

/** `status` of a PodDisruptionBudget. */
export interface DisruptionStatus {
  currentHealthy: number;
  desiredHealthy: number;
  expectedPods: number;
  disruptionsAllowed: number;
  observedGeneration: number;
  conditions: Array<{ type: string; status: 'True' | 'False'; reason: string; message: string }>;
}

/** One object in the store. */
export interface StoredObject {
  kind: string;
  ns: string;
  name: string;
  uid: string;
  /** Creation time, ms since the epoch. */
  created: number;
  /** The document last applied (for a controller's pod: the one it made from its template). */
  manifest: KubeObject;
  /** That document as JSON, so that an identical apply is "unchanged"; null for controller-made pods. */
  lastApplied: string | null;
  live: LiveFields;
  /** For a Pod: what runs it. */
  pod?: Pod;
}

/** A read-only view of the store: what a controller or the network may look at. */
export interface StoreView {
  get(kind: string, ns: string, name: string): StoredObject | undefined;
  /** Objects of a kind, in creation order; ns null for every namespace. */
  list(kind: string, ns: string | null): StoredObject[];
  /** Every pod in the store (terminating ones too), in creation order. */
  pods(): Pod[];
}

/** The store as the pod runtime sees it: it adds the pods controllers ask for and removes pods that are gone. */
export interface PodStore extends StoreView {
  add(obj: StoredObject): void;
  remove(obj: StoredObject): void;
}

/** Where every part reports. */
export interface EventSink {
  /** One line in the run's events.log. */
  event(msg: string): void;
  /** Something a reader may wait on changed (`kubectl wait`, a deletion, the network's next sync). */
  changed(): void;
}

/** What the pod runtime reports besides events. */
export interface PodLifecycleSink extends EventSink {
  /** A pod began terminating, finished or left the store: controllers look now, not at their next tick. */
  podsChanged(): void;
}

/** A pod's controller, as `metadata.ownerReferences[]` with `controller: true` names it. */
export interface OwnerRef {
  kind: string;
  name: string;
  uid: string;
}

/** `spec.template` of a controller. */
export interface PodTemplate {
  metadata?: { labels?: Labels; annotations?: Labels };
  spec?: IPodSpec;
}

export interface DeleteOptions {
  /** Seconds; undefined: the pod's terminationGracePeriodSeconds (30 when unset). */
  gracePeriod?: number;
}

/** Why the eviction API refuses a pod: an HTTP status and its message, as kubectl prints it. */
export interface EvictionRefusal {
  /** 429: retry later (a PodDisruptionBudget allows no disruption now); 500: never. */
  code: 429 | 500;
  message: string;
}

/** What a controller may do to pods (Kubernetes' PodControlInterface). The pod runtime implements it. */
export interface PodControl {
  /** A new pod from a template, owned by the controller; it starts at once. */
  createPod(ns: string, name: string, template: PodTemplate, owner: OwnerRef): Pod;
  /** Graceful deletion; resolves once the pod is gone. */
  deletePod(pod: Pod, opts?: DeleteOptions): Promise<void>;
  /** Deletes pods in one instant (one deletionTimestamp, every signal sent before anyone reacts); resolves once all are gone. */
  deletePods(pods: Pod[], opts?: DeleteOptions): Promise<void>;
  /** Takes an orphan that matches the controller's selector. */
  adoptPod(pod: Pod, owner: OwnerRef): void;
}

/** What a controller may do to PersistentVolumeClaims (the StatefulSet controller's claims). The pod runtime implements it. */
export interface ClaimControl {
  /** A new claim, bound at once to a fresh, empty volume. */
  createClaim(ns: string, name: string, template: { metadata?: { labels?: Labels; annotations?: Labels }; spec?: unknown }, owner: OwnerRef | null): StoredObject;
  /** Sets the claim's controlling owner (null: none); the garbage collector deletes a claim whose owner is gone. */
  setClaimOwner(claim: StoredObject, owner: OwnerRef | null): void;
}

/** The scheduler as the pod runtime sees it: every new pod goes through it. */
export interface PodScheduler {
  /** Binds the pod to a node now (the runtime then starts it), or leaves it Pending with the reason on the pod. */
  schedule(pod: Pod): void;
}

/** What the scheduler may do to a pod it placed (the binding subresource). The pod runtime implements it. */
export interface PodBinder {
  /** Sets the pod's node; its kubelet starts it. */
  bind(pod: Pod, node: NodeState): void;
}

/** The emulated nodes as the scheduler sees them. */
export interface NodeView {
  list(): NodeState[];
  get(name: string): NodeState | undefined;
  /** The node's effective taints: the tests' own, plus unschedulable (cordoned) and unreachable (lost). */
  taints(node: NodeState): Taint[];
}

/** A file the pod's mount namespace binds over a path (a volume, /etc/hosts, /etc/resolv.conf). */
export interface Bind {
  src: string;
  dst: string;
  readOnly: boolean;
  /** A memory-backed emptyDir: the sandbox mounts a tmpfs on src (in the pod's mount namespace only) before binding it; size in bytes, or the kernel's default. */
  tmpfs?: { size?: number };
}

/** The network as the pod runtime sees it (CNI ADD / DEL, and the Service env vars). */
export interface PodNetwork {
  /** The pod's network namespace, veth, address, routes and nft tables, and its name files. Returns the files to bind over /etc. */
  attach(pod: Pod): Bind[];
  /** Ends whatever still runs in the pod's network namespace and removes it. */
  detach(pod: Pod): void;
  /** `<SVC>_SERVICE_HOST`, `<SVC>_PORT`, … of a namespace's Services, as the kubelet sets them at container start. */
  serviceEnv(ns: string): Record<string, string>;
}

/** One nft table the network keeps in step in every pod's network namespace. */
export interface PodTable {
  /** The table's name (family ip); one table a concern, so each can be replaced alone. */
  name: string;
  /** The rules inside `table ip NAME { … }` for this pod; null: the pod needs no such table. */
  render(pod: Pod): string | null;
}

/**
 * A kind the cluster accepts. The part that gives a kind meaning registers it (the pod runtime:
 * Pod, ConfigMap, Secret; the network: Service; each controller: its own kind).
 */
export interface KindHandler {
  kind: string;
  apiVersion: string;
  /** kubectl's plural resource name, e.g. 'pods'. */
  resource: string;
  /** kubectl's short names, e.g. ['po']. The singular (kind in lower case) and the plural always work. */
  shortNames: string[];
  /** A kind without a namespace (Node): stored under namespace '', whatever -n says. */
  clusterScoped?: boolean;
  /** A new object is in the store: fill obj.live and start what it runs. Throw to refuse it. */
  create?(obj: StoredObject): void;
  /** Before an apply replaces obj.manifest with doc. Throw to refuse the change. */
  admit?(obj: StoredObject, doc: KubeObject): void;
  /** After obj.manifest became the applied document. */
  updated?(obj: StoredObject): void;
  /** For a kind whose objects take time to go (Pods): ends it, removes it from the store when it is gone, and resolves then. */
  terminate?(obj: StoredObject, opts: DeleteOptions): Promise<void>;
  /** The object left the store: what goes with it (a controller's pods). */
  deleted?(obj: StoredObject): void;
  /** `kubectl scale`; kinds without it cannot be scaled. */
  scale?(obj: StoredObject, replicas: number): void;
  /** What `kubectl get` shows; without it, the manifest with the server's metadata. */
  view?(obj: StoredObject): KubeObject;
}

/** A controller: reconciles the objects of its kind against the pods, every second and when pods change. */
export interface Controller {
  kinds: KindHandler[];
  reconcile(): void;
  /** The eviction API's admission: why this pod may not be evicted now, or null (the disruption controller's PodDisruptionBudgets). */
  evictionRefusal?(pod: Pod): EvictionRefusal | null;
}
