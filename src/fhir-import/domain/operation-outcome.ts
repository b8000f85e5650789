import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

/** An OperationOutcome issue naming the element at fault (a FHIRPath expression such as `Patient.birthDate`). */
export function issue(
  code: OperationOutcomeIssue['code'],
  text: string,
  expression?: string,
  severity: OperationOutcomeIssue['severity'] = 'error',
): OperationOutcomeIssue {
  return { severity, code, details: { text }, ...(expression ? { expression: [expression] } : {}) };
}

export function outcome(issues: OperationOutcomeIssue[]): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: issues };
}

/** The issues with each expression put under a prefix (`Bundle.entry[3].resource`) in place of the resource type. */
export function prefixed(issues: OperationOutcomeIssue[], prefix: string): OperationOutcomeIssue[] {
  return issues.map((i) => ({
    ...i,
    ...(i.expression ? { expression: i.expression.map((e) => `${prefix}${e.includes('.') ? e.slice(e.indexOf('.')) : ''}`) } : {}),
  }));
}

/** One line of a text summary of issues (no values: the messages name elements, never their content). */
export function describe(issues: OperationOutcomeIssue[]): string {
  return issues
    .map((i) => `${i.expression?.join(', ') ?? ''}${i.expression ? ': ' : ''}${i.details?.text ?? i.diagnostics ?? i.code}`)
    .join('; ');
}
