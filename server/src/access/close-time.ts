/**
 * A build's access window may narrow but never widen: of its current close time and a proposed
 * one, the earlier wins, and null (open-ended) loses to any time. The orchestrator's PUT of a
 * build, the build finishing and a revoke can arrive in any order, on any node; a stale PUT
 * landing after a finish or a revoke must not re-open access they ended. Written once here, in
 * JavaScript for what the gateway holds in memory and in SQL for what the stores update in place.
 */

/** Epoch milliseconds (the SQLite store's times) or a Date: the rule is the same for both. */
type CloseTime = Date | number;

export function earlierCloseTime<T extends CloseTime>(current: T | null, proposed: T | null): T | null {
  if (current === null) return proposed;
  if (proposed === null) return current;
  return epochMs(current) <= epochMs(proposed) ? current : proposed;
}

/**
 * The same rule as an SQL expression, valid in SQLite and PostgreSQL. Each argument is a column or
 * a placeholder and appears several times: use numbered or named placeholders, and in PostgreSQL
 * cast a placeholder (`$2::timestamptz`), which could not otherwise be typed in `IS NULL`.
 */
export function earlierCloseTimeSql(current: string, proposed: string): string {
  return `CASE WHEN ${current} IS NULL THEN ${proposed} WHEN ${proposed} IS NULL THEN ${current} WHEN ${current} <= ${proposed} THEN ${current} ELSE ${proposed} END`;
}

function epochMs(time: CloseTime): number {
  return typeof time === 'number' ? time : time.getTime();
}
