#!/usr/bin/env node
// Lint step: fails when the modules under src/ import each other in a cycle. The layer map
// (eslint.config.js) forbids imports up the layers; this catches cycles inside one layer too,
// which the map cannot see. Type-only imports count: a cycle of types still couples the modules.
// Uses the TypeScript compiler's own import scanner, so comments and strings are never misread.
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const src = join(root, 'src');

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const files = walk(src);
const edges = new Map();
for (const f of files) {
  const { importedFiles } = ts.preProcessFile(readFileSync(f, 'utf8'), true, true);
  const deps = [];
  for (const { fileName } of importedFiles) {
    if (!fileName.startsWith('.')) continue;
    const target = resolve(dirname(f), fileName);
    if (existsSync(target) && target.endsWith('.ts')) deps.push(target);
  }
  edges.set(f, deps);
}

// Tarjan's strongly connected components; any component of more than one module is a cycle.
let index = 0;
const idx = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
const cycles = [];
function visit(v) {
  idx.set(v, index);
  low.set(v, index++);
  stack.push(v);
  onStack.add(v);
  for (const w of edges.get(v) ?? []) {
    if (!idx.has(w)) {
      visit(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
  }
  if (low.get(v) === idx.get(v)) {
    const comp = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      comp.push(w);
    } while (w !== v);
    if (comp.length > 1 || (edges.get(v) ?? []).includes(v)) cycles.push(comp);
  }
}
for (const f of files) if (!idx.has(f)) visit(f);

if (cycles.length > 0) {
  for (const c of cycles) console.error(`import cycle among: ${c.map((f) => relative(root, f)).sort().join(', ')}`);
  console.error(`${cycles.length} import cycle(s) under src/; break them (see shared/STYLE.md, lesson 1)`);
  process.exit(1);
}
console.log(`no import cycles among ${files.length} modules under src/`);
