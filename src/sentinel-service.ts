import { Construct } from 'constructs';
import * as k8s from '../imports/k8s';
import { objectMeta } from './metadata';
import { RedisSentinelProps } from './props';
import { resolveSettings } from './settings';

/**
 * The Service `<name>-sentinel`: every ready sentinel on the sentinel port. Pods find the master by
 * asking it (by DNS name), and Sentinel-aware clients connect to it.
 */
export class SentinelService extends Construct {
  /** The Service's name, also its DNS name inside the namespace. */
  public readonly name: string;
  /** The Service's port. */
  public readonly port: number;
  /** The generated object. */
  public readonly resource: k8s.KubeService;

  constructor(scope: Construct, id: string, props: RedisSentinelProps = {}) {
    super(scope, id);
    const s = resolveSettings(props);
    this.name = s.names.sentinelService;
    this.port = s.sentinelPort;
    this.resource = new k8s.KubeService(this, 'Resource', {
      metadata: objectMeta(s, this.name, s.labels.sentinelService),
      spec: {
        ports: [{ port: s.sentinelPort, targetPort: k8s.IntOrString.fromNumber(s.sentinelPort) }],
        selector: { ...s.labels.sentinelSelector },
      },
    });
  }
}
