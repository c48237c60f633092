import { readdirSync, readFileSync } from 'node:fs';

/** The parent of every live process, from /proc (one read of each `/proc/<pid>/stat`). */
function parents(): Map<number, number> {
  const result = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) {
      continue;
    }
    try {
      // The command name may hold spaces and ')': fields are counted after its last ')'.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      result.set(pid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
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
