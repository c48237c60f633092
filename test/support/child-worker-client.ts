import { ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { registerPid, unregisterPid } from '../../scripts/stack/pid-registry';
import type { WorkerCommand } from './child-worker';

/** A library user in its own process (a real replica stand-in) that tests can SIGKILL or SIGSTOP. */
export class ChildWorker {
  private constructor(readonly child: ChildProcess) {}

  static async start(): Promise<ChildWorker> {
    // tsx takes its tsconfig from the working directory, which is packages/lock when the lock package's
    // tests start this worker: name the repository's, whose decorators and paths the worker needs.
    const child = fork(join(__dirname, 'child-worker.ts'), [], {
      execArgv: ['--import', 'tsx'],
      stdio: 'inherit',
      env: { ...process.env, TSX_TSCONFIG_PATH: join(__dirname, '..', '..', 'tsconfig.json') },
    });
    registerPid(child.pid!);
    child.once('exit', () => unregisterPid(child.pid!));
    const worker = new ChildWorker(child);
    await worker.next('ready');
    return worker;
  }

  /** Sends a command and resolves with the next reply of type `expect` (rejects on an `error` reply). */
  async request<T>(command: WorkerCommand, ...expect: string[]): Promise<T> {
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
