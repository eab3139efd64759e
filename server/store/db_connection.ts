/**
 * The connection to a `file:` database, driven through the `libsql` driver
 * directly rather than through `@libsql/client`, which prepared every
 * statement anew and built each row with a `defineProperty` per column:
 * together about a tenth of the server's CPU under ingest. Here prepared
 * statements are kept (ingest repeats a handful of them) and rows stay
 * arrays until `file_client.ts` gives them names.
 *
 * Every call is synchronous, like the driver; `file_client.ts` puts the
 * libSQL `Client` interface on top.
 */
import Database from "libsql";
import {
  type InArgs,
  type InStatement,
  type InValue,
  LibsqlError,
  type TransactionMode,
} from "@libsql/client";

/** A result set with rows as arrays, in column order. */
export interface RawResult {
  columns: string[];
  columnTypes: string[];
  rows: unknown[][];
  rowsAffected: number;
  lastInsertRowid: bigint | undefined;
}

type Connection = Database.Database;
type Statement = ReturnType<Connection["prepare"]>;

/** Prepared statements kept, least recently used dropped first. */
const STATEMENT_CACHE = 256;

const BEGIN: Record<TransactionMode, string> = {
  write: "BEGIN IMMEDIATE",
  read: "BEGIN TRANSACTION READONLY",
  deferred: "BEGIN DEFERRED",
};

// Extended result codes are base | (extended << 8).
const BASE_CODES: Record<number, string> = {
  1: "SQLITE_ERROR",
  5: "SQLITE_BUSY",
  8: "SQLITE_READONLY",
  11: "SQLITE_CORRUPT",
  13: "SQLITE_FULL",
  14: "SQLITE_CANTOPEN",
  19: "SQLITE_CONSTRAINT",
  26: "SQLITE_NOTADB",
};

/** The driver's SqliteError as the LibsqlError the client would throw. */
function libsqlError(err: unknown): unknown {
  const e = err as { code?: unknown; rawCode?: unknown; message?: unknown };
  if (typeof e?.rawCode !== "number") return err;
  return new LibsqlError(
    String(e.message),
    BASE_CODES[e.rawCode & 0xff] ?? "SQLITE_UNKNOWN",
    typeof e.code === "string" ? e.code : undefined,
    e.rawCode,
    err instanceof Error ? err : undefined,
  );
}

function sqlValue(value: InValue): unknown {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) {
      throw new RangeError(
        "Only finite numbers (not Infinity or NaN) can be passed as arguments",
      );
    }
    return value;
  }
  if (typeof value === "boolean") return value ? 1 : 0;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (value instanceof Date) return value.valueOf();
  if (value === undefined) {
    throw new TypeError(
      "undefined cannot be passed as argument to the database",
    );
  }
  return value;
}

function sqlArgs(
  args: InArgs | undefined,
): unknown[] | Record<string, unknown> {
  if (args === undefined) return [];
  if (Array.isArray(args)) return args.map(sqlValue);
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(args)) {
    const key = name[0] === "@" || name[0] === "$" || name[0] === ":"
      ? name.substring(1)
      : name;
    out[key] = sqlValue(value);
  }
  return out;
}

function blobValue(x: unknown): unknown {
  if (!(x instanceof Uint8Array)) return x;
  // A BLOB comes back as a Buffer; the client's contract is an ArrayBuffer.
  return x.byteOffset === 0 && x.byteLength === x.buffer.byteLength
    ? x.buffer
    : x.buffer.slice(x.byteOffset, x.byteOffset + x.byteLength);
}

/** One connection; throws LibsqlError like the driver's client. */
export class DbConnection {
  private statements = new Map<string, Statement>();

  constructor(private db: Connection) {}

  static open(path: string): DbConnection {
    try {
      const c = new DbConnection(new Database(path, { timeout: 5000 }));
      c.execute("SELECT 1");
      return c;
    } catch (err) {
      throw libsqlError(err);
    }
  }

  private prepared(sql: string): Statement {
    let stmt = this.statements.get(sql);
    if (stmt) {
      // Move to the back: the Map's order is the recency order.
      this.statements.delete(sql);
    } else {
      stmt = this.db.prepare(sql);
      // Rows as arrays; file_client.ts names them.
      if (stmt.reader) stmt.raw(true);
      if (this.statements.size >= STATEMENT_CACHE) {
        this.statements.delete(this.statements.keys().next().value!);
      }
    }
    this.statements.set(sql, stmt);
    return stmt;
  }

  execute(stmt: InStatement): RawResult {
    try {
      return this.run(stmt);
    } catch (err) {
      throw libsqlError(err);
    }
  }

  private run(stmt: InStatement): RawResult {
    const { sql, args } = typeof stmt === "string"
      ? { sql: stmt, args: undefined }
      : stmt;
    const s = this.prepared(sql);
    const bound = sqlArgs(args);
    if (s.reader) {
      const columns = s.columns();
      const rows = s.all(bound) as unknown[][];
      for (const r of rows) {
        for (let i = 0; i < r.length; i++) r[i] = blobValue(r[i]);
      }
      return {
        columns: columns.map((c) => c.name),
        columnTypes: columns.map((c) => c.type ?? ""),
        rows,
        rowsAffected: 0,
        lastInsertRowid: undefined,
      };
    }
    const info = s.run(bound);
    return {
      columns: [],
      columnTypes: [],
      rows: [],
      rowsAffected: info.changes,
      lastInsertRowid: BigInt(info.lastInsertRowid),
    };
  }

  exec(sql: string): void {
    try {
      this.db.exec(sql);
    } catch (err) {
      throw libsqlError(err);
    }
  }

  begin(mode: TransactionMode = "deferred"): void {
    this.exec(BEGIN[mode]);
  }

  /** Commits or rolls back whatever transaction is open. */
  end(commit: boolean): void {
    if (this.db.inTransaction) this.exec(commit ? "COMMIT" : "ROLLBACK");
  }

  /** The statements in one transaction; all or nothing. */
  batch(
    stmts: InStatement[],
    mode: TransactionMode = "deferred",
  ): RawResult[] {
    this.begin(mode);
    try {
      const out = stmts.map((s) => this.execute(s));
      this.end(true);
      return out;
    } finally {
      this.end(false);
    }
  }

  /** A batch with foreign keys off, as drizzle's migrator asks. */
  migrate(stmts: InStatement[]): RawResult[] {
    this.exec("PRAGMA foreign_keys=off");
    try {
      return this.batch(stmts);
    } finally {
      this.exec("PRAGMA foreign_keys=on");
    }
  }

  close(): void {
    this.statements.clear();
    this.db.close();
  }
}
