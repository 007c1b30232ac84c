import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsEmail, IsString, MaxLength } from 'class-validator';
import { UserEntity } from '../../../../libs/persistence/src';
import { IsOptionalNotNull } from '../http/validation';

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
}

export class UserResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() email: string;
  @ApiProperty() isAdmin: boolean;
  @ApiProperty() createdAt: string;

  static from(u: UserEntity): UserResponse {
    return { id: u.id, email: u.email, isAdmin: u.isAdmin, createdAt: u.createdAt.toISOString() };
  }
}

export class CreatedUserResponse extends UserResponse {
  @ApiProperty({ description: 'Shown once; only its hash is stored.' }) apiToken: string;
}

export class UserPage {
  @ApiProperty({ type: [UserResponse] }) items: UserResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}
