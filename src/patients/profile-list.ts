import { ProblemException } from 'src/common/problem/problem';
import type { PatientStatus } from 'src/scoring/domain/patient-status';

export const PROFILE_SORTS = ['name', 'ltv', 'last_appointment', 'risk_score'] as const;
export type ProfileSort = (typeof PROFILE_SORTS)[number];
export const STATUS_FILTERS = ['active', 'dormant', 'at_risk', 'all'] as const;
export type StatusFilter = (typeof STATUS_FILTERS)[number];
export const SORT_ORDERS = ['asc', 'desc'] as const;
export type SortOrder = (typeof SORT_ORDERS)[number];

/** Default direction per sort: names A to Z, the rest largest or latest first. */
export const DEFAULT_ORDER: Record<ProfileSort, SortOrder> = { name: 'asc', ltv: 'desc', last_appointment: 'desc', risk_score: 'desc' };

/**
 * The list is walked in segments: the rows whose sort key is set, then (last_appointment only) the rows without
 * one, so that patients without a last appointment come last in both directions.
 */
export type Segment = 'keyed' | 'unkeyed';

/** Where a page ends: the last row's segment, sort key (as PostgreSQL prints it) and id. */
export interface ListPosition {
  segment: Segment;
  key: string | null;
  id: string;
}

/** What a cursor carries: the list it belongs to and where the next page starts. */
export interface CursorState {
  sort: ProfileSort;
  order: SortOrder;
  status: StatusFilter;
  search: string | null;
  /** Rows before the next page (offset of the next page), for `has_more`. */
  skipped: number;
  after: ListPosition;
}

/** The fully resolved list request. */
export interface ListSpec {
  sort: ProfileSort;
  order: SortOrder;
  status: PatientStatus | null;
  /** Lower-cased name prefix. */
  search: string | null;
  limit: number;
  offset: number;
  after: ListPosition | null;
}

/** What a sort key looks like as PostgreSQL prints it (a cursor's key is cast back to the column's type). */
const KEY_FORMAT: Record<ProfileSort, RegExp> = {
  name: /^[\s\S]*$/,
  ltv: /^-?\d{1,10}$/,
  risk_score: /^-?\d+(\.\d+)?(e[+-]?\d+)?$/,
  last_appointment: /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?\+00$/,
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function encodeCursor(state: CursorState): string {
  const a = state.after;
  return Buffer.from(JSON.stringify([1, state.sort, state.order, state.status, state.search, state.skipped, a.segment === 'keyed' ? 0 : 1, a.key, a.id])).toString('base64url');
}

const badCursor = (): ProblemException =>
  ProblemException.invalidField('query', 'cursor', 'cursor must be a next_cursor value returned by this endpoint, unchanged');

/** Decodes a `cursor` query value; a malformed one is a 400 naming `cursor`. */
export function decodeCursor(raw: string): CursorState {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw badCursor();
  }
  if (!Array.isArray(v) || v.length !== 9 || v[0] !== 1) throw badCursor();
  const [, sort, order, status, search, skipped, segment, key, id] = v as unknown[];
  if (
    !PROFILE_SORTS.includes(sort as ProfileSort) ||
    !SORT_ORDERS.includes(order as SortOrder) ||
    !STATUS_FILTERS.includes(status as StatusFilter) ||
    !(search === null || (typeof search === 'string' && search.length <= 100)) ||
    !(Number.isSafeInteger(skipped) && (skipped as number) >= 0) ||
    !(segment === 0 || segment === 1) ||
    !(key === null || (typeof key === 'string' && key.length <= 400)) ||
    (segment === 0 && (key === null || !KEY_FORMAT[sort as ProfileSort].test(key as string))) ||
    (sort === 'ltv' && segment === 0 && Math.abs(Number(key)) > 2_147_483_647) ||
    typeof id !== 'string' ||
    !UUID.test(id)
  ) {
    throw badCursor();
  }
  return {
    sort: sort as ProfileSort,
    order: order as SortOrder,
    status: status as StatusFilter,
    search: search as string | null,
    skipped: skipped as number,
    after: { segment: segment === 0 ? 'keyed' : 'unkeyed', key: key as string | null, id },
  };
}
