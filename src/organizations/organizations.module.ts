import { Module } from '@nestjs/common';
import { AuthModule } from 'src/auth/auth.module';
import { MembersController } from 'src/organizations/members.controller';
import { MembersRepository } from 'src/organizations/members.repository';
import { MembersService } from 'src/organizations/members.service';
import { OrganizationSettingsController } from 'src/organizations/organization-settings.controller';
import { OrganizationSettingsRepository } from 'src/organizations/organization-settings.repository';
import { OrganizationSettingsService } from 'src/organizations/organization-settings.service';
import { OrganizationsRepository } from 'src/organizations/organizations.repository';

@Module({
  imports: [AuthModule],
  controllers: [MembersController, OrganizationSettingsController],
  providers: [MembersRepository, MembersService, OrganizationSettingsRepository, OrganizationSettingsService, OrganizationsRepository],
  exports: [OrganizationsRepository],
})
export class OrganizationsModule {}
