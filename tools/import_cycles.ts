/**
 * `deno run --allow-read --allow-run tools/import_cycles.ts [FILE...]`:
 * draws the house from its imports and says whether it has a cycle. The
 * graph is every local module reached (code and type imports alike) from
 * each export of `deno.json` and `web.ts`, plus any FILE given; npm and
 * remote modules are left out. Each cycle is printed as the modules in it;
 * the exit status is 1 when there is one, 0 otherwise.
 *
 * @module
 */

import { importGraph, pathOf as name } from "./_graph.ts";

const graph = await importGraph(Deno.args);

/**
 * The strongly connected components of more than one module (or a module
 * that imports itself): Tarjan's algorithm, iterative so that a deep graph
 * does not overflow the stack.
 */
function cycles(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work: [string, Iterator<string>][] = [];
    const visit = (node: string) => {
      index.set(node, next);
      low.set(node, next++);
      stack.push(node);
      onStack.add(node);
      work.push([node, (graph.get(node) ?? new Set<string>()).values()]);
    };
    visit(start);
    while (work.length > 0) {
      const [node, edges] = work[work.length - 1]!;
      const edge = edges.next();
      if (!edge.done) {
        const target = edge.value;
        if (!index.has(target)) visit(target);
        else if (onStack.has(target)) low.set(node, Math.min(low.get(node)!, index.get(target)!));
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1]![0];
        low.set(parent, Math.min(low.get(parent)!, low.get(node)!));
      }
      if (low.get(node) === index.get(node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== node);
        if (component.length > 1 || graph.get(node)?.has(node)) found.push(component.reverse());
      }
    }
  }
  return found;
}

const found = cycles(graph);
if (found.length === 0) {
  console.log(`No import cycle among ${graph.size} local modules.`);
} else {
  for (const component of found) {
    console.log(`Modules that import each other in a cycle: ${component.map(name).join(", ")}`);
  }
  Deno.exit(1);
}
