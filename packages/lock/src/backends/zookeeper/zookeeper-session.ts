import { setMaxListeners } from 'node:events';
import { LockUnavailableError } from '../../lock.errors';
import { inNeutralContext } from '../../neutral-context';
import { ZooKeeperRequestError, type ZooKeeperError, type ZooKeeperLockClient } from './zookeeper-client';

type Done<T> = (error: ZooKeeperError | null | undefined, result: T) => void;

/**
 * One ZooKeeper client and its session, as the locks see it: connected once, every request timed
 * out, and a conservative view of whether the session still lives. The server expires a session
 * `timeout` after it last heard from the client; the client knows only when its own requests were
 * answered. So the session is *presumed lost* once `timeout − margin` has passed since the sending of
 * the last request that was answered — before the server can have expired it and given a lock to
 * someone else. (node-zookeeper-client pings an idle socket but never notices a server that stops
 * answering; the backend's heartbeat requests are what this view is built on.)
 */
export class ZooKeeperSession {
  /** Aborted when the session is over: expired, presumed lost, or closed. */
  readonly ended = new AbortController();
  private confirmedAt = performance.now();
  private timeoutMs = 0;
  private readonly onExpired = () => this.end('session expired');
  private readonly connected: Promise<void>;

  constructor(
    readonly client: ZooKeeperLockClient,
    private readonly options: { connectTimeoutMs: number; operationTimeoutMs: number },
  ) {
    // Every waiter of the session listens to `ended`.
    setMaxListeners(Infinity, this.ended.signal);
    this.connected = inNeutralContext(
      () =>
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => {
            client.removeListener('connected', onConnected);
            reject(new Error(`no ZooKeeper connection within ${options.connectTimeoutMs} ms`));
          }, options.connectTimeoutMs);
          const onConnected = () => {
            clearTimeout(timer);
            client.removeListener('connected', onConnected);
            this.timeoutMs = client.getSessionTimeout();
            this.confirmedAt = performance.now();
            resolve();
          };
          client.on('expired', this.onExpired);
          client.on('connected', onConnected);
          client.connect();
        }),
    );
    this.connected.catch(() => this.end('connect failed'));
  }

  /** The negotiated session timeout (ms), once connected. */
  get sessionTimeoutMs(): number {
    return this.timeoutMs;
  }

  get isOver(): boolean {
    return this.ended.signal.aborted;
  }

  /** True once the server may have expired the session (see the class comment). */
  get presumedLost(): boolean {
    return performance.now() - this.confirmedAt >= this.timeoutMs - this.marginMs;
  }

  /** How much of the timeout is not trusted: a third (the heartbeat runs every sixth). */
  get marginMs(): number {
    return this.timeoutMs / 3;
  }

  /** One request, failed after the operation timeout; an answer (even an error) confirms the session. */
  async call<T>(name: string, request: (done: Done<T>) => void): Promise<T> {
    await this.connected.catch((error: unknown) => {
      throw new LockUnavailableError(`ZooKeeper unreachable for ${name}`, name, { cause: error });
    });
    if (this.isOver) {
      throw new LockUnavailableError(`ZooKeeper session over; ${name} not reached`, name);
    }
    const sentAt = performance.now();
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new LockUnavailableError(
              `ZooKeeper did not answer for ${name} within ${this.options.operationTimeoutMs} ms`,
              name,
            ),
          ),
        this.options.operationTimeoutMs,
      );
      request((error, result) => {
        clearTimeout(timer);
        if (!this.isOver) {
          this.confirmedAt = Math.max(this.confirmedAt, sentAt);
        }
        if (error) {
          reject(new ZooKeeperRequestError(error));
        } else {
          resolve(result);
        }
      });
    });
  }

  /** Ends the session for good (its client closed: the server drops its ephemeral nodes). */
  end(reason: string): void {
    if (this.isOver) {
      return;
    }
    this.ended.abort(new Error(reason));
    this.client.removeListener('expired', this.onExpired);
    try {
      this.client.close();
    } catch {
      // already closed
    }
  }
}
