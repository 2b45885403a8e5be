/**
 * What the first 100 bytes of a SQLite database file say, checked against its size.
 * Pure: a cheap first test before a file is trusted, and the only test possible where
 * SQLite itself cannot open the file (session storage without working locks).
 * Format: https://www.sqlite.org/fileformat2.html#the_database_header
 */
export const SQLITE_HEADER_BYTES = 100;
const MAGIC = 'SQLite format 3\u0000';

export interface SqliteHeader {
  readonly pageSize: number;
  /** Pages in the file per the header, when the header says that number is current. */
  readonly pageCount?: number;
  readonly changeCounter: number;
  /** Write/read format version 2: the database was last in WAL mode. */
  readonly wal: boolean;
}

/** The header, or a sentence saying why these bytes are not one. */
export function parseSqliteHeader(head: Uint8Array): SqliteHeader | string {
  if (head.length < SQLITE_HEADER_BYTES) return `file is ${head.length} bytes, shorter than a SQLite header (${SQLITE_HEADER_BYTES})`;
  const buf = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (buf.toString('latin1', 0, 16) !== MAGIC) return 'not a SQLite 3 database (bad magic string)';
  const rawPageSize = buf.readUInt16BE(16);
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return `invalid page size ${rawPageSize}`;
  const write = buf[18];
  const read = buf[19];
  if (write < 1 || write > 2 || read < 1 || read > 2) return `unknown file format version ${write}/${read}`;
  if (buf[21] !== 64 || buf[22] !== 32 || buf[23] !== 32) return 'invalid payload fractions';
  const changeCounter = buf.readUInt32BE(24);
  const headerPageCount = buf.readUInt32BE(28);
  const versionValidFor = buf.readUInt32BE(92);
  // The in-header page count is only trustworthy when written by a version that kept it up to date.
  const pageCount = versionValidFor === changeCounter && headerPageCount > 0 ? headerPageCount : undefined;
  return { pageSize, pageCount, changeCounter, wal: write === 2 };
}

/** Undefined when the header and the file size agree; otherwise what is wrong. */
export function checkSqliteFile(head: Uint8Array, fileSize: number): string | undefined {
  const header = parseSqliteHeader(head);
  if (typeof header === 'string') return header;
  if (fileSize % header.pageSize !== 0) return `file size ${fileSize} is not a multiple of the page size ${header.pageSize}`;
  if (header.pageCount !== undefined && header.pageCount * header.pageSize !== fileSize) {
    return `file size ${fileSize} does not match the header's ${header.pageCount} pages of ${header.pageSize} bytes (truncated or extended)`;
  }
  return undefined;
}
