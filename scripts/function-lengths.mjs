#!/usr/bin/env node
// Lists every function under src/ longer than 80 lines (after Prettier) and exits 1 if there is one.
// Usage: node scripts/function-lengths.mjs [--max 80] [folder …]   (default folder: src)
// Nothing is exempt: a long function is split into named pieces, not excused.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import ts from "typescript";

const root = resolve(import.meta.dirname, "..");
const args = process.argv.slice(2);
const maxIndex = args.indexOf("--max");
const maxLines = maxIndex >= 0 ? Number(args.splice(maxIndex, 2)[1]) : 80;
if (!Number.isInteger(maxLines) || maxLines < 1) {
  console.error("--max needs a whole number of lines, e.g. --max 80");
  process.exit(2);
}
const folders = args.length > 0 ? args : ["src"];

function sourceFiles(folder) {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|tsx|mts|cts)$/.test(entry.name) && !entry.name.endsWith(".d.ts") ? [path] : [];
  });
}

/** What a reader would call the function: its own name, or the variable, property or method it is assigned to. */
function nameOf(node) {
  if (node.name) return node.name.getText();
  if (ts.isConstructorDeclaration(node)) return "constructor";
  const parent = node.parent;
  if (parent && (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) && parent.name)
    return parent.name.getText();
  return "(anonymous)";
}

const hasBody = (node) =>
  (ts.isFunctionDeclaration(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node) ||
    ts.isArrowFunction(node) ||
    ts.isFunctionExpression(node)) &&
  node.body !== undefined;

const long = [];
for (const file of folders.flatMap((folder) => sourceFiles(resolve(root, folder)))) {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const visit = (node) => {
    if (hasBody(node)) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = last - first + 1;
      if (lines > maxLines) long.push({ where: `${relative(root, file)}:${first + 1}`, name: nameOf(node), lines });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}

if (long.length === 0) {
  console.log(`No function over ${maxLines} lines in ${folders.join(", ")}.`);
} else {
  console.log(`${long.length} function${long.length === 1 ? "" : "s"} over ${maxLines} lines (split them into named pieces):`);
  for (const { where, name, lines } of long.sort((a, b) => b.lines - a.lines))
    console.log(`  ${String(lines).padStart(4)} lines  ${name}  ${where}`);
  process.exit(1);
}
