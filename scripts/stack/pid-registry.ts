import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { killTree, statFields } from './process-tree';

/**
 * Every server the stack starts is recorded as `<registry>/<pid>` holding the process start
 * time, so a reaper can tell our process from an unrelated one that reused the pid.
 * The registry folder comes from STACK_PID_DIR (set by jest global setup) or defaults to
 * a per-process folder.
 */
const registryDir = (): string | undefined => process.env.STACK_PID_DIR;

const live = new Set<number>();

function startTimeOf(pid: number): string | undefined {
  return statFields(pid)?.[19];
}

export function registerPid(pid: number): void {
  live.add(pid);
  const dir = registryDir();
  if (dir) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, String(pid)), startTimeOf(pid) ?? '');
  }
}

export function unregisterPid(pid: number): void {
  live.delete(pid);
  const dir = registryDir();
  if (dir) {
    rmSync(join(dir, String(pid)), { force: true });
  }
}

/** Kills every recorded process that is still the one we started, with its descendants. */
export function reapRegistered(dir: string): number {
  if (!existsSync(dir)) {
    return 0;
  }
  let reaped = 0;
  for (const entry of readdirSync(dir)) {
    const pid = Number(entry);
    const recorded = readFileSync(join(dir, entry), 'utf8');
    if (Number.isInteger(pid) && recorded !== '' && startTimeOf(pid) === recorded) {
      killTree(pid);
      reaped++;
    }
    rmSync(join(dir, entry), { force: true });
  }
  return reaped;
}

// Last line of defence for this process: whatever it started dies with it.
process.once('exit', () => {
  for (const pid of live) {
    killTree(pid);
  }
});
