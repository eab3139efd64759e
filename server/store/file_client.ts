/**
 * A libSQL `Client` for a `file:` database, over one `DbConnection`
 * (db_connection.ts): the driver's own client prepared every statement
 * anew and built each row with a `defineProperty` per column, about a
 * tenth of the server's CPU under ingest.
 *
 * Calls run in order, one at a time, as on the driver client's single
 * connection. While an interactive transaction is open, calls from
 * outside it wait for its end, so nothing else runs inside it.
 */
import {
  type Client,
  type InArgs,
  type InStatement,
  LibsqlError,
  type Replicated,
  type ResultSet,
  type Row,
  type Transaction,
  type TransactionMode,
} from "@libsql/client";
import { DbConnection, type RawResult } from "./db_connection.ts";

const VALUES = Symbol("values");

/**
 * Rows like the driver's: values by column name (own, enumerable, as
 * drizzle's `normalizeRow` reads them) and by index (not enumerable, on
 * one prototype per result set rather than defined on every row).
 */
function rowsOf(r: RawResult): Row[] {
  if (r.rows.length === 0) return [];
  const proto: Record<PropertyKey, unknown> = {};
  Object.defineProperty(proto, "length", { value: r.columns.length });
  for (let i = 0; i < r.columns.length; i++) {
    Object.defineProperty(proto, i, {
      get(this: { [VALUES]: unknown[] }) {
        return this[VALUES][i];
      },
    });
  }
  // A repeated column name keeps its first value, as the driver does.
  const named: [number, string][] = [];
  const seen = new Set<string>();
  r.columns.forEach((c, i) => {
    if (!seen.has(c)) named.push([i, c]);
    seen.add(c);
  });
  return r.rows.map((values) => {
    const row = Object.create(proto) as Record<PropertyKey, unknown>;
    Object.defineProperty(row, VALUES, { value: values });
    for (const [i, c] of named) row[c] = values[i];
    return row as unknown as Row;
  });
}

function resultSet(r: RawResult): ResultSet {
  return {
    columns: r.columns,
    columnTypes: r.columnTypes,
    rows: rowsOf(r),
    rowsAffected: r.rowsAffected,
    lastInsertRowid: r.lastInsertRowid,
    toJSON: () => ({
      columns: r.columns,
      columnTypes: r.columnTypes,
      rows: r.rows,
      rowsAffected: r.rowsAffected,
      lastInsertRowid: r.lastInsertRowid?.toString() ?? null,
    }),
  };
}

function normalize(stmtOrSql: InStatement, args?: InArgs): InStatement {
  return typeof stmtOrSql === "string"
    ? { sql: stmtOrSql, args: args ?? [] }
    : stmtOrSql;
}

/** Opens the database file at `path` (created if missing). */
export function openFileClient(path: string): Client {
  return new FileClient(DbConnection.open(path));
}

class FileClient implements Client {
  closed = false;
  protocol = "file";
  /** settles when the open interactive transaction ends */
  private gate: Promise<void> | null = null;

  constructor(private conn: DbConnection) {}

  /** Runs `fn` once no interactive transaction holds the connection. */
  private async call<T>(fn: (c: DbConnection) => T): Promise<T> {
    while (this.gate) await this.gate;
    if (this.closed) {
      throw new LibsqlError("The client is closed", "CLIENT_CLOSED");
    }
    return fn(this.conn);
  }

  execute(stmtOrSql: InStatement, args?: InArgs): Promise<ResultSet> {
    const stmt = normalize(stmtOrSql, args);
    return this.call((c) => resultSet(c.execute(stmt)));
  }

  batch(
    stmts: Array<InStatement | [string, InArgs?]>,
    mode?: TransactionMode,
  ): Promise<ResultSet[]> {
    const list = stmts.map((s) => Array.isArray(s) ? normalize(s[0], s[1]) : s);
    return this.call((c) => c.batch(list, mode).map(resultSet));
  }

  migrate(stmts: InStatement[]): Promise<ResultSet[]> {
    return this.call((c) => c.migrate(stmts).map(resultSet));
  }

  executeMultiple(sql: string): Promise<void> {
    return this.call((c) => c.exec(sql));
  }

  async transaction(mode?: TransactionMode): Promise<Transaction> {
    await this.call((c) => c.begin(mode));
    let release!: () => void;
    this.gate = new Promise((resolve) => release = resolve);
    const conn = this.conn;
    let closed = false;
    // A throw becomes a rejection, as from the driver's async methods.
    const settle = <T>(fn: () => T) => new Promise<T>((r) => r(fn()));
    const inside = <T>(fn: () => T): Promise<T> =>
      settle(() => {
        if (closed) {
          throw new LibsqlError(
            "The transaction is closed",
            "TRANSACTION_CLOSED",
          );
        }
        return fn();
      });
    const finish = (commit: boolean) => {
      if (closed) return;
      closed = true;
      try {
        conn.end(commit);
      } finally {
        this.gate = null;
        release();
      }
    };
    return {
      execute: (stmt: InStatement) =>
        inside(() => resultSet(conn.execute(stmt))),
      batch: (stmts: InStatement[]) =>
        inside(() => stmts.map((s) => resultSet(conn.execute(s)))),
      executeMultiple: (sql: string) => inside(() => conn.exec(sql)),
      commit: () => inside(() => finish(true)),
      rollback: () => settle(() => finish(false)),
      close: () => finish(false),
      get closed() {
        return closed;
      },
    };
  }

  sync(): Promise<Replicated> {
    return Promise.resolve(undefined);
  }

  reconnect(): void {
    throw new LibsqlError("reconnect is not supported", "NOT_SUPPORTED");
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.conn.close();
  }
}
