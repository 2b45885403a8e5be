import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkSqliteFile, parseSqliteHeader } from '../../runtimes/src/sqlite-file';
import { scratchDir } from '../support/runtime/programs';
import { createDb } from '../support/runtime/sqlite';

describe('SQLite header check', () => {
  let scratch: ReturnType<typeof scratchDir>;
  let db: Buffer;
  beforeAll(() => {
    scratch = scratchDir('sqlite-file');
    mkdirSync(scratch.dir, { recursive: true });
    const path = join(scratch.dir, 'db.sqlite3');
    createDb(path, 50, 'wal');
    db = readFileSync(path);
  });
  afterAll(() => scratch.remove());

  it('accepts a real database and reads its page size and WAL mode', () => {
    expect(checkSqliteFile(db, db.length)).toBeUndefined();
    expect(parseSqliteHeader(db)).toMatchObject({ pageSize: 4096, wal: true, pageCount: db.length / 4096 });
  });

  it('names what is wrong with a file that is not a database', () => {
    expect(checkSqliteFile(Buffer.alloc(10), 10)).toMatch(/shorter than a SQLite header/);
    expect(checkSqliteFile(Buffer.alloc(4096, 0x41), 4096)).toBe('not a SQLite 3 database (bad magic string)');
    const badPage = Buffer.from(db);
    badPage.writeUInt16BE(1000, 16);
    expect(checkSqliteFile(badPage, db.length)).toBe('invalid page size 1000');
  });

  it('catches a truncated or extended file by the page count', () => {
    expect(checkSqliteFile(db, db.length - 4096)).toMatch(/does not match the header's \d+ pages of 4096 bytes/);
    expect(checkSqliteFile(db, db.length + 4096)).toMatch(/does not match the header/);
    expect(checkSqliteFile(db, db.length - 100)).toMatch(/not a multiple of the page size 4096/);
  });

  it('reads page size 1 as 65536', () => {
    const big = Buffer.from(db.subarray(0, 100));
    big.writeUInt16BE(1, 16);
    big.writeUInt32BE(2, 28);
    expect(parseSqliteHeader(big)).toMatchObject({ pageSize: 65536 });
    expect(checkSqliteFile(big, 2 * 65536)).toBeUndefined();
  });
});
