import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'patient-journey:public';

/** Marks a route (or controller) as reachable without authentication. Every other route requires it. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);
