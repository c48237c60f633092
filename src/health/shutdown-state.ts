import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';

/** Flips readiness to down as soon as SIGTERM arrives, so load balancers stop sending new work. */
@Injectable()
export class ShutdownState implements BeforeApplicationShutdown {
  private draining = false;

  constructor(private readonly health: HealthIndicatorService) {}

  beforeApplicationShutdown(): void {
    this.draining = true;
  }

  check() {
    const indicator = this.health.check('process');
    return this.draining ? indicator.down({ message: 'draining' }) : indicator.up();
  }
}
