import { applyDecorators, Type } from '@nestjs/common';
import { ApiOperation, ApiResponse } from '@nestjs/swagger';
import { ApiProblems, ProblemDoc } from 'src/common/problem/problem-docs';

/** camelCase, verb first: `listPatientProfiles`, `getRiskSummary`. */
const OPERATION_ID = /^(list|get|create|add|update|replace|change|revoke|remove|delete|ingest|verify|check)[A-Z][A-Za-z]*$/;

/** The success answer of an operation: its type and an example (checked against the type by the compiler). */
export type EndpointResponse<T> =
  { status?: 200 | 201 | 202; description: string; type: Type<T>; example: T } | { status: 202 | 204; description: string };

export interface EndpointOptions<T> {
  /**
   * The operation's stable name: the SDK's and Swagger UI's name for it, so renaming it breaks clients. Written
   * here, never derived from the class or method name.
   */
  operationId: string;
  /** A short imperative line: "List patient profiles". */
  summary: string;
  /** What the operation answers and when; the permission it needs is appended from `@Authorized`. */
  description: string;
  response: EndpointResponse<T>;
  /** Problem answers beyond those of the access decorator (400, 401, 403, 429), e.g. a 404. */
  problems?: ProblemDoc[];
}

/**
 * The one way an operation is documented (its controller's `@ApiTags` names its group): its operationId, summary, description, typed success answer with an
 * example, and its own problem answers. The access decorator (`@Authorized`, `@Authenticated`, `@Public`) adds the
 * security and the problems every guarded route shares. Handlers carry no JSDoc: the Swagger CLI plugin would turn
 * it into a second, competing summary.
 */
export function Endpoint<T>(options: EndpointOptions<T>): MethodDecorator {
  if (!OPERATION_ID.test(options.operationId)) {
    throw new Error(`operationId ${options.operationId} must be camelCase and start with a verb (list, get, create...)`);
  }
  const { response } = options;
  return applyDecorators(
    ApiOperation({ operationId: options.operationId, summary: options.summary, description: options.description }),
    !('type' in response)
      ? ApiResponse({ status: response.status, description: response.description })
      : ApiResponse({ status: response.status ?? 200, description: response.description, type: response.type, example: response.example }),
    ApiProblems(...(options.problems ?? [])),
  );
}
