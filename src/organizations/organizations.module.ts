import { Module } from '@nestjs/common';
import { AuthModule } from 'src/auth/auth.module';
import { MembersController } from 'src/organizations/members.controller';
import { MembersRepository } from 'src/organizations/members.repository';
import { MembersService } from 'src/organizations/members.service';

@Module({
  imports: [AuthModule],
  controllers: [MembersController],
  providers: [MembersRepository, MembersService],
})
export class OrganizationsModule {}
