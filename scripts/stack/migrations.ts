import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from './app-replica';

const run = promisify(execFile);

/** Runs the compiled migrations (`npm run migration:run`'s command) against `mysqlUrl`. */
export async function runMigrations(mysqlUrl: string): Promise<void> {
  const cli = join(PROJECT_ROOT, 'node_modules/typeorm/cli.js');
  await run(process.execPath, [cli, 'migration:run', '-d', join(PROJECT_ROOT, 'dist/database/data-source.js')], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, MYSQL_URL: mysqlUrl },
  });
}
