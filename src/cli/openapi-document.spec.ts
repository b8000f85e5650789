import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

interface Operation {
  parameters?: Array<{ name: string; in: string; required?: boolean }>;
}

/**
 * The committed openapi.json, which `npm run openapi:check` keeps equal to what the build (with the Swagger CLI
 * plugin, which Jest does not run) produces. Swagger UI shows a "Try it out" field only for declared parameters:
 * an undeclared `{organizationId}` would be sent as those literal characters.
 */
const document = JSON.parse(readFileSync(resolve(__dirname, '../../openapi.json'), 'utf8')) as {
  paths: Record<string, Record<string, Operation>>;
};

describe('openapi.json', () => {
  it("declares each of a path's {parameters} once, as a required path parameter, and no other", () => {
    const wrong: string[] = [];
    let templatedOperations = 0;
    for (const [path, operations] of Object.entries(document.paths)) {
      const templated = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      for (const [method, op] of Object.entries(operations)) {
        const declared = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => `${p.name}${p.required ? '' : ' (optional)'}`);
        if (declared.sort().join() !== templated.join()) wrong.push(`${method.toUpperCase()} ${path} declares [${declared.join(', ')}]`);
        if (templated.length > 0) templatedOperations += 1;
      }
    }
    expect(wrong).toEqual([]);
    expect(templatedOperations).toBeGreaterThanOrEqual(16);
  });
});
