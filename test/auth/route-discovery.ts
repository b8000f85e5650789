import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { RequestMethod, Type } from '@nestjs/common';
import { ModulesContainer, Reflector } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { HTTPMethods } from 'fastify';
import { DECORATORS } from '@nestjs/swagger';
import { routeAccess, RouteAccess } from 'src/auth/access.guard';
import { API_PREFIX } from 'src/app.factory';
import { AuditedOptions, auditedOptionsOf } from 'src/audit/recording/audited.decorator';

/** One HTTP route of the running app, with what it declares to the AccessGuard. */
export interface DiscoveredRoute {
  method: HTTPMethods;
  /** Fastify pattern, e.g. `/api/v1/organizations/:organizationId/api-keys/:keyId`. */
  path: string;
  controller: string;
  handler: string;
  access: RouteAccess;
  /** The audit options of `@Authorized(permission, { audit })`, if any. */
  audit: AuditedOptions | undefined;
  /** What `@Endpoint` declared (`@nestjs/swagger`'s operation metadata), if anything. */
  operation: { operationId?: string; summary?: string; description?: string } | undefined;
}

const join = (...parts: string[]): string => '/' + parts.flatMap((p) => p.split('/')).filter(Boolean).join('/');

/**
 * Every route of every controller Nest registered, found at test time (routes added later are covered without
 * editing the tests). Each is checked against Fastify, so that the path is the one that answers.
 */
export function discoverRoutes(app: NestFastifyApplication): DiscoveredRoute[] {
  const reflector = app.get(Reflector);
  const fastify = app.getHttpAdapter().getInstance();
  const routes: DiscoveredRoute[] = [];
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as Type<unknown> | null;
      if (!controller) continue;
      const controllerPaths = ([] as string[]).concat(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
      const proto = controller.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(proto)) {
        const handler = proto[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        const methodPaths = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
        const requestMethod = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (methodPaths === undefined || requestMethod === undefined) continue;
        const method = RequestMethod[requestMethod] as HTTPMethods;
        const access = routeAccess(reflector, handler, controller);
        const audit = auditedOptionsOf(handler);
        const operation = Reflect.getMetadata(DECORATORS.API_OPERATION, handler) as DiscoveredRoute['operation'];
        for (const cp of controllerPaths) {
          for (const mp of ([] as string[]).concat(methodPaths)) {
            const candidates = [join(API_PREFIX, cp, mp), join(cp, mp)];
            const path = candidates.find((url) => fastify.hasRoute({ method, url }));
            if (!path) throw new Error(`${controller.name}.${name}: no Fastify route for ${method} ${candidates.join(' or ')}`);
            routes.push({ method, path, controller: controller.name, handler: name, access, audit, operation });
          }
        }
      }
    }
  }
  return routes.sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
}

export const describeRoute = (r: DiscoveredRoute): string => `${r.method} ${r.path}`;
