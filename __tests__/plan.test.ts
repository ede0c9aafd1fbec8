// One plan feeds the launch script and the step list; they must agree.
import { Testing } from 'cdk8s';
import { launchPlan, launchStages, RedisSentinel, renderLaunchScript, renderStepsJson, renderStepsMarkdown } from '../src';

function planFor(props = {}) {
  const redis = new RedisSentinel(Testing.chart(), 'Redis', props);
  return launchPlan(redis, launchStages(redis));
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
    expect(plan.steps.map((s) => s.actions.map((a) => a.kind))).toEqual([
      ['apply', 'apply', 'apply', 'apply', 'apply'], ['wait'], ['scale', 'scale'], ['wait', 'wait'],
      ['delete-pod'], ['wait', 'wait', 'wait', 'wait'], ['report'],
    ]);
  });

  test('every wait has a timeout, a description and a hint of what to look at', () => {
    for (const a of plan.steps.flatMap((s) => s.actions)) {
      if (a.kind !== 'wait') continue;
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

  test('the script performs each action of the step list, in order', () => {
    const expected = steps.steps.flatMap((s: any) => s.actions.map((a: any) => {
      switch (a.kind) {
        case 'apply': return `apply_file '${a.file}' ${a.bootstrap ? 'yes' : 'no'}`;
        case 'scale': return `scale_rc '${a.controller}' ${a.replicas}`;
        case 'wait': return `wait_until ${a.timeoutSeconds} '${a.until}'`;
        case 'delete-pod': return `delete_bootstrap_pod ${a.timeoutSeconds}`;
        default: return 'report_master';
      }
    }));
    const body = script.slice(script.indexOf('\ndetect_launched\n'));
    const calls = body.split('\n').map((l) => l.trim())
      .filter((l) => /^(apply_file|scale_rc|wait_until|delete_bootstrap_pod|report_master)\b/.test(l))
      .map((l) => (l.startsWith('wait_until') ? l.replace(/^(wait_until \d+ '[^']*').*$/, '$1') : l));
    expect(calls).toEqual(expected);
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
    expect(plan.steps[0].actions.filter((a) => a.kind === 'apply' && a.bootstrap)).toEqual([{ kind: 'apply', file: '01-master-pod.k8s.yaml', bootstrap: true }]);
  });

  test('follows the props: names, namespace, replicas, timeouts', () => {
    const other = planFor({ name: 'cache', namespace: 'apps', redisReplicas: 5, sentinelReplicas: 5, quorum: 3 });
    const text = renderLaunchScript(other);
    expect(text).toContain("NAMESPACE=${NAMESPACE:-'apps'}");
    expect(text).toContain("scale_rc 'cache' 5");
    expect(text).toContain("scale_rc 'cache-sentinel' 5");
    expect(renderStepsMarkdown(other)).toContain('kubectl -n apps delete pod cache-master --wait=true');
  });

  test('quotes every value it puts into bash', () => {
    const { shq } = require('../src/launch/render');
    expect(shq("it's")).toBe("'it'\\''s'");
  });
});
