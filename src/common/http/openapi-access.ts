import type { OpenAPIObject, OperationObject, ReferenceObject, ResponseObject } from '@nestjs/swagger';
import { SHARED_PROBLEMS } from 'src/common/problem/problem-docs';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/**
 * What the decorators cannot say through @nestjs/swagger:
 * - each operation's description ends with the permission it needs (from its `x-permission`);
 * - an operation without bearer security says `security: []` (no token needed) rather than nothing, which linters
 *   and generators read as "unspecified";
 * - the problem answers many operations share are written once, under `components.responses`, and referred to.
 */
export function finishDocument(document: OpenAPIObject): OpenAPIObject {
  const shared: Record<string, ResponseObject> = {};
  for (const item of Object.values(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method] as (OperationObject & { 'x-permission'?: string }) | undefined;
      if (!operation) continue;
      const permission = operation['x-permission'];
      if (permission)
        operation.description = `${operation.description ?? ''}\n\nRequires the permission \`${permission}\` in the organization.`.trim();
      operation.security ??= [];
      for (const [status, response] of Object.entries(operation.responses) as Array<[string, ResponseObject | ReferenceObject]>) {
        const name = Object.keys(SHARED_PROBLEMS).find(
          (n) =>
            String(SHARED_PROBLEMS[n].status) === status &&
            'description' in response &&
            SHARED_PROBLEMS[n].description === response.description,
        );
        if (!name) continue;
        shared[name] ??= response as ResponseObject;
        operation.responses[status] = { $ref: `#/components/responses/${name}` };
      }
    }
  }
  document.components = { ...document.components, responses: { ...document.components?.responses, ...shared } };
  return document;
}
