/**
 * The registry's schema, one migration per version. A migration is applied in the same
 * transaction that sets `PRAGMA user_version`, so a database is always at one version.
 * Never edit a released migration: add the next one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: images, their audits and proofs, channels, revocations, package versions, events, pipelines.
  `
  CREATE TABLE images (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    digest TEXT NOT NULL,
    parent TEXT,
    spec TEXT,
    source TEXT,
    base TEXT,
    auto_updates TEXT NOT NULL,
    created_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL
  ) STRICT;
  CREATE INDEX images_by_name ON images (name, created_at);
  CREATE INDEX images_by_parent ON images (parent);
  CREATE INDEX images_by_digest ON images (digest);

  CREATE TABLE audits (
    id INTEGER PRIMARY KEY,
    image_id TEXT NOT NULL REFERENCES images (id),
    digest TEXT NOT NULL,
    at TEXT NOT NULL,
    origin TEXT NOT NULL,
    total INTEGER NOT NULL,
    by_severity TEXT NOT NULL,
    rules TEXT NOT NULL
  ) STRICT;
  CREATE INDEX audits_by_digest ON audits (digest, id);

  CREATE TABLE verifications (
    id INTEGER PRIMARY KEY,
    image_id TEXT NOT NULL REFERENCES images (id),
    digest TEXT NOT NULL,
    at TEXT NOT NULL,
    verdict TEXT NOT NULL,
    classes TEXT NOT NULL,
    reasons TEXT NOT NULL,
    proof TEXT
  ) STRICT;
  CREATE INDEX verifications_by_digest ON verifications (digest, id);

  CREATE TABLE channels (
    name TEXT PRIMARY KEY,
    audit_threshold TEXT NOT NULL,
    blocks TEXT NOT NULL,
    created_at TEXT NOT NULL
  ) STRICT;

  CREATE TABLE assignments (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL REFERENCES channels (name),
    image_id TEXT NOT NULL REFERENCES images (id),
    at TEXT NOT NULL,
    by TEXT NOT NULL,
    kind TEXT NOT NULL,
    forced INTEGER NOT NULL,
    reason TEXT
  ) STRICT;
  CREATE INDEX assignments_by_channel ON assignments (channel, id);

  CREATE TABLE revocations (
    image_id TEXT PRIMARY KEY REFERENCES images (id),
    at TEXT NOT NULL,
    by TEXT NOT NULL,
    reason TEXT NOT NULL,
    inherited_from TEXT REFERENCES images (id)
  ) STRICT;

  CREATE TABLE package_versions (
    source TEXT NOT NULL,
    suite TEXT NOT NULL,
    package TEXT NOT NULL,
    version TEXT NOT NULL,
    arch TEXT NOT NULL,
    origin TEXT,
    label TEXT,
    first_seen TEXT NOT NULL,
    PRIMARY KEY (source, suite, package, version, arch)
  ) STRICT;

  CREATE TABLE pipeline_runs (
    id INTEGER PRIMARY KEY,
    spec TEXT NOT NULL,
    spec_digest TEXT NOT NULL,
    channel TEXT,
    kind TEXT NOT NULL,
    started_at TEXT NOT NULL,
    pid INTEGER NOT NULL,
    image_id TEXT REFERENCES images (id),
    step TEXT NOT NULL,
    status TEXT NOT NULL,
    finished_at TEXT,
    outcome TEXT
  ) STRICT;
  CREATE INDEX pipeline_runs_by_spec ON pipeline_runs (spec, id);

  CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    user TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    reason TEXT,
    details TEXT NOT NULL
  ) STRICT;
  CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
  CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
  `,
];

/** The schema version this goldgate writes: the number of migrations. */
export const SCHEMA_VERSION = MIGRATIONS.length;
