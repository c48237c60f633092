import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NginxServer } from '../../scripts/stack/nginx';
import { descendantsOf, killTree, statFields } from '../../scripts/stack/process-tree';

/** Alive = has a /proc entry that is not a zombie (an orphan's zombie waits for init to reap it). */
function alive(pid: number): boolean {
  const state = statFields(pid)?.[0];
  return state !== undefined && state !== 'Z';
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) {
      return false;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

/** The launcher's SIGKILL paths (a stop that timed out, teardown's reaper) take a server's children along. */
describe('process tree kills (launcher)', () => {
  const root = mkdtempSync(join(tmpdir(), 'process-tree-'));
  const orphans: number[] = [];
  afterAll(() => orphans.forEach((pid) => killTree(pid)));

  /** An nginx with its master's pid and its workers' (remembered, so none outlives the test). */
  async function nginxWithWorkers(name: string) {
    const nginx = await NginxServer.start(join(root, name), [1]);
    const master = nginx.process.pid!;
    const workers = descendantsOf(master);
    orphans.push(...workers);
    expect(workers.length).toBeGreaterThan(0);
    return { nginx, master, workers };
  }

  it('a SIGKILLed nginx master leaves its workers running (why the launcher kills the tree)', async () => {
    const { master, workers } = await nginxWithWorkers('plain');
    process.kill(master, 'SIGKILL');
    expect(await until(() => !alive(master))).toBe(true);
    expect(workers.filter(alive)).toEqual(workers);
  });

  it('ManagedProcess.kill ends the master and every worker', async () => {
    const { nginx, master, workers } = await nginxWithWorkers('tree');
    await nginx.process.kill();
    expect(await until(() => [master, ...workers].every((pid) => !alive(pid)))).toBe(true);
  });
});
