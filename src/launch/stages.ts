import { ApiObject } from 'cdk8s';
import { RedisSentinel } from '../redis-sentinel';

/** An ordered manifest file, as the launch plan sees it. */
export interface StageFile {
  /** The file name; names sort in apply order. */
  readonly file: string;
  /** True for the bootstrap pod's file, which only a first launch applies. */
  readonly bootstrap: boolean;
}

/** One ordered manifest file of dist/ and the objects in it. */
export interface Stage extends StageFile {
  /** The objects in the file. */
  readonly objects: readonly ApiObject[];
}

/**
 * Which object goes into which ordered file: `kubectl apply -f dist` applies them in this order,
 * the seed's: the ConfigMap, the bootstrap pod, the sentinel Service, the redis controller, the
 * sentinel controller.
 */
export function launchStages(redis: RedisSentinel): Stage[] {
  const files: Array<[string, ApiObject, boolean]> = [
    ['config', redis.config.resource, false],
    ['master-pod', redis.bootstrapPod.resource, true],
    ['sentinel-service', redis.sentinelService.resource, false],
    ['redis-controller', redis.redisController.resource, false],
    ['sentinel-controller', redis.sentinelController.resource, false],
  ];
  return files.map(([name, object, bootstrap], i) => ({
    file: `${String(i).padStart(2, '0')}-${name}.k8s.yaml`,
    objects: [object],
    bootstrap,
  }));
}
