import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsString, Matches } from 'class-validator';
import { ROLES, type Role } from '../auth-user';

export class DevTokenRequest {
  @ApiProperty({ example: '1001', description: 'Positive integer user id, as a string' })
  @IsString()
  @Matches(/^[1-9]\d{0,18}$/, { message: 'userId must be a positive integer string' })
  userId: string;

  @ApiProperty({ enum: ROLES, example: 'user' })
  @IsIn(ROLES)
  role: Role;
}

export class DevTokenResponse {
  @ApiProperty()
  token: string;
}
