// `node bench/heap-sample-report.js <file.heapprofile> [rows, default 30]`: the sampled bytes of a heap profile
// (bench/heap-sample.js, or Chrome DevTools' "Allocation sampling") by the innermost frame of our own code (dist/ or
// src/), else by the package or Node built-in that allocated them. docs/performance.md, "The list's tail, request by request".
const { readFileSync } = require('node:fs');

const [file, rowsArg] = process.argv.slice(2);
if (!file) throw new Error('usage: node bench/heap-sample-report.js <file.heapprofile> [rows]');
const profile = JSON.parse(readFileSync(file, 'utf8'));
const own = (cf) => {
  const url = cf.url;
  if (url.includes('/node_modules/') || !(url.includes('/dist/') || url.includes('/src/'))) return null;
  return `${cf.functionName || '(anon)'} ${url.split(/\/(?:dist|src)\//).pop()}:${cf.lineNumber + 1}`;
};
const other = (cf) => {
  const url = cf.url;
  if (url.includes('/node_modules/')) return `package ${url.split('/node_modules/').pop().split('/')[0]}`;
  return url.startsWith('node:') ? `node ${cf.functionName || '?'}` : `${cf.functionName || '(anon)'}`;
};
const bytes = new Map();
let total = 0;
const walk = (node, stack) => {
  const frames = [...stack, node.callFrame];
  if (node.selfSize > 0) {
    total += node.selfSize;
    let key = null;
    for (let i = frames.length - 1; i >= 0 && key === null; i--) key = own(frames[i]);
    key ??= other(node.callFrame);
    bytes.set(key, (bytes.get(key) ?? 0) + node.selfSize);
  }
  for (const child of node.children ?? []) walk(child, frames);
};
walk(profile.head, []);
console.log(`${(total / 1e6).toFixed(1)} MB sampled`);
for (const [key, n] of [...bytes].sort((a, b) => b[1] - a[1]).slice(0, Number(rowsArg ?? 30))) {
  console.log(`${(n / 1e6).toFixed(2).padStart(8)} MB ${((100 * n) / total).toFixed(1).padStart(5)} %  ${key}`);
}
