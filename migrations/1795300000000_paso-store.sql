-- Up Migration
-- Paso's own data when PASO_DATABASE_URL is set (src/store/postgres.ts): action logs, annotations, attachments.

-- A log is the concatenation of its chunks in offset order. A chunk is written once (a worker that retries
-- an append writes the same offset again and changes nothing).
CREATE TABLE paso_log_chunks (
  log_key text NOT NULL,
  start_offset bigint NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY (log_key, start_offset)
);

CREATE TABLE paso_annotations (
  execution_id text NOT NULL,
  id text NOT NULL,
  seq bigserial NOT NULL,
  body jsonb NOT NULL,
  PRIMARY KEY (execution_id, id)
);
CREATE INDEX paso_annotations_order ON paso_annotations (execution_id, seq);

-- Each attached file once, by the SHA-256 of its content.
CREATE TABLE paso_attachments (
  sha256 text PRIMARY KEY,
  content bytea NOT NULL
);

-- Down Migration
DROP TABLE paso_attachments;
DROP TABLE paso_annotations;
DROP TABLE paso_log_chunks;
