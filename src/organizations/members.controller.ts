import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Patch, Post } from '@nestjs/common';
import { ApiConflictResponse, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthContext } from 'src/auth/auth-context';
import { Auth, Authorized } from 'src/auth/authorized.decorator';
import { Permission } from 'src/auth/permissions';
import { AddMemberDto, ChangeRoleDto, MemberPathParams, OrganizationPathParams } from 'src/organizations/dto/member.dto';
import { MemberListResponse, MemberResponse } from 'src/organizations/dto/member.response';
import { MembersService } from 'src/organizations/members.service';

@ApiTags('members')
@Controller('organizations/:organizationId/members')
export class MembersController {
  constructor(private readonly members: MembersService) {}

  @Get()
  @Authorized(Permission.OrgManage)
  @ApiOperation({ summary: 'Members of the organization, with their roles and permissions' })
  list(@Auth() auth: AuthContext, @Param() _p: OrganizationPathParams): Promise<MemberListResponse> {
    return this.members.list(auth);
  }

  @Post()
  @Authorized(Permission.OrgManage)
  @ApiOperation({ summary: 'Add a person (by email) with a role' })
  @ApiConflictResponse({ description: 'Already a member' })
  add(@Auth() auth: AuthContext, @Param() _p: OrganizationPathParams, @Body() dto: AddMemberDto): Promise<MemberResponse> {
    return this.members.add(auth, dto);
  }

  @Patch(':userId')
  @Authorized(Permission.OrgManage)
  @ApiOperation({ summary: "Change a member's role (takes effect within AUTH_CACHE_SECONDS)" })
  @ApiConflictResponse({ description: 'Would leave the organization without an owner' })
  changeRole(@Auth() auth: AuthContext, @Param() p: MemberPathParams, @Body() dto: ChangeRoleDto): Promise<MemberResponse> {
    return this.members.changeRole(auth, p.userId, dto.role);
  }

  @Delete(':userId')
  @Authorized(Permission.OrgManage)
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Remove a member (access stops within AUTH_CACHE_SECONDS)' })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiConflictResponse({ description: 'Would leave the organization without an owner' })
  remove(@Auth() auth: AuthContext, @Param() p: MemberPathParams): Promise<void> {
    return this.members.remove(auth, p.userId);
  }
}
