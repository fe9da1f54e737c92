// Build step: web/attnplay/*.mjs (the page's mount code, one module per job) -> one attnplay.mjs. A page, the npm
// package and a notebook cell's self-contained HTML (an inline module script, which cannot import files) all load
// that one file. Relative imports (`import { a, b } from './x.mjs';`) are inlined in dependency order, each module
// once, with its `export` keywords dropped; the entry module's exports stay. Two modules declaring the same top-level
// name are refused (they would share one scope in the bundle). Nothing else is transformed.
//
//   node cmake/bundle_mjs.mjs ENTRY.mjs OUT.mjs
import fs from 'fs';
import path from 'path';

const [entry, out] = process.argv.slice(2);
const IMPORT = /^import\s*\{[^}]*\}\s*from\s*'(\.\/[^']+)';\s*$/gm;
const seen = new Set(), parts = [], names = new Map();

function add(file, isEntry) {
  if (seen.has(file)) return;
  seen.add(file);
  const src = fs.readFileSync(file, 'utf8');
  for (const m of src.matchAll(IMPORT)) add(path.resolve(path.dirname(file), m[1]), false);
  let body = src.replace(IMPORT, '');
  if (!isEntry) body = body.replace(/^export\s+(?=(async\s+)?function|const|let|class)/gm, '');
  for (const m of body.matchAll(/^(?:async\s+)?(?:function\*?|const|let|class)\s+([A-Za-z_$][\w$]*)/gm)) {
    if (names.has(m[1])) throw new Error(`${path.basename(file)} and ${names.get(m[1])} both declare '${m[1]}'`);
    names.set(m[1], path.basename(file));
  }
  parts.push(`// ---- ${path.basename(file)} ${'-'.repeat(Math.max(0, 100 - path.basename(file).length))}\n${body.trim()}\n`);
}

add(path.resolve(entry), true);
fs.writeFileSync(out, `// attnplay.mjs, made by cmake/bundle_mjs.mjs from web/attnplay/ (edit those files, not this one).\n\n${parts.join('\n')}`);
