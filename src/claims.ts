// Two instances (of either topology) in one namespace of one chart must not share an object name or
// a selector. Each instance registers what it claims in its chart's map, so a check costs O(claims).
import { Chart } from 'cdk8s';
import type { IConstruct } from 'constructs';
import { RedisSentinelPropError, RedisSentinelSettings } from './settings';

const claimsByChart = new WeakMap<Chart, Map<string, { path: string; instance: string }>>();

/** Registers `claims` (e.g. 'Service/redis-sentinel', 'selector name=redis') of an instance, or throws naming the clash. */
export function claim(self: IConstruct, s: RedisSentinelSettings, claims: readonly string[]): void {
  const chart = Chart.of(self);
  let claimed = claimsByChart.get(chart);
  if (!claimed) {
    claimed = new Map();
    claimsByChart.set(chart, claimed);
  }
  const ns = s.namespace ?? '';
  const mine = claims.map((c) => `${ns}/${c}`);
  for (const c of mine) {
    const other = claimed.get(c);
    if (other) {
      throw new RedisSentinelPropError('name', s.names.instance,
        `it collides with the instance '${other.path}' (name '${other.instance}') in the same namespace: both claim ${c.slice(ns.length + 1)}`,
        'give each instance in a namespace a distinct name whose derived names do not overlap, e.g. \'redis\' and \'cache\'');
    }
  }
  for (const c of mine) claimed.set(c, { path: self.node.path, instance: s.names.instance });
}

/** A selector as one claim per label when it has one label, else as a whole. */
export function selectorClaims(...selectors: ReadonlyArray<Readonly<Record<string, string>>>): string[] {
  return selectors.flatMap((sel) => (Object.keys(sel).length === 1
    ? Object.entries(sel).map(([k, v]) => `selector ${k}=${v}`) : [`selector ${JSON.stringify(sel)}`]));
}
