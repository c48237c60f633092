import { readdirSync, readFileSync } from 'node:fs';

/**
 * The fields of `/proc/<pid>/stat` after the command name (index 0 is the state, 1 the parent, 11–14
 * utime, stime, cutime, cstime, 19 the start time), or undefined once the process is gone. The name
 * may hold spaces and ')', so fields are counted after its last ')'.
 */
export function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** The parent of every live process, from /proc. */
function parents(): Map<number, number> {
  const result = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    const fields = Number.isInteger(pid) ? statFields(pid) : undefined;
    if (fields) {
      result.set(pid, Number(fields[1]));
    }
  }
  return result;
}

/** Every live descendant of `pid` (children, their children, …). */
export function descendantsOf(pid: number): number[] {
  const parentOf = parents();
  const tree = new Set([pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [child, parent] of parentOf) {
      if (tree.has(parent) && !tree.has(child)) {
        tree.add(child);
        grew = true;
      }
    }
  }
  tree.delete(pid);
  return [...tree];
}

/**
 * SIGKILL to a process and to every descendant, found before the kill (afterwards they belong to
 * init): a SIGKILLed nginx master leaves its workers serving, a process group kill would also hit
 * whoever shares the group (the test runner). SIGCONT first, so a paused process dies too.
 */
export function killTree(pid: number): void {
  for (const target of [pid, ...descendantsOf(pid)]) {
    try {
      process.kill(target, 'SIGCONT');
      process.kill(target, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
