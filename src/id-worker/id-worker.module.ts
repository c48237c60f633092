import { Module } from '@nestjs/common';
import { ID_CLOCK, IdWorker } from './id-worker.service';

@Module({
  providers: [IdWorker, { provide: ID_CLOCK, useValue: () => Date.now() }],
  exports: [IdWorker],
})
export class IdWorkerModule {}
