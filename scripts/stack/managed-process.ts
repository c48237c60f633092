import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { registerPid, unregisterPid } from './pid-registry';
import { killTree } from './process-tree';

/** Options for a child process owned by the local stack. */
export interface ManagedProcessOptions {
  /** Short name used in errors and logs, e.g. `redis-1`. */
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** File receiving the child's stdout and stderr. */
  logFile: string;
  /** Resolves true once the process serves requests. Polled until `readyTimeoutMs`. */
  ready: () => Promise<boolean>;
  readyTimeoutMs?: number;
  /** Signal used by `stop()`; SIGTERM by default. */
  stopSignal?: NodeJS.Signals;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A server process started by the stack, with the fault-injection handles tests need
 * (kill, pause, resume, restart). The pid is recorded so a global teardown can reap it
 * even when the test that started it crashed.
 */
export class ManagedProcess {
  private child?: ChildProcess;
  private exited?: Promise<void>;

  constructor(private readonly options: ManagedProcessOptions) {}

  /** Where the process's stdout and stderr go. */
  get logFile(): string {
    return this.options.logFile;
  }

  get name(): string {
    return this.options.name;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.running) {
      return;
    }
    const { command, args, env, cwd, logFile, name } = this.options;
    const out = openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(command, args, { cwd, env: env ?? process.env, stdio: ['ignore', out, out] });
    } finally {
      closeSync(out);
    }
    this.child = child;
    const pid = child.pid;
    if (pid !== undefined) {
      registerPid(pid);
    }
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        if (pid !== undefined) {
          unregisterPid(pid);
        }
        resolve();
      });
      child.once('error', () => resolve());
    });
    const deadline = Date.now() + (this.options.readyTimeoutMs ?? 30_000);
    while (Date.now() < deadline) {
      if (!this.running) {
        throw new Error(`${name} exited during start-up; last log lines:\n${this.tail()}`);
      }
      if (await this.options.ready().catch(() => false)) {
        return;
      }
      await sleep(50);
    }
    await this.kill();
    throw new Error(`${name} was not ready in time; last log lines:\n${this.tail()}`);
  }

  /** Graceful stop; escalates to SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (!this.running || !this.child) {
      return;
    }
    this.child.kill('SIGCONT');
    this.child.kill(this.options.stopSignal ?? 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.exited!.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      await this.kill();
    }
  }

  async kill(): Promise<void> {
    if (!this.running || !this.child) {
      return;
    }
    // With its descendants: nginx's workers outlive a SIGKILLed master.
    if (this.child.pid !== undefined) {
      killTree(this.child.pid);
    } else {
      this.child.kill('SIGKILL');
    }
    await this.exited;
  }

  /** SIGSTOP: the process keeps its sockets but answers nothing, like a long GC pause. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Resolves when the process exits on its own (or was stopped). */
  waitForExit(): Promise<void> {
    return this.exited ?? Promise.resolve();
  }

  /** How the last run ended: an exit code or the signal that ended it. */
  exitStatus(): { code: number | null; signal: NodeJS.Signals | null } {
    return { code: this.child?.exitCode ?? null, signal: this.child?.signalCode ?? null };
  }

  tail(lines = 30): string {
    try {
      return readFileSync(this.options.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}
