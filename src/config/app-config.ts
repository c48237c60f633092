import { ConfigType, registerAs } from '@nestjs/config';
import { validateEnvironment } from './environment';

/** Typed configuration namespace; inject with `@Inject(appConfig.KEY) config: AppConfig`. */
export const appConfig = registerAs('app', () => validateEnvironment(process.env));

export type AppConfig = ConfigType<typeof appConfig>;
