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
  /* 4: V8 webhooks (registrations, inbox), callbacks outbox, proposals; flow results and batch items by consult/CPF */ `
  CREATE INDEX flow_results_consult ON flow_results (consult_id);
  CREATE INDEX batch_items_cpf ON batch_items (cpf, status);

  CREATE TABLE tenant_state (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE webhook_registrations (
    kind           TEXT PRIMARY KEY CHECK (kind IN ('consult', 'operation')),
    status         TEXT NOT NULL CHECK (status IN ('registering', 'registered', 'failed')),
    target         TEXT NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    registered_at  INTEGER,
    last_error     TEXT,
    updated_at     INTEGER NOT NULL,
    test_at        INTEGER,
    confirmed_at   INTEGER
  ) STRICT;

  CREATE TABLE webhook_inbox (
    id           TEXT PRIMARY KEY,
    content_id   TEXT NOT NULL,
    type         TEXT NOT NULL,
    ref          TEXT,
    status       TEXT,
    payload      TEXT NOT NULL,
    received_at  INTEGER NOT NULL,
    deliveries   INTEGER NOT NULL DEFAULT 1,
    last_received_at INTEGER,
    state        TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'applied', 'ignored', 'failed')),
    outcome      TEXT,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_try_at  INTEGER NOT NULL,
    applied_at   INTEGER
  ) STRICT;
  CREATE INDEX webhook_inbox_due ON webhook_inbox (state, next_try_at);
  CREATE INDEX webhook_inbox_received ON webhook_inbox (received_at);
  CREATE INDEX webhook_inbox_content ON webhook_inbox (content_id, received_at);

  CREATE TABLE outbox (
    id               TEXT PRIMARY KEY,
    type             TEXT NOT NULL,
    body             TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    state            TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending', 'delivered', 'dead')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    lease_owner      TEXT,
    lease_until      INTEGER,
    last_status      INTEGER,
    last_error       TEXT,
    delivered_at     INTEGER
  ) STRICT;
  CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
  CREATE INDEX outbox_created ON outbox (created_at);

  CREATE TABLE proposals (
    id                 TEXT PRIMARY KEY,
    cpf                TEXT NOT NULL,
    operation_id       TEXT UNIQUE,
    simulation_id      TEXT NOT NULL,
    consult_id         TEXT,
    opportunity_id     TEXT,
    status             TEXT NOT NULL,
    formalization_url  TEXT,
    contract_number    TEXT,
    version            INTEGER NOT NULL DEFAULT 0,
    sent               TEXT NOT NULL,
    history            TEXT NOT NULL DEFAULT '[]',
    error              TEXT,
    kentro_status      TEXT,
    kentro_error       TEXT,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX proposals_cpf ON proposals (cpf, created_at);
  -- One creation at a time per CPF: a second one waits until the first is known (created, refused or looked up).
  CREATE UNIQUE INDEX proposals_one_open_creation ON proposals (cpf) WHERE status IN ('criando', 'indefinida');
  CREATE INDEX proposals_created ON proposals (created_at);
  `,
  /* 5: spreadsheet batches: the file's columns per batch, each row's cells and own input (deleted with the batch) */ `
  ALTER TABLE batches ADD COLUMN sheet TEXT;
  ALTER TABLE batch_items ADD COLUMN input TEXT;
  ALTER TABLE batch_items ADD COLUMN cells TEXT;
  `,
]
