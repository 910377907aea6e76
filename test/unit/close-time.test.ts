/** A build's close time only ever moves earlier: in memory and in the stores' SQL alike. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { earlierCloseTime, earlierCloseTimeSql } from '../../server/src/access/close-time.js';

const EARLY = new Date('2026-11-27T10:00:00Z');
const LATE = new Date('2026-11-27T11:00:00Z');

test('the earlier of two close times wins, whichever is current', () => {
  assert.equal(earlierCloseTime(EARLY, LATE), EARLY);
  assert.equal(earlierCloseTime(LATE, EARLY), EARLY);
});

test('an open-ended (null) close time never widens a set one, and a set one closes an open-ended window', () => {
  assert.equal(earlierCloseTime(EARLY, null), EARLY);
  assert.equal(earlierCloseTime(null, LATE), LATE);
  assert.equal(earlierCloseTime<Date>(null, null), null);
});

test('an equal close time keeps the current one', () => {
  const same = new Date(EARLY.getTime());
  assert.equal(earlierCloseTime(EARLY, same), EARLY);
});

test('epoch milliseconds follow the same rule as Dates', () => {
  assert.equal(earlierCloseTime(EARLY.getTime(), LATE.getTime()), EARLY.getTime());
  assert.equal(earlierCloseTime(LATE.getTime(), EARLY.getTime()), EARLY.getTime());
  assert.equal(earlierCloseTime(null, LATE.getTime()), LATE.getTime());
  assert.equal(earlierCloseTime(EARLY.getTime(), null), EARLY.getTime());
  assert.equal(earlierCloseTime<number>(null, null), null);
});

test('the SQL expression agrees with the function on every case, as a store would run it', () => {
  const db = new Database(':memory:');
  try {
    db.exec('CREATE TABLE builds (id TEXT PRIMARY KEY, closes_at INTEGER)');
    const insert = db.prepare('INSERT INTO builds (id, closes_at) VALUES (?, ?)');
    const narrow = db.prepare(`UPDATE builds SET closes_at = ${earlierCloseTimeSql('closes_at', '@proposed')} WHERE id = @id RETURNING closes_at`);
    const times = [null, EARLY.getTime(), LATE.getTime()];
    for (const current of times) {
      for (const proposed of times) {
        const id = `${current}-${proposed}`;
        insert.run(id, current);
        const row = narrow.get({ proposed, id }) as { closes_at: number | null };
        assert.equal(row.closes_at, earlierCloseTime(current, proposed), `current ${current}, proposed ${proposed}`);
      }
    }
  } finally {
    db.close();
  }
});
