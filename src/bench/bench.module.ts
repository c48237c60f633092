import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { BenchNoopRoute } from './bench-noop.route';

/** What the benchmarks need from the app (only `BENCH_NOOP_ROUTE`); nothing here serves users. */
@Module({ imports: [AuthModule], providers: [BenchNoopRoute] })
export class BenchModule {}
