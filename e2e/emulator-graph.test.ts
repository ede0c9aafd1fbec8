/**
 * The emulator's parts (e2e/README.md, "The parts") depend on each other one way only: the
 * require() graph of e2e/emulator/ has no cycle, and the part folders (network/, runtime/, nodes/,
 * controllers/) never require one another: cluster.js wires them through the interfaces of
 * types.d.ts. Reads the source only: needs no root.
 */
import * as fs from 'fs';
import * as path from 'path';

const EMULATOR = path.join(__dirname, 'emulator');
/** The folders whose files must not require each other's. */
const PARTS = ['network', 'runtime', 'nodes', 'controllers'];
/** The records every part may require; they require none of the parts or the files that wire them. */
const SHARED = ['util.js', 'addresses.js', 'pod.js', 'store.js', 'events.js'];

type Graph = Map<string, string[]>;

function jsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return jsFiles(p);
    return e.name.endsWith('.js') ? [p] : [];
  });
}

/** Relative require('./x') / require('../x') targets of every file, as paths relative to root. */
function requireGraph(root: string): Graph {
  const graph: Graph = new Map();
  for (const file of jsFiles(root)) {
    // Comments may quote require() calls; code does not hide one in a string.
    const code = fs.readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    const targets: string[] = [];
    for (const m of code.matchAll(/\brequire\(\s*(['"])(\.{1,2}\/[^'"]+)\1\s*\)/g)) {
      const base = path.resolve(path.dirname(file), m[2]);
      const found = [base, `${base}.js`, path.join(base, 'index.js')].find((p) => fs.existsSync(p) && fs.statSync(p).isFile());
      if (!found) throw new Error(`${path.relative(root, file)}: require('${m[2]}') names no file`);
      if (found.startsWith(`${root}${path.sep}`)) targets.push(path.relative(root, found));
    }
    graph.set(path.relative(root, file), targets);
  }
  return graph;
}

/** A cycle as the list of files around it (first = last), or null. */
function findCycle(graph: Graph): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | null => {
    if (state.get(n) === 'done') return null;
    if (state.get(n) === 'open') return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 'open');
    stack.push(n);
    for (const next of graph.get(n) || []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(n, 'done');
    return null;
  };
  for (const n of [...graph.keys()].sort()) {
    const cycle = visit(n);
    if (cycle) return cycle;
  }
  return null;
}

function partOf(file: string): string | undefined {
  const top = file.split(path.sep)[0];
  return PARTS.includes(top) ? top : undefined;
}

describe('the emulator require() graph', () => {
  const graph = requireGraph(EMULATOR);

  test('the cycle check finds a cycle and passes a graph without one', () => {
    expect(findCycle(new Map([['a.js', ['b.js']], ['b.js', ['c.js']], ['c.js', ['a.js']]]))).toEqual(['a.js', 'b.js', 'c.js', 'a.js']);
    expect(findCycle(new Map([['a.js', ['b.js', 'c.js']], ['b.js', ['c.js']], ['c.js', []]]))).toBeNull();
  });

  test('the parser sees the wiring: cluster.js requires every part', () => {
    expect(graph.get('cluster.js')).toEqual(expect.arrayContaining([
      path.join('network', 'network.js'), path.join('runtime', 'pod-runtime.js'), path.join('nodes', 'nodes.js'), path.join('nodes', 'scheduler.js'),
      path.join('controllers', 'replication-controller.js'), path.join('controllers', 'statefulset.js'), path.join('controllers', 'disruption.js'),
    ]));
  });

  test('has no cycle', () => {
    expect(findCycle(graph)).toBeNull();
  });

  test('the parts require only their own files and the shared records; the shared records no part', () => {
    const wrong: string[] = [];
    for (const [from, targets] of graph) {
      for (const to of targets) {
        const a = partOf(from);
        const b = partOf(to);
        if (a && b && a !== b) wrong.push(`${from} -> ${to} (another part: go through cluster.js and types.d.ts)`);
        if ((a || SHARED.includes(from)) && !b && !SHARED.includes(to)) wrong.push(`${from} -> ${to} (a part or shared record requires a file that wires them)`);
        if (SHARED.includes(from) && b) wrong.push(`${from} -> ${to} (a shared record requires a part)`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
