import type { OpenAPIObject, OperationObject } from '@nestjs/swagger';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/**
 * What the access decorators cannot say through @nestjs/swagger: each operation's description ends with the
 * permission it needs (from its `x-permission`), and an operation without bearer security says `security: []`
 * (no token needed) rather than nothing, which linters and generators read as "unspecified".
 */
export function describeAccess(document: OpenAPIObject): OpenAPIObject {
  for (const item of Object.values(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method] as (OperationObject & { 'x-permission'?: string }) | undefined;
      if (!operation) continue;
      const permission = operation['x-permission'];
      if (permission) operation.description = `${operation.description ?? ''}\n\nRequires the permission \`${permission}\` in the organization.`.trim();
      operation.security ??= [];
    }
  }
  return document;
}
