import { ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { registerPid, unregisterPid } from '../../scripts/stack/pid-registry';

/** A command to a worker: its `type` picks the handler (each worker script types its own). */
export type WorkerMessage = { type: string; [field: string]: unknown };

/**
 * A library user in its own process (a real replica stand-in) that tests can SIGKILL or SIGSTOP.
 * `script` is the worker it runs: the app's (child-worker.ts, the IdWorker) by default; the lock
 * package's tests pass their own (packages/lock/test/support/lock-worker.ts).
 */
export class ChildWorker {
  private constructor(readonly child: ChildProcess) {}

  static async start(script = join(__dirname, 'child-worker.ts')): Promise<ChildWorker> {
    const child = fork(script, [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
    registerPid(child.pid!);
    child.once('exit', () => unregisterPid(child.pid!));
    const worker = new ChildWorker(child);
    await worker.next('ready');
    return worker;
  }

  /** Sends a command and resolves with the next reply of type `expect` (rejects on an `error` reply). */
  async request<T>(command: WorkerMessage, ...expect: string[]): Promise<T> {
    const reply = this.next<T>(...expect);
    this.child.send(command);
    return reply;
  }

  next<T>(...types: string[]): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onMessage = (message: { type: string; message?: string }) => {
        if (types.includes(message.type) || message.type === 'error') {
          this.child.off('message', onMessage);
          this.child.off('exit', onExit);
          if (message.type === 'error') {
            reject(new Error(message.message));
          } else {
            resolve(message as T);
          }
        }
      };
      const onExit = () => reject(new Error('child worker exited'));
      this.child.on('message', onMessage);
      this.child.once('exit', onExit);
    });
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) {
      return;
    }
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGCONT');
    this.child.kill(signal);
    await exited;
  }
}
