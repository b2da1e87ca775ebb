import type { Db } from "./db.ts";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * Versioned, append-only. A released migration is never edited: add a new one.
 * The same SQL runs on PGlite and PostgreSQL.
 */
export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: "initial schema",
    sql: `
CREATE TABLE charge_points (
  cp_id text PRIMARY KEY,
  status text NOT NULL DEFAULT 'available'
    CHECK (status IN ('available', 'reserved', 'charging', 'faulted', 'unavailable')),
  online boolean NOT NULL DEFAULT false,
  last_seen_at timestamptz,
  presence_at timestamptz,
  gateway_id text,
  reported_status text,
  reported_at timestamptz,
  vendor text,
  model text,
  firmware text,
  fault_code text,
  fault_message text,
  secret_hash text NOT NULL,
  created_at timestamptz NOT NULL
);

CREATE TABLE drivers (
  driver_id text PRIMARY KEY,
  name text NOT NULL,
  created_at timestamptz NOT NULL
);

CREATE TABLE reservations (
  reservation_id text PRIMARY KEY,
  cp_id text NOT NULL REFERENCES charge_points (cp_id),
  driver_id text NOT NULL REFERENCES drivers (driver_id),
  status text NOT NULL
    CHECK (status IN ('reserved', 'charging', 'completed', 'expired', 'cancelled')),
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  started_at timestamptz,
  ended_at timestamptz,
  end_reason text
);
-- The database, not only the application, guarantees one live reservation per charge point.
CREATE UNIQUE INDEX reservations_one_live_per_cp ON reservations (cp_id)
  WHERE status IN ('reserved', 'charging');
CREATE INDEX reservations_due ON reservations (expires_at) WHERE status = 'reserved';
CREATE INDEX reservations_by_driver ON reservations (driver_id, created_at);

CREATE TABLE sessions (
  session_id text PRIMARY KEY,
  reservation_id text NOT NULL UNIQUE REFERENCES reservations (reservation_id),
  cp_id text NOT NULL,
  driver_id text NOT NULL,
  meter_start_wh double precision NOT NULL,
  meter_last_wh double precision,
  meter_at timestamptz,
  power_w double precision,
  meter_stop_wh double precision,
  energy_wh double precision,
  started_at timestamptz NOT NULL,
  stopped_at timestamptz,
  stop_reason text,
  late boolean NOT NULL DEFAULT false
);
CREATE INDEX sessions_by_driver ON sessions (driver_id, started_at);

CREATE TABLE processed_messages (
  cp_id text NOT NULL,
  message_id text NOT NULL,
  type text NOT NULL,
  processed_at timestamptz NOT NULL,
  PRIMARY KEY (cp_id, message_id)
);

CREATE TABLE commands (
  seq bigint GENERATED ALWAYS AS IDENTITY,
  command_id text PRIMARY KEY,
  cp_id text NOT NULL,
  type text NOT NULL,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  published_at timestamptz,
  claimed_until timestamptz,
  status text NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'accepted', 'rejected', 'expired')),
  result_reason text,
  result_at timestamptz
);
CREATE INDEX commands_unpublished ON commands (seq) WHERE published_at IS NULL;

CREATE TABLE settings (
  key text PRIMARY KEY,
  value text NOT NULL
);
`,
  },
  {
    version: 2,
    name: "reconciliation conflicts on charge points",
    sql: `
ALTER TABLE charge_points ADD COLUMN conflict_kind text;
ALTER TABLE charge_points ADD COLUMN conflict_detail text;
ALTER TABLE charge_points ADD COLUMN conflict_at timestamptz;
`,
  },
  {
    version: 3,
    name: "per-charger lookup of unpublished commands",
    sql: `
CREATE INDEX commands_unpublished_by_cp ON commands (cp_id, seq) WHERE published_at IS NULL;
`,
  },
  {
    version: 4,
    name: "driver token generations (revocation)",
    sql: `
ALTER TABLE drivers ADD COLUMN token_generation integer NOT NULL DEFAULT 0;
`,
  },
  {
    version: 5,
    name: "charger credentials can be revoked (no secret hash)",
    sql: `
ALTER TABLE charge_points ALTER COLUMN secret_hash DROP NOT NULL;
`,
  },
  {
    version: 6,
    name: "outbox claims name their holder (short renewed leases)",
    sql: `
ALTER TABLE commands ADD COLUMN claimed_by text;
`,
  },
  {
    version: 7,
    name: "retention: indexes for pruning old message ids and finished commands",
    sql: `
-- IF NOT EXISTS: on a big table an operator may build them first with CREATE INDEX CONCURRENTLY.
CREATE INDEX IF NOT EXISTS processed_messages_by_time ON processed_messages (processed_at);
-- The prune's own order: the last thing that happened to a published command.
CREATE INDEX IF NOT EXISTS commands_finished ON commands ((coalesce(result_at, published_at))) WHERE published_at IS NOT NULL;
`,
  },
  {
    version: 11,
    name: "live stream: change log written by triggers, gateway health",
    sql: `
-- One row per change to a charge point, reservation or session, written by the triggers below in
-- the same transaction as the change, so the stream cannot miss a writer. The bigserial id is the
-- SSE event id: any instance can resume a client from it (docs/protocol.md#live-stream).
CREATE TABLE stream_changes (
  id bigserial PRIMARY KEY,
  kind text NOT NULL,
  entity_id text NOT NULL,
  driver_id text,
  row_data jsonb NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stream_changes_by_time ON stream_changes (at);

-- The credential hash never enters the log: the stream only needs to know whether there is one.
CREATE FUNCTION stream_log_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  data jsonb := to_jsonb(NEW);
BEGIN
  -- An UPDATE that changed nothing (a repeated presence report, say) is no change to stream.
  IF TG_OP = 'UPDATE' AND OLD IS NOT DISTINCT FROM NEW THEN
    RETURN NULL;
  END IF;
  -- Nor is a charge point's last_seen_at alone: every heartbeat and meter value moves it, and a
  -- log row per charger message would cost the event path more than the rest of its writes. The
  -- new value rides along with the charge point's next change, and snapshots carry it.
  IF TG_TABLE_NAME = 'charge_points' AND TG_OP = 'UPDATE' AND (to_jsonb(OLD) - 'last_seen_at') = (to_jsonb(NEW) - 'last_seen_at') THEN
    RETURN NULL;
  END IF;
  IF TG_TABLE_NAME = 'charge_points' THEN
    data := (data - 'secret_hash') || jsonb_build_object('secret_hash', CASE WHEN NEW.secret_hash IS NULL THEN NULL ELSE 'set' END);
    INSERT INTO stream_changes (kind, entity_id, driver_id, row_data) VALUES ('charge_point', data->>'cp_id', NULL, data);
  ELSIF TG_TABLE_NAME = 'reservations' THEN
    INSERT INTO stream_changes (kind, entity_id, driver_id, row_data) VALUES ('reservation', data->>'reservation_id', data->>'driver_id', data);
  ELSIF TG_TABLE_NAME = 'sessions' THEN
    INSERT INTO stream_changes (kind, entity_id, driver_id, row_data) VALUES ('session', data->>'session_id', data->>'driver_id', data);
  ELSE
    INSERT INTO stream_changes (kind, entity_id, driver_id, row_data) VALUES ('gateway', data->>'gateway_id', NULL, data);
  END IF;
  -- A constant payload: PostgreSQL folds a transaction's identical notifications into one.
  PERFORM pg_notify('chargebridge_stream', '');
  RETURN NULL;
END
$$;

CREATE TRIGGER charge_points_stream AFTER INSERT OR UPDATE ON charge_points
  FOR EACH ROW EXECUTE FUNCTION stream_log_change();
CREATE TRIGGER reservations_stream AFTER INSERT OR UPDATE ON reservations
  FOR EACH ROW EXECUTE FUNCTION stream_log_change();
CREATE TRIGGER sessions_stream AFTER INSERT OR UPDATE ON sessions
  FOR EACH ROW EXECUTE FUNCTION stream_log_change();

-- The last health record of each gateway (gateway/health-publisher.ts), upserted by Central.
CREATE TABLE gateway_health (
  gateway_id text PRIMARY KEY,
  record jsonb NOT NULL,
  at timestamptz NOT NULL,
  received_at timestamptz NOT NULL
);
CREATE TRIGGER gateway_health_stream AFTER INSERT OR UPDATE ON gateway_health
  FOR EACH ROW EXECUTE FUNCTION stream_log_change();
`,
  },
  {
    version: 12,
    name: "gateway tokens: a generation per gateway, for the health side channel",
    sql: `
-- The generation a gateway's token must carry (central/api/auth.ts); the next one revokes the rest.
CREATE TABLE gateway_tokens (
  gateway_id text PRIMARY KEY,
  token_generation integer NOT NULL
);
`,
  },
  {
    version: 13,
    name: "charge points: transport and connector (box, connector id) as the gateway reports them",
    sql: `
-- Null until the charger's first boot or status after this migration; the board shows "—".
ALTER TABLE charge_points ADD COLUMN transport text;
ALTER TABLE charge_points ADD COLUMN charge_box text;
ALTER TABLE charge_points ADD COLUMN connector_id integer;
`,
  },
];

/** A fixed key for the advisory lock that lets exactly one instance migrate at a time. */
const MIGRATION_LOCK = 4_242_001;

/** Applies pending migrations in order, each in its own transaction; safe to run from many instances. */
export async function migrate(db: Db, migrations: Migration[] = MIGRATIONS): Promise<number[]> {
  await db.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  const applied: number[] = [];
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    const done = await db.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
      const rows = await tx.query("SELECT 1 FROM schema_migrations WHERE version = $1", [m.version]);
      if (rows.length > 0) return false;
      for (const statement of splitStatements(m.sql)) await tx.query(statement);
      await tx.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [m.version, m.name]);
      return true;
    });
    if (done) applied.push(m.version);
  }
  return applied;
}

/**
 * Extended-protocol queries take one statement each; migrations are plain DDL without `;` in
 * strings, except inside `$$ … $$` function bodies, which are kept whole.
 */
function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let current = "";
  sql.split("$$").forEach((part, i) => {
    if (i % 2 === 1) return void (current += `$$${part}$$`);
    const pieces = part.split(/;\s*(?:\n|$)/);
    current += pieces[0];
    for (const piece of pieces.slice(1)) {
      statements.push(current);
      current = piece;
    }
  });
  statements.push(current);
  return statements.map((s) => s.replace(/^\s*--.*$/gm, "").trim()).filter(Boolean);
}
