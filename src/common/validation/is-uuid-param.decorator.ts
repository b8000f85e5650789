import { IsUUID } from 'class-validator';

/** A path parameter that must be a UUID (any version); the 400 problem names it: `patientId must be a UUID`. */
export const IsUuidParam = (): PropertyDecorator => IsUUID('all', { message: ({ property }) => `${property} must be a UUID` });
