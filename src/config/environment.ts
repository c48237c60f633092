// Longer than 250 lines on purpose: one validated table of every setting (class Environment), each with
// its documentation; the logic is validateEnvironment at the end.
import { hostname } from 'node:os';
import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateBy,
  ValidateIf,
  getMetadataStorage,
  validateSync,
} from 'class-validator';
import { isAddressOrCidr } from '../rate-limit/client-address';

const toBoolean = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? ['true', '1', 'yes'].includes(value.toLowerCase()) : value;
const toInt = ({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : Number(value));
const toList = ({ value }: { value: unknown }) =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean)
    : value;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const LOCK_MODES = ['redis', 'local'] as const;
/** Stores the app can put `@DistributedLock` / `withLock` locks in (LOCK_BACKEND). */
export const LOCK_BACKENDS = ['redis', 'mysql-table'] as const;
/** An unknown mode fails fast instead of silently running another one. */
export const ORDER_MODES = ['sync', 'async'] as const;
/** How an accepted asynchronous order survives a Redis crash (see `RedisDurabilityCheck`). */
export const ORDER_DURABILITIES = ['aof', 'replicas', 'none'] as const;

/**
 * The process environment, validated once at start-up. Names are a public contract:
 * operators and black-box tests set them.
 */
export class Environment {
  /** HTTP port. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(65535) PORT = 3000;

  /**
   * Internal port for `/metrics` and readiness details: scraped by Prometheus, never proxied by
   * nginx. A fixed default (node_exporter's) rather than one derived from PORT, so manifests can name it.
   */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(65535) METRICS_PORT = 9100;

  /** `mysql://user:pass@host:port/db` */
  @IsString()
  @Matches(/^mysql:\/\/[^/\s]+\/\w+/, { message: 'MYSQL_URL must look like mysql://user:pass@host:port/db' })
  MYSQL_URL: string;

  /** Connections in the MySQL pool of each replica. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(1000) MYSQL_POOL_SIZE = 20;

  /** A request waiting this long for a free pooled connection fails with 503 DATABASE_UNAVAILABLE. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(10) @Max(60_000) MYSQL_POOL_ACQUIRE_TIMEOUT_MS = 5000;

  /** Seconds a MySQL statement waits for a row lock before it fails (session innodb_lock_wait_timeout). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(600) MYSQL_LOCK_WAIT_TIMEOUT_S = 10;

  /**
   * Every statement of the app (TypeORM's query timeout) answers within this or fails with 503
   * DATABASE_UNAVAILABLE: a MySQL that stops answering (paused, cut off without a reset) is never a
   * hang. Keep it above MYSQL_LOCK_WAIT_TIMEOUT_S, so a row-lock wait ends as MySQL's own timeout.
   * Migrations are not bounded.
   */
  @IsOptional() @Transform(toInt) @IsInt() @Min(100) @Max(600_000) MYSQL_QUERY_TIMEOUT_MS = 12_000;

  /** MariaDB: seconds a connection may sit idle inside a transaction before the server ends it (rolled back). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(3600) MYSQL_IDLE_TRANSACTION_TIMEOUT_S = 10;

  /** `redis://host:port` for commands, pub/sub, stock and IDs (not needed with REDIS_CLUSTER_NODES). */
  @ValidateIf(
    (env: Environment) =>
      (env.REDIS_CLUSTER_NODES.length === 0 && env.REDIS_SENTINELS.length === 0) || env.REDIS_URL !== undefined,
  )
  @IsString()
  @Matches(/^rediss?:\/\/\S+$/, { message: 'REDIS_URL must look like redis://host:port' })
  REDIS_URL: string;

  /**
   * Comma-separated seed URLs of a Redis Cluster (`redis://host:port`, a few masters are enough):
   * commands, pub/sub, stock, streams, ids and single-node locks then use the cluster, not REDIS_URL.
   */
  @IsOptional()
  @Transform(toList)
  @Matches(/^rediss?:\/\/[^/\s]+$/, {
    each: true,
    message: 'REDIS_CLUSTER_NODES must be comma-separated redis://host:port URLs',
  })
  REDIS_CLUSTER_NODES: string[] = [];

  /**
   * Comma-separated `redis://host:port` URLs of Redis Sentinels: the app then uses the master they
   * name REDIS_SENTINEL_NAME and follows it through failovers (REDIS_URL, if set, only lends the
   * master's user and password).
   */
  @IsOptional()
  @Transform(toList)
  @Matches(/^rediss?:\/\/[^/\s]+$/, {
    each: true,
    message: 'REDIS_SENTINELS must be comma-separated redis://host:port URLs',
  })
  REDIS_SENTINELS: string[] = [];

  /** The master's name in the sentinels' configuration (`sentinel monitor <name> …`). */
  @IsOptional() @IsString() @Matches(/^[\w.-]+$/) REDIS_SENTINEL_NAME = 'mymaster';

  /**
   * Replica-safe lock grants for every Redis lock (`replicaSync`): a new hold counts once this many
   * replicas of its master confirm it (WAIT), else it is given back (503 LOCK_UNAVAILABLE). 0: off.
   */
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(16) LOCK_REPLICA_SYNC = 0;

  /**
   * How long a replica-safe grant waits for its replicas: below the lock connection's 2 s command
   * timeout (a WAIT holds that connection up), so at most 1,500.
   */
  @IsOptional() @Transform(toInt) @IsInt() @Min(10) @Max(1500) LOCK_REPLICA_SYNC_TIMEOUT_MS = 500;

  /**
   * Comma-separated Redis URLs of independent nodes for MultiLock/RedLock; defaults to REDIS_URL (with
   * REDIS_CLUSTER_NODES and none given: the cluster, as one node).
   */
  @IsOptional()
  @Transform(toList)
  @Matches(/^rediss?:\/\/\S+$/, { each: true, message: 'REDIS_LOCK_NODES must be comma-separated redis:// URLs' })
  REDIS_LOCK_NODES: string[] = [];

  /** Identifies this replica in `X-Instance-Id` and in lock owner ids. */
  @IsOptional() @IsString() @IsNotEmpty() INSTANCE_ID = `${hostname()}-${process.pid}`;

  /** HS256 secret shared by every replica (and by whoever mints tokens). */
  @IsString() @MinLength(32, { message: 'AUTH_JWT_SECRET must be at least 32 characters' }) AUTH_JWT_SECRET: string;

  /**
   * Longest token lifetime accepted, in seconds (`exp − iat`, or `exp − now` without `iat`): a leaked
   * token stops working within this, whatever `exp` its minter chose.
   */
  @IsOptional() @Transform(toInt) @IsInt() @Min(60) @Max(31_536_000) AUTH_MAX_TOKEN_TTL_S = 86_400;

  /** Enables `POST /auth/dev-token` (local, demo, tests only). */
  @IsOptional() @Transform(toBoolean) @IsBoolean() AUTH_DEV_TOKENS = false;

  @IsOptional() @IsIn(LOG_LEVELS) LOG_LEVEL: (typeof LOG_LEVELS)[number] = 'info';

  /** `sync`: the order is written to MySQL within the request. `async`: accepted in Redis (202), persisted by stream consumers. */
  @IsOptional() @IsIn(ORDER_MODES) ORDER_MODE: (typeof ORDER_MODES)[number] = 'sync';

  /**
   * Sync mode: an order transaction still running this long after the request arrived is rolled back
   * before COMMIT (503 ORDER_DEADLINE_EXCEEDED). Keep it below nginx's proxy_read_timeout (30 s), so
   * nginx never answers 504 for an order that commits later.
   */
  @IsOptional() @Transform(toInt) @IsInt() @Min(100) @Max(25_000) ORDER_REQUEST_DEADLINE_MS = 20_000;

  /**
   * Async mode only. `aof`: Redis must run `appendonly yes` + `appendfsync always`; `replicas`: every
   * admission waits for ORDER_DURABILITY_REPLICAS replicas (WAIT); `none`: development only, an accepted
   * order is lost if Redis crashes.
   */
  @IsOptional() @IsIn(ORDER_DURABILITIES) ORDER_DURABILITY: (typeof ORDER_DURABILITIES)[number] = 'aof';

  /** Replicas that must acknowledge each admission when ORDER_DURABILITY=replicas. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(16) ORDER_DURABILITY_REPLICAS = 1;

  /** How long an admission waits for those replicas before answering 503. */
  // At most 1,500: the WAIT holds up the shared connection, whose commands time out after 2 s.
  @IsOptional() @Transform(toInt) @IsInt() @Min(10) @Max(1500) ORDER_DURABILITY_TIMEOUT_MS = 500;

  /** Orders a consumer reads (and persists in one transaction per voucher) at a time. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(2000) ORDER_BATCH_SIZE = 500;

  /**
   * After reading a partial batch, a consumer waits this long before reading again, so entries
   * arriving meanwhile share one transaction (fewer, larger commits; adds at most this much latency).
   */
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(1000) ORDER_BATCH_LINGER_MS = 50;

  /**
   * Admission (both paths): the requests for one voucher that arrive in the same event-loop turn are
   * decided by one script call, up to this many per call (1 = one call per request).
   */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(1000) ORDER_ADMISSION_BATCH_MAX = 64;

  /**
   * Sync mode: how often one replica compares each active sale's Redis stock with MySQL's and repairs
   * it (a missing state at once; a differing stock once MySQL stood still for a whole round — e.g. a
   * unit reserved by a replica that died before its commit).
   */
  @IsOptional() @Transform(toInt) @IsInt() @Min(500) @Max(3_600_000) RECONCILE_INTERVAL_MS = 30_000;

  /** Accepted but not yet persisted orders per sale above which admission answers 503 ORDER_BACKLOG. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(100_000_000) ORDER_MAX_BACKLOG = 200_000;

  /** Entries pending this long (their consumer died or is stuck) are claimed by another replica. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(100) @Max(3_600_000) ORDER_CLAIM_IDLE_MS = 10_000;

  /**
   * NEGATIVE CONTROL ONLY, loses orders: acknowledge stream entries before their transaction commits
   * (what many copies of the seed do). Exists so the crash test can show it catches that.
   */
  @IsOptional() @Transform(toBoolean) @IsBoolean() ORDER_UNSAFE_ACK_BEFORE_COMMIT = false;

  /**
   * Sync: orders of one voucher ready at the same moment share one transaction (group commit), up
   * to this many; `1` = one transaction per order.
   */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(1000) ORDER_SYNC_BATCH_MAX = 64;

  /** Sync: how long the first order of a batch waits for others before its transaction starts. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(100) ORDER_SYNC_BATCH_LINGER_MS = 0;

  /** How long an unpaid order may wait for its payment before the system cancels it (reason EXPIRED). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1000) @Max(604_800_000) ORDER_PAYMENT_TIMEOUT_MS = 900_000;

  /** How often each replica looks for unpaid orders past their deadline: an expiry is late by at most this. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(50) @Max(600_000) ORDER_EXPIRY_SCAN_INTERVAL_MS = 1000;

  /** Orders one expiry transaction cancels (claimed with FOR UPDATE SKIP LOCKED). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(10_000) ORDER_EXPIRY_BATCH_SIZE = 2000;

  /** Whether a refund gives the unit back to a sale that is still running. */
  @IsOptional() @Transform(toBoolean) @IsBoolean() ORDER_REFUND_RETURNS_STOCK = false;

  /** How often each replica relays stock returns a dead replica left in the outbox to Redis. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(50) @Max(600_000) ORDER_RETURN_RELAY_INTERVAL_MS = 1000;

  /**
   * NEGATIVE CONTROL ONLY, loses or repeats returns: gives a cancelled order's unit back to Redis
   * directly, with no outbox row and no record of the order. Exists so the crash test can show it
   * catches that.
   */
  @IsOptional() @Transform(toBoolean) @IsBoolean() ORDER_UNSAFE_RETURN_WITHOUT_OUTBOX = false;

  /** TESTS ONLY: waits this long between a cancellation's COMMIT and its Redis return (a crash window). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(60_000) ORDER_TEST_RETURN_DELAY_MS = 0;

  /**
   * NEGATIVE CONTROL ONLY, answers 404 for orders being committed: an async order lookup reads MySQL,
   * then Redis, and not MySQL again (the read order before issue 21). Exists so the history checker
   * can show it catches that.
   */
  @IsOptional() @Transform(toBoolean) @IsBoolean() ORDER_UNSAFE_LOOKUP_WITHOUT_REREAD = false;

  /**
   * TESTS ONLY: an async order lookup that missed MySQL waits this long before reading Redis (a
   * replica paused between the two reads), so the history checker meets commits in that window.
   */
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(10_000) ORDER_TEST_LOOKUP_PAUSE_MS = 0;

  /**
   * TESTS ONLY: a synchronous batch waits this long between its writes and its COMMIT, holding the
   * stock row, so the fault suite can SIGSTOP or SIGKILL a replica inside an order transaction.
   */
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(10_000) ORDER_TEST_COMMIT_DELAY_MS = 0;

  /** BENCHMARK ONLY: serves `POST /bench/noop/:id` (same auth and id parsing as the sale, no I/O). */
  @IsOptional() @Transform(toBoolean) @IsBoolean() BENCH_NOOP_ROUTE = false;

  /** Failed persistence attempts caused by the entry itself before it is dead-lettered (order FAILED). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(100) ORDER_MAX_ATTEMPTS = 5;

  /** `redis`: distributed lock. `local`: in-process mutex, UNSAFE across replicas (negative control only). */
  @IsOptional() @IsIn(LOCK_MODES) LOCK_MODE: (typeof LOCK_MODES)[number] = 'redis';

  /**
   * Where `@DistributedLock` and `withLock` keep their locks (the per-user order lock among them):
   * `redis`, or `mysql-table` (the lock table `distributed_lock`, created by the migrations, swept
   * every LOCK_TABLE_SWEEP_INTERVAL_MS). The reconciler's and other explicit Redis locks stay on Redis.
   */
  @IsOptional() @IsIn(LOCK_BACKENDS) LOCK_BACKEND: (typeof LOCK_BACKENDS)[number] = 'redis';

  /** How often one sweep deletes expired rows of dead holders from `distributed_lock` (LOCK_BACKEND=mysql-table). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1000) @Max(3_600_000) LOCK_TABLE_SWEEP_INTERVAL_MS = 60_000;

  /** Lease of watchdog-renewed locks, renewed every third of it. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1000) @Max(600_000) LOCK_WATCHDOG_TIMEOUT_MS = 30_000;

  /** How long SIGTERM waits for in-flight requests before the process exits anyway. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(600_000) SHUTDOWN_DRAIN_MS = 10_000;

  /**
   * Order requests (`POST /voucher-order/seckill/:id`) per user, across all replicas: a token bucket
   * of RATE_LIMIT_USER_BURST refilled at this many per second. 0 turns it off.
   */
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(100_000) RATE_LIMIT_USER_PER_SECOND = 5;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(1_000_000) RATE_LIMIT_USER_BURST = 10;

  /**
   * Order requests per client address (nginx's X-Real-IP from a trusted proxy), across all replicas.
   * Off by default (0): many buyers can share one address (NAT, campus, carrier-grade NAT).
   */
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(1_000_000) RATE_LIMIT_IP_PER_SECOND = 0;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(10_000_000) RATE_LIMIT_IP_BURST = 200;

  /**
   * Peers (addresses or CIDRs, comma-separated) whose X-Real-IP header names the client: the proxy
   * in front. Default: loopback only (nginx beside the app); behind a proxy on another host or a
   * container network name its addresses (docker-compose.yml does) — anyone trusted can claim any
   * client address.
   */
  @IsOptional()
  @Transform(toList)
  @ValidateBy(
    {
      name: 'isAddressOrCidr',
      validator: { validate: (value: unknown) => typeof value === 'string' && isAddressOrCidr(value) },
    },
    { each: true, message: 'TRUSTED_PROXIES must be comma-separated IP addresses or CIDRs' },
  )
  TRUSTED_PROXIES: string[] = ['127.0.0.0/8', '::1/128'];

  /** Per-route HTTP series on /metrics (`http_requests_total`, `http_request_duration_seconds`). */
  @IsOptional() @Transform(toBoolean) @IsBoolean() HTTP_METRICS_ENABLED = true;

  /**
   * A connection must deliver its request line and headers within this (Node's `headersTimeout`;
   * a fresh connection that sends nothing counts too): bounds slow-header and idle connections made
   * straight to a replica, which nginx bounds for everything behind it.
   */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1000) @Max(300_000) HTTP_HEADERS_TIMEOUT_MS = 10_000;

  /**
   * A request must arrive whole (headers and body) within this (Node's `requestTimeout`; the handler's
   * own time does not count). At least HTTP_HEADERS_TIMEOUT_MS.
   */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1000) @Max(600_000) HTTP_REQUEST_TIMEOUT_MS = 30_000;

  /**
   * An idle keep-alive connection is closed after this. Above nginx's upstream keepalive_timeout
   * (60 s), so the app never closes a connection nginx is about to reuse (a POST on it would fail as 502).
   */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1000) @Max(600_000) HTTP_KEEP_ALIVE_TIMEOUT_MS = 72_000;

  /** Largest accepted request body. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1024) @Max(1024 * 1024) BODY_LIMIT_BYTES = 16 * 1024;
}

/** Thrown at start-up; the message names every bad key. */
export class InvalidConfigurationError extends Error {
  override readonly name = InvalidConfigurationError.name;
}

export function validateEnvironment(raw: Record<string, unknown>): Environment {
  const known = new Set(
    getMetadataStorage()
      .getTargetValidationMetadatas(Environment, '', true, false)
      .map((metadata) => metadata.propertyName),
  );
  const defined = Object.fromEntries(
    Object.entries(raw).filter(([key, value]) => known.has(key) && value !== undefined && value !== ''),
  );
  const env = plainToInstance(Environment, defined, { exposeDefaultValues: true });
  const errors = validateSync(env, { skipMissingProperties: false, forbidUnknownValues: false });
  if (errors.length > 0) {
    const lines = errors.map((error) => `  ${error.property}: ${Object.values(error.constraints ?? {}).join('; ')}`);
    throw new InvalidConfigurationError(`Invalid configuration, fix these environment variables:\n${lines.join('\n')}`);
  }
  if (env.HTTP_HEADERS_TIMEOUT_MS > env.HTTP_REQUEST_TIMEOUT_MS) {
    throw new InvalidConfigurationError(
      'Invalid configuration: HTTP_HEADERS_TIMEOUT_MS must not exceed HTTP_REQUEST_TIMEOUT_MS (headers are part of the request)',
    );
  }
  if (env.METRICS_PORT === env.PORT) {
    throw new InvalidConfigurationError(
      'Invalid configuration: METRICS_PORT must differ from PORT (metrics stay off the public port)',
    );
  }
  if (env.REDIS_CLUSTER_NODES.length > 0 && env.REDIS_SENTINELS.length > 0) {
    throw new InvalidConfigurationError(
      'Invalid configuration: set REDIS_CLUSTER_NODES or REDIS_SENTINELS, not both (a Redis Cluster fails over by itself)',
    );
  }
  const oneServer = env.REDIS_CLUSTER_NODES.length === 0 && env.REDIS_SENTINELS.length === 0;
  if (!oneServer) {
    // Not needed on a cluster or behind sentinels; kept a string for code that reads it.
    env.REDIS_URL ??= '';
  } else if (env.REDIS_LOCK_NODES.length === 0) {
    // On a cluster or a Sentinel master, MultiLock/RedLock run on it as one node unless
    // REDIS_LOCK_NODES names others (the RedisModule's default).
    env.REDIS_LOCK_NODES = [env.REDIS_URL];
  }
  return env;
}
