// One plan feeds the launch script and the step list; they must agree.
import { Testing } from 'cdk8s';
import { launchPlan, launchStages, RedisSentinel, RedisSentinelProps, renderLaunchScript, renderStepsJson, renderStepsMarkdown, resolveSettings } from '../src';

function planFor(props: RedisSentinelProps = {}) {
  const redis = new RedisSentinel(Testing.chart(), 'Redis', props);
  return launchPlan(redis.settings, launchStages(redis));
}

describe('launch plan', () => {
  const plan = planFor();
  const script = renderLaunchScript(plan);
  const steps = JSON.parse(renderStepsJson(plan));

  test('is the seed tutorial\'s sequence', () => {
    expect(plan.steps.map((s) => s.title)).toEqual([
      'Apply the manifests in order',
      'Wait for the bootstrap master and its sentinel',
      'Scale both controllers to 3 redis and 3 sentinels',
      'Wait until the replicas are in sync and the sentinels have quorum',
      'Delete the bootstrap pod',
      'Wait until a new master is elected and both controllers are back at full count',
      'Print where the master is',
    ]);
    expect(plan.steps.map((s) => s.actions.map((a) => a.type))).toEqual([
      ['apply', 'apply', 'apply', 'apply', 'apply'], ['wait'], ['scale', 'scale'], ['wait', 'wait'],
      ['delete-pod'], ['wait', 'wait', 'wait', 'wait'], ['report'],
    ]);
  });

  test('every wait has a timeout, a description and a hint of what to look at', () => {
    for (const a of plan.steps.flatMap((s) => s.actions)) {
      if (a.type !== 'wait') continue;
      expect(a.timeoutSeconds).toBeGreaterThan(0);
      expect(a.until).not.toBe('');
      expect(a.hint).toMatch(/kubectl/);
    }
  });

  test('the script runs the steps of the step list, in its order, with its titles', () => {
    const scriptSteps = [...script.matchAll(/^step (\d+) '([^']*)'$/gm)].map((m) => ({ number: Number(m[1]), title: m[2] }));
    expect(scriptSteps).toEqual(steps.steps.map((s: any) => ({ number: s.number, title: s.title })));
    expect(script).toContain(`STEP_COUNT='${steps.steps.length}'`);
  });

  test('the script performs each action of the step list, in order, with the kubectl words the list shows', () => {
    // The step list's text of a kubectl action is the command; the script runs the same words, with
    // manifests found in $MANIFEST_DIR.
    const expected = steps.steps.flatMap((s: any) => s.actions.flatMap((a: any) => {
      const kubectl = (text: string) => text.replace(/ \(first launch only\)$/, '').replace(/^kubectl /, 'k ')
        .replace(/-f (\S+)$/, `-f "$MANIFEST_DIR"/'$1'`);
      switch (a.type) {
        case 'apply': return [a.bootstrap
          ? `unless_launched 'skipping ${a.file}: the bootstrap pod belongs to the first launch only' ${kubectl(a.text)}`
          : kubectl(a.text)];
        case 'scale': return [kubectl(a.text)];
        case 'delete-pod': return [`note_deleted_pod_ip '${a.pod}'`, kubectl(a.text)];
        case 'wait': return [`wait_until ${a.timeoutSeconds} '${a.until}'`];
        default: return ['report_master'];
      }
    }));
    const body = script.slice(script.indexOf('\ndetect_launched\n'));
    const calls = body.split('\n').map((l) => l.trim())
      .filter((l) => /^(k|unless_launched|wait_until|note_deleted_pod_ip|report_master)\b/.test(l))
      .map((l) => (l.startsWith('wait_until') ? l.replace(/^(wait_until \d+ '[^']*').*$/, '$1') : l));
    expect(calls).toEqual(expected);
    expect(calls).toContain('k scale rc redis --replicas=3');
    expect(calls).toContain('k delete pod redis-master --ignore-not-found --wait=true --timeout=120s');
  });

  test('every check of a wait reaches the script with its arguments', () => {
    const waits = plan.steps.flatMap((s) => s.actions).filter((a) => a.type === 'wait');
    const lines = script.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('wait_until '));
    expect(lines.map((l) => l.split(' ').slice(-2).join(' ').replace(/^.*' /, ''))).toEqual(waits.map((a) => {
      const c = (a as any).condition;
      return [`check_${c.type.replace(/-/g, '_')}`, c.redisPods ?? c.sentinels].filter((x) => x !== undefined).join(' ');
    }));
  });

  test('takes settings and stage files, with no chart', () => {
    const p = launchPlan(resolveSettings({ name: 'cache' }), [{ file: 'a.yaml', bootstrap: false }, { file: 'b.yaml', bootstrap: true }]);
    expect(p.files).toEqual(['a.yaml', 'b.yaml']);
    expect(p.steps[0].actions).toEqual([{ type: 'apply', file: 'a.yaml', bootstrap: false }, { type: 'apply', file: 'b.yaml', bootstrap: true }]);
    expect(p.context).toMatchObject({ bootstrapPod: 'cache-master', bootstrapRedisContainer: 'master', redisContainer: 'redis', sentinelContainer: 'sentinel' });
  });

  test('the script and the step list name the same files, controllers and pod', () => {
    expect(steps.files).toEqual(plan.files);
    for (const name of ['redis-master', 'redis-sentinel', 'mymaster', 'name=redis', 'redis-sentinel=true']) {
      expect(script).toContain(`'${name}'`);
    }
    expect(renderStepsMarkdown(plan)).toContain('kubectl scale rc redis --replicas=3');
    expect(renderStepsMarkdown(plan)).toContain('kubectl apply -f 01-master-pod.k8s.yaml (first launch only)');
  });

  test('only the bootstrap wait and the scale are skipped on a second run', () => {
    expect(plan.steps.filter((s) => s.firstLaunchOnly).map((s) => s.number)).toEqual([2, 3]);
    expect(plan.steps[0].actions.filter((a) => a.type === 'apply' && a.bootstrap)).toEqual([{ type: 'apply', file: '01-master-pod.k8s.yaml', bootstrap: true }]);
  });

  test('follows the props: names, namespace, replicas, timeouts', () => {
    const other = planFor({ name: 'cache', namespace: 'apps', redisReplicas: 5, sentinelReplicas: 5, quorum: 3 });
    const text = renderLaunchScript(other);
    expect(text).toContain("NAMESPACE=${NAMESPACE:-'apps'}");
    expect(text).toContain('k scale rc cache --replicas=5');
    expect(text).toContain('k scale rc cache-sentinel --replicas=5');
    expect(renderStepsMarkdown(other)).toContain('kubectl -n apps delete pod cache-master --ignore-not-found --wait=true --timeout=120s');
    expect(text).toContain("BOOTSTRAP_POD='cache-master'");
    expect(text).toContain('kubectl -n apps logs -l cache-sentinel=true -c sentinel');
  });

  test('quotes every value it puts into bash', () => {
    const { shq } = require('../src/launch/render');
    expect(shq("it's")).toBe("'it'\\''s'");
  });
});
