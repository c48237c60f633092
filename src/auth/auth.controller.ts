import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from './auth.decorators';
import { AuthService } from './auth.service';
import { DevTokensEnabledGuard } from './dev-tokens-enabled.guard';
import { DevTokenRequest, DevTokenResponse } from './dto/dev-token.dto';
import { ApiErrors } from '../common/errors/api-errors.decorator';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @UseGuards(DevTokensEnabledGuard)
  @Post('dev-token')
  @HttpCode(201)
  @ApiOperation({ summary: 'Mint a token for any user (only when AUTH_DEV_TOKENS=true; 404 otherwise)' })
  @ApiErrors('VALIDATION_FAILED', 'INVALID_JSON', 'NOT_FOUND')
  devToken(@Body() body: DevTokenRequest): DevTokenResponse {
    return { token: this.auth.sign({ id: body.userId, role: body.role }) };
  }
}
