/** Schema history. Append only: migration N brings user_version from N-1 to N. */
export const MIGRATIONS: readonly string[] = [
  /* 1: token cache, simulation cache, latest flow result per CPF, config audit, batches */ `
  CREATE TABLE token_cache (
    fingerprint  TEXT PRIMARY KEY,
    access_token TEXT NOT NULL,
    token_type   TEXT NOT NULL,
    expires_at   INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE simulation_cache (
    cpf              TEXT PRIMARY KEY,
    consult_id       TEXT NOT NULL,
    dados_simulacao  TEXT NOT NULL,
    dados_cliente    TEXT,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX simulation_cache_expires ON simulation_cache (expires_at);

  CREATE TABLE flow_results (
    cpf         TEXT PRIMARY KEY,
    status      TEXT NOT NULL,
    consult_id  TEXT,
    resultado   TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE config_audit (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    ip         TEXT NOT NULL,
    action     TEXT NOT NULL,
    keys       TEXT NOT NULL
  ) STRICT;

  CREATE TABLE batches (
    id           TEXT PRIMARY KEY,
    status       TEXT NOT NULL CHECK (status IN ('PENDING','RUNNING','COMPLETED','CANCELLED')),
    origin       TEXT NOT NULL,
    params       TEXT NOT NULL,
    total        INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    started_at   INTEGER,
    finished_at  INTEGER
  ) STRICT;
  CREATE INDEX batches_created ON batches (created_at);

  CREATE TABLE batch_items (
    batch_id     TEXT NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL,
    cpf          TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('PENDING','RUNNING','SUCCESS','FAILED','CANCELLED')),
    etapa        TEXT,
    erro         TEXT,
    resultado    TEXT,
    attempts     INTEGER NOT NULL DEFAULT 0,
    lease_owner  TEXT,
    lease_until  INTEGER,
    next_run_at  INTEGER NOT NULL DEFAULT 0,
    finished_at  INTEGER,
    PRIMARY KEY (batch_id, seq)
  ) STRICT;
  CREATE INDEX batch_items_claim ON batch_items (status, next_run_at);
  `,
  /* 2: batch items: error message, consecutive transient failures, first run time, per-batch lookup by status */ `
  ALTER TABLE batch_items ADD COLUMN mensagem TEXT;
  ALTER TABLE batch_items ADD COLUMN retries INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE batch_items ADD COLUMN first_run_at INTEGER;
  CREATE INDEX batch_items_state ON batch_items (batch_id, status, finished_at);
  `,
  /* 3: PresençaBank: the consult term of each CPF (never created twice) and the CPF's latest eligibility result */ `
  CREATE TABLE presenca_terms (
    cpf             TEXT PRIMARY KEY,
    autorizacao_id  TEXT,
    short_url       TEXT,
    telefone        TEXT,
    created_at      INTEGER,
    create_tried_at INTEGER,
    signed_at       INTEGER,
    sign_result     TEXT,
    sign_error      TEXT,
    authorized_at   INTEGER,
    updated_at      INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE presenca_results (
    cpf         TEXT PRIMARY KEY,
    status      TEXT NOT NULL,
    etapa       TEXT NOT NULL,
    code        TEXT,
    erro        TEXT,
    details     TEXT,
    resultado   TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
  ) STRICT;
  `,
]
