import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsString, ValidateBy } from 'class-validator';
import { isId } from '../../common/parse-id.pipe';
import { ROLES, type Role } from '../auth-user';

export class DevTokenRequest {
  @ApiProperty({ example: '1001', description: 'Positive integer user id up to 2^63−1, as a string' })
  @IsString()
  // The bound tokens are verified against: a token minted here always authenticates.
  @ValidateBy(
    { name: 'isId', validator: { validate: isId } },
    { message: 'userId must be a positive integer string up to 2^63-1' },
  )
  userId: string;

  @ApiProperty({ enum: ROLES, example: 'user' })
  @IsIn(ROLES)
  role: Role;
}

export class DevTokenResponse {
  @ApiProperty()
  token: string;
}
