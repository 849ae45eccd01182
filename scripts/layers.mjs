#!/usr/bin/env node
// The import graph of src/ must have no cycle and no arrow against the layers, so that data flows one way:
// options → command → runner → steps → services → HTTP. Exit 1 listing what breaks a rule.
// Usage: node scripts/layers.mjs [src folder]   (CI runs it on src)
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";

const root = resolve(import.meta.dirname, "..");
const src = process.argv[2] ? resolve(process.argv[2]) : join(root, "src");

/**
 * What a folder (or file) of src/ may not import. Type-only imports count: a type is a dependency too.
 * - steps plan and apply through their ports; they never reach the command layer, IO, prompts or the ledger.
 * - services talk to Microsoft; they never reach sign-in, steps or anything above them.
 * - the sandbox emulates Microsoft, not us: it never imports the client's steps, services or sign-in.
 * - renderers never call an API.
 */
const FORBIDDEN = [
  {
    from: "steps/",
    to: ["context.ts", "io.ts", "prompter.ts", "ledger.ts", "main.ts", "cli.ts", "runner.ts", "render.ts", "tenant-", "commands/", "auth/"],
  },
  { from: "services/", to: ["auth/", "steps/", "commands/", "context.ts", "io.ts", "prompter.ts", "runner.ts", "render.ts", "main.ts"] },
  { from: "auth/", to: ["steps/", "commands/", "runner.ts", "render.ts", "main.ts"] },
  { from: "sandbox/", to: ["steps/", "services/", "auth/", "commands/", "runner.ts", "context.ts", "main.ts"] },
  { from: "render.ts", to: ["services/", "auth/", "steps/recovery.ts", "context.ts"] },
  { from: "runner.ts", to: ["commands/", "io.ts", "prompter.ts", "context.ts", "main.ts"] },
];

function sourceFiles(folder) {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [path] : [];
  });
}

/** The src file a relative specifier names (`./x.js` is `./x.ts` in the sources). */
function target(from, specifier) {
  if (!specifier.startsWith(".")) return undefined;
  const base = resolve(dirname(from), specifier).replace(/\.js$/, "");
  return [`${base}.ts`, join(base, "index.ts")].find((candidate) => existsSync(candidate));
}

/** Every module a file imports or re-exports, statically or with import(). */
function importsOf(file) {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const found = new Set();
  const visit = (node) => {
    const specifier =
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier
        ? node.moduleSpecifier.text
        : ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && ts.isStringLiteral(node.arguments[0])
          ? node.arguments[0].text
          : undefined;
    const resolved = specifier && target(file, specifier);
    if (resolved && resolved !== file) found.add(resolved);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const files = sourceFiles(src);
const graph = new Map(files.map((file) => [file, importsOf(file)]));
const name = (file) => relative(src, file);

// Cycles: strongly connected groups of more than one file (Tarjan).
const cycles = [];
{
  let counter = 0;
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const connect = (file) => {
    index.set(file, counter);
    low.set(file, counter++);
    stack.push(file);
    onStack.add(file);
    for (const next of graph.get(file) ?? []) {
      if (!index.has(next)) {
        connect(next);
        low.set(file, Math.min(low.get(file), low.get(next)));
      } else if (onStack.has(next)) low.set(file, Math.min(low.get(file), index.get(next)));
    }
    if (low.get(file) !== index.get(file)) return;
    const group = [];
    let member;
    do {
      member = stack.pop();
      onStack.delete(member);
      group.push(name(member));
    } while (member !== file);
    if (group.length > 1) cycles.push(group.sort());
  };
  for (const file of files) if (!index.has(file)) connect(file);
}

const breaches = [];
for (const [file, imports] of graph) {
  const from = name(file);
  for (const rule of FORBIDDEN.filter((r) => from.startsWith(r.from))) {
    for (const imported of imports) {
      const to = name(imported);
      if (rule.to.some((prefix) => to.startsWith(prefix))) breaches.push(`${from} → ${to}`);
    }
  }
}

for (const cycle of cycles) console.log(`cycle: ${cycle.join(" ↔ ")}`);
for (const breach of breaches) console.log(`against the layers: ${breach}`);
console.log(
  `${files.length} files, ${[...graph.values()].reduce((n, s) => n + s.size, 0)} imports: cycles ${cycles.length}, breaches ${breaches.length}`,
);
process.exit(cycles.length + breaches.length > 0 ? 1 : 0);
