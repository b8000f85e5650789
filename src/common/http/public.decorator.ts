import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiProblems, TOO_MANY_REQUESTS_PROBLEM } from 'src/common/problem/problem-docs';

export const IS_PUBLIC = 'patient-journey:public';

/**
 * Marks a route (or controller) as reachable without authentication. Every other route requires it. Public routes
 * are still limited per client IP, hence the 429. (The document says `security: []` for them: see app.factory.)
 */
export const Public = (): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(IS_PUBLIC, true), ApiProblems(TOO_MANY_REQUESTS_PROBLEM));
