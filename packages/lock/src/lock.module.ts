import { DynamicModule, FactoryProvider, Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { LocalLockService } from './local-lock.service';
import { LockService, type LockServiceOptions } from './lock.service';
import { LOCK_EXECUTOR } from './lock.tokens';

/** Options of `LockModule.forRootAsync`. */
export interface LockModuleOptions extends Omit<LockServiceOptions, 'logger'> {
  /** `redis` (default): `@DistributedLock` uses the LockService. `local`: an in-process mutex, unsafe across replicas. */
  mode?: 'redis' | 'local';
}

const LOCK_MODULE_OPTIONS = Symbol('LOCK_MODULE_OPTIONS');

/** Provides `LockService` and the executor behind `@DistributedLock`. Imports nothing from the app. */
@Global()
@Module({})
export class LockModule implements OnApplicationShutdown {
  constructor(@Inject(LockService) private readonly locks: LockService) {}

  static forRootAsync(options: {
    imports?: DynamicModule['imports'];
    inject?: FactoryProvider['inject'];
    useFactory: (...args: never[]) => LockModuleOptions | Promise<LockModuleOptions>;
  }): DynamicModule {
    return {
      module: LockModule,
      imports: options.imports ?? [],
      providers: [
        { provide: LOCK_MODULE_OPTIONS, inject: options.inject ?? [], useFactory: options.useFactory },
        {
          provide: LockService,
          inject: [LOCK_MODULE_OPTIONS],
          useFactory: ({ mode: _mode, ...serviceOptions }: LockModuleOptions) =>
            new LockService({ ...serviceOptions, logger: new Logger(LockService.name) }),
        },
        {
          provide: LOCK_EXECUTOR,
          inject: [LOCK_MODULE_OPTIONS, LockService],
          useFactory: (moduleOptions: LockModuleOptions, locks: LockService) =>
            moduleOptions.mode === 'local' ? new LocalLockService() : locks,
        },
      ],
      exports: [LockService, LOCK_EXECUTOR],
    };
  }

  onApplicationShutdown(): void {
    this.locks.close();
  }
}
