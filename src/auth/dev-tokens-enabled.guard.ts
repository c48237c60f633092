import { CanActivate, Inject, Injectable } from '@nestjs/common';
import { appConfig, AppConfig } from '../config/app-config';
import { DevTokensDisabledError } from './auth.errors';

/** Hides the dev-token route entirely (404 before any body validation) unless AUTH_DEV_TOKENS=true. */
@Injectable()
export class DevTokensEnabledGuard implements CanActivate {
  constructor(@Inject(appConfig.KEY) private readonly config: AppConfig) {}

  canActivate(): boolean {
    if (!this.config.AUTH_DEV_TOKENS) {
      throw new DevTokensDisabledError('Cannot POST /auth/dev-token');
    }
    return true;
  }
}
