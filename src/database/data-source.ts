import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from './typeorm-options';

// Used by the TypeORM CLI (`npm run migration:run`); the app builds its own from the validated config.
const url = process.env.MYSQL_URL;
if (!url) {
  throw new Error('MYSQL_URL is not set (mysql://user:pass@host:port/db)');
}

export default new DataSource(buildDataSourceOptions(url, 2));
