import { mkdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { EnvironmentError } from '../core/errors.js';
import { goldgateHome } from '../core/home.js';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.js';

/** An open registry: the SQLite database in `GOLDGATE_HOME` and who is acting on it. */
export interface Registry {
  readonly db: SqliteDatabase;
  /** goldgate's data directory, whose `images/` the registry indexes. */
  readonly home: string;
  /** The database file. */
  readonly path: string;
  /** The OS user who acts (`alice`, or `root (sudo alice)`), recorded with each event. */
  readonly user: string;
  close(): void;
}

/** `$GOLDGATE_HOME/registry.db`. */
export function registryPath(home: string = goldgateHome()): string {
  return join(home, 'registry.db');
}

/** How long a writer waits for another goldgate process's transaction before giving up. */
const BUSY_TIMEOUT_MS = 30_000;

/**
 * Opens (and creates or migrates) the registry. WAL lets readers run beside a writer, a
 * busy timeout lets two goldgate processes take turns, and synchronous=FULL makes a committed
 * transaction survive a crash of the machine, not only of the process.
 */
export function openRegistry(home: string = goldgateHome()): Registry {
  mkdirSync(home, { recursive: true });
  const path = registryPath(home);
  let db: SqliteDatabase;
  try {
    db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db, path);
  } catch (error) {
    if (error instanceof EnvironmentError) throw error;
    throw new EnvironmentError(
      'REGISTRY_UNAVAILABLE',
      `cannot open the registry ${path}: ${messageOf(error)}`,
      {
        hint: 'check that GOLDGATE_HOME is writable and the disk not full; a damaged file can be checked with `goldgate registry check`',
        cause: error,
      },
    );
  }
  return { db, home, path, user: actingUser(), close: () => db.close() };
}

function migrate(db: SqliteDatabase, path: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION)
    throw new EnvironmentError(
      'REGISTRY_TOO_NEW',
      `the registry ${path} has schema version ${current}; this goldgate knows up to ${SCHEMA_VERSION}`,
      { hint: 'use the goldgate version that wrote it, or a newer one' },
    );
  if (current === SCHEMA_VERSION) return;
  // IMMEDIATE: two processes opening a new registry at once migrate it once.
  db.transaction(() => {
    const now = db.pragma('user_version', { simple: true }) as number;
    for (let version = now; version < SCHEMA_VERSION; version++) {
      db.exec(MIGRATIONS[version] as string);
      db.pragma(`user_version = ${version + 1}`);
    }
  }).immediate();
}

function actingUser(): string {
  let name: string;
  try {
    name = userInfo().username;
  } catch {
    name = process.env.USER ?? `uid ${process.getuid?.() ?? '?'}`;
  }
  const sudo = process.env.SUDO_USER;
  return sudo !== undefined && sudo !== '' && sudo !== name ? `${name} (sudo ${sudo})` : name;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The time of a record, as stored: ISO 8601 in UTC with milliseconds. */
export function nowIso(now: Date = new Date()): string {
  return now.toISOString();
}
