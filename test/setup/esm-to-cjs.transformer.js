/**
 * Jest on Node 20 cannot require() ES modules (NestJS 12 and several of its dependencies ship ESM only; Node 20
 * itself loads them through require(esm), Jest's module system does not). This transformer turns those packages'
 * ESM into CommonJS for the test run, and maps the `import.meta` members they use onto their CommonJS equivalents.
 */
const ts = require('typescript');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const typeByDir = new Map();
/** Whether a .js file is an ES module: by extension, else by the nearest package.json "type". */
function isEsm(filename) {
  if (filename.endsWith('.mjs')) return true;
  if (filename.endsWith('.cjs') || filename.endsWith('.json')) return false;
  let dir = path.dirname(filename);
  const visited = [];
  while (true) {
    if (typeByDir.has(dir)) break;
    visited.push(dir);
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      let type;
      try {
        type = JSON.parse(fs.readFileSync(pkg, 'utf8')).type === 'module' ? 'module' : 'commonjs';
      } catch {
        // a package.json that is not JSON (some packages ship fixtures): keep looking up
        const parent = path.dirname(dir);
        if (parent === dir) { typeByDir.set(dir, 'commonjs'); break; }
        dir = parent;
        continue;
      }
      typeByDir.set(dir, type);
      break;
    }
    const parent = path.dirname(dir);
    if (parent === dir) { typeByDir.set(dir, 'commonjs'); break; }
    dir = parent;
  }
  const type = typeByDir.get(dir);
  for (const v of visited) typeByDir.set(v, type);
  return type === 'module';
}

const IMPORT_META = [
  [/import\.meta\.url/g, "require('node:url').pathToFileURL(__filename).href"],
  [/import\.meta\.dirname/g, '__dirname'],
  [/import\.meta\.filename/g, '__filename'],
  [/import\.meta\.resolve\(/g, 'require.resolve('],
  // `const require = createRequire(import.meta.url)` would clash with CommonJS's own `require`; Jest's serves as well.
  [/\b(const|let|var)\s+require\s*=/g, '$1 __esmRequire ='],
];

module.exports = {
  getCacheKey(source, filename) {
    return crypto.createHash('sha1').update('esm-to-cjs-v2\0').update(filename).update('\0').update(source).digest('hex');
  },
  process(source, filename) {
    if (!isEsm(filename)) return { code: source };
    let code = source;
    for (const [pattern, replacement] of IMPORT_META) code = code.replace(pattern, replacement);
    const out = ts.transpileModule(code, {
      fileName: filename,
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        allowJs: true,
        esModuleInterop: true,
        sourceMap: false,
      },
    });
    return { code: out.outputText };
  },
};
