/**
 * How `npm run deps` reports (a dependency-cruiser reporter plugin): the violations of the rules in
 * .dependency-cruiser.cjs, each naming its rule, then the one rule dependency-cruiser cannot express,
 * no-folder-cycles. Its own `scope: 'folder'` counts every file in all its parent folders too, so `src` (which
 * holds the composition root, src/app) would "depend" on commands/ and views/, and any import of src/errors.ts
 * from there would read as a cycle. Here a folder is the files directly in it: src/slack -> commands -> src/slack
 * is a cycle; src/app importing commands/ is not.
 * Exit code: the number of errors (0 when the layout holds).
 */
import { dirname } from 'node:path';

const FOLDER_RULE = {
  name: 'no-folder-cycles',
  comment:
    'No folder reaches itself through its imports (e.g. src/slack -> commands -> src/slack): each folder is a ' +
    'layer that depends only on layers below it. Break the cycle by moving the shared piece down a layer.',
};

/** Folder-to-folder imports, each with the first file-level import that makes it. */
function folderGraph(modules) {
  const edges = new Map();
  for (const m of modules) {
    const from = dirname(m.source);
    for (const d of m.dependencies ?? []) {
      if (d.coreModule || d.couldNotResolve || d.resolved.includes('node_modules/')) continue;
      const to = dirname(d.resolved);
      if (to === from) continue;
      if (!edges.has(from)) edges.set(from, new Map());
      if (!edges.get(from).has(to)) edges.get(from).set(to, `${m.source} → ${d.resolved}`);
    }
  }
  return edges;
}

/** Strongly connected components with more than one folder (Tarjan). */
function cycles(edges) {
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const found = [];
  let next = 0;
  const visit = (v) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) === index.get(v)) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

/** The shortest way from `start` back to itself inside `component` (breadth first). */
function shortestCycle(edges, component, start) {
  const previous = new Map([[start, undefined]]);
  const queue = [start];
  while (queue.length) {
    const at = queue.shift();
    for (const to of edges.get(at)?.keys() ?? []) {
      if (!component.includes(to)) continue;
      if (to === start) {
        const path = [at];
        while (previous.get(path[0]) !== undefined) path.unshift(previous.get(path[0]));
        return [...path, start];
      }
      if (!previous.has(to)) {
        previous.set(to, at);
        queue.push(to);
      }
    }
  }
  return [start];
}

export default function report(result) {
  const lines = [];
  const violated = new Map();
  for (const v of result.summary.violations) {
    violated.set(v.rule.name, v.rule.severity);
    const via = v.cycle ? ` (cycle: ${[v.from, ...v.cycle.map((c) => c.name)].join(' → ')})` : '';
    lines.push(`  ${v.rule.severity} ${v.rule.name}: ${v.from} → ${v.to}${via}`);
  }
  const edges = folderGraph(result.modules);
  const folderCycles = cycles(edges);
  for (const component of folderCycles) {
    violated.set(FOLDER_RULE.name, 'error');
    lines.push(`  error ${FOLDER_RULE.name}: ${component.join(', ')} reach each other, e.g.`);
    const shown = new Set();
    for (const start of component) {
      const cycle = shortestCycle(edges, component, start);
      const key = [...cycle.slice(1)].sort().join();
      if (shown.has(key)) continue;
      shown.add(key);
      lines.push(`      ${cycle.join(' → ')}`);
      for (let i = 0; i + 1 < cycle.length; i++) lines.push(`          ${edges.get(cycle[i]).get(cycle[i + 1])}`);
    }
  }
  const errors = result.summary.error + folderCycles.length;
  if (errors === 0 && result.summary.warn === 0) {
    const cruised = `${result.summary.totalCruised} modules, ${result.summary.totalDependenciesCruised} dependencies`;
    return { output: `✔ no dependency violations (${cruised} cruised)\n`, exitCode: 0 };
  }
  const rules = [...(result.summary.ruleSetUsed?.forbidden ?? []), FOLDER_RULE];
  const why = [...violated.keys()].map((name) => `  ${name}: ${rules.find((r) => r.name === name)?.comment ?? ''}`);
  return {
    output: `${[...lines, '', 'Why these rules:', ...why, '', `✖ ${errors} error(s), ${result.summary.warn} warning(s)`].join('\n')}\n`,
    exitCode: errors,
  };
}
