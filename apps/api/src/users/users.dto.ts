import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsEmail, IsInt, IsString, Max, MaxLength, Min, ValidateIf } from 'class-validator';
import { MAX_DEPLOYMENTS_LIMIT, UserWithUsage } from '../../../../libs/domain/src';
import { IsOptionalNotNull } from '../http/validation';

/** A limit that may be left out, or null for "the configured default". */
const MaxDeployments = (): PropertyDecorator => {
  const decorators = [
    ValidateIf((_o, v) => v !== undefined && v !== null),
    IsInt({ message: 'maxDeployments must be an integer or null' }),
    Min(0),
    Max(MAX_DEPLOYMENTS_LIMIT),
    ApiPropertyOptional({
      type: Number,
      nullable: true,
      minimum: 0,
      maximum: MAX_DEPLOYMENTS_LIMIT,
      description: 'Live (not deleted) deployments the user may own; null: the configured default (CAELUS_MAX_DEPLOYMENTS_PER_USER)',
    }),
  ];
  return (target, key) => decorators.forEach((d) => d(target, key));
};

export class CreateUserDto {
  @ApiProperty({ example: 'ada@example.com', maxLength: 254 })
  @IsString()
  @MaxLength(254)
  @IsEmail({}, { message: 'email must be a valid e-mail address' })
  email: string;

  @ApiPropertyOptional({ default: false })
  @IsOptionalNotNull()
  @IsBoolean()
  isAdmin?: boolean;

  @MaxDeployments()
  maxDeployments?: number | null;
}

export class UpdateUserDto {
  @MaxDeployments()
  maxDeployments?: number | null;
}

export class UserResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() email: string;
  @ApiProperty() isAdmin: boolean;
  @ApiProperty({ type: Number, nullable: true, description: "The user's own deployment limit; null when the configured default applies" }) maxDeployments: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'The limit that applies (own or default); null: no limit' }) deploymentLimit: number | null;
  @ApiProperty({ description: 'Live (not deleted) deployments the user owns, deleting ones included' }) liveDeployments: number;
  @ApiProperty() createdAt: string;

  static from({ user: u, liveDeployments, deploymentLimit }: UserWithUsage): UserResponse {
    return { id: u.id, email: u.email, isAdmin: u.isAdmin, maxDeployments: u.maxDeployments, deploymentLimit, liveDeployments, createdAt: u.createdAt.toISOString() };
  }
}

export class CreatedUserResponse extends UserResponse {
  @ApiProperty({ description: 'Shown once; only its hash is stored.' }) apiToken: string;
}

export class UserPage {
  @ApiProperty({ type: [UserResponse] }) items: UserResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}
