import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';

/** Flips readiness to down as soon as SIGTERM arrives, so load balancers stop sending new work. */
@Injectable()
export class ShutdownState implements BeforeApplicationShutdown {
  private isDraining = false;

  constructor(private readonly health: HealthIndicatorService) {}

  /** True from SIGTERM on: readiness is down and responses close their connections. */
  get draining(): boolean {
    return this.isDraining;
  }

  beforeApplicationShutdown(): void {
    this.isDraining = true;
  }

  check() {
    const indicator = this.health.check('process');
    return this.isDraining ? indicator.down({ message: 'draining' }) : indicator.up();
  }
}
