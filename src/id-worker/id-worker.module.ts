import { Module } from '@nestjs/common';
import { ID_SEGMENT_SIZE, SegmentIdWorker } from './id-segment.service';
import { ID_CLOCK, IdWorker } from './id-worker.service';

@Module({
  providers: [
    IdWorker,
    SegmentIdWorker,
    { provide: ID_CLOCK, useValue: () => Date.now() },
    { provide: ID_SEGMENT_SIZE, useValue: 1000 },
  ],
  exports: [IdWorker, SegmentIdWorker],
})
export class IdWorkerModule {}
