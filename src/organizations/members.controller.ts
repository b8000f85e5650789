import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Patch, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { AuthContext } from 'src/auth/auth-context';
import { Auth, Authorized } from 'src/auth/authorized.decorator';
import { Permission } from 'src/auth/permissions';
import { Endpoint } from 'src/common/http/endpoint.decorator';
import { OrganizationParams } from 'src/common/http/path-params.dto';
import { problem, ProblemCode } from 'src/common/problem/problem';
import { ProblemDoc } from 'src/common/problem/problem-docs';
import { AddMemberDto, ChangeRoleDto, MemberParams } from 'src/organizations/dto/member.dto';
import { MemberListResponse, MemberResponse } from 'src/organizations/dto/member.response';
import { MEMBER_EXAMPLE, MEMBERS_EXAMPLE } from 'src/organizations/dto/organizations.examples';
import { MembersService } from 'src/organizations/members.service';

const MEMBER_NOT_FOUND: ProblemDoc = {
  status: 404,
  description: 'No member with this user id in this organization.',
  example: problem(ProblemCode.NotFound, 404, 'No member with this user id in this organization'),
};

const LAST_OWNER: ProblemDoc = {
  status: 409,
  description: 'The change would leave the organization without an owner.',
  example: problem(ProblemCode.Conflict, 409, 'The organization needs at least one owner: make another member owner first'),
};

@ApiTags('members')
@Controller('organizations/:organizationId/members')
export class MembersController {
  constructor(private readonly members: MembersService) {}

  @Get()
  @Authorized(Permission.OrgManage)
  @Endpoint({
    operationId: 'listMembers',
    summary: 'List members',
    description: 'The members of the organization, with their roles and permissions.',
    response: { description: 'The members.', type: MemberListResponse, example: MEMBERS_EXAMPLE },
  })
  listMembers(@Auth() auth: AuthContext, @Param() _p: OrganizationParams): Promise<MemberListResponse> {
    return this.members.list(auth);
  }

  @Post()
  @Authorized(Permission.OrgManage)
  @Endpoint({
    operationId: 'addMember',
    summary: 'Add a member',
    description: 'Adds a person, by email, with a role; a user is created for an email not seen before.',
    response: { status: 201, description: 'The new member.', type: MemberResponse, example: MEMBER_EXAMPLE },
    problems: [
      {
        status: 409,
        description: 'The person is already a member.',
        example: problem(ProblemCode.Conflict, 409, 'This person is already a member; change the role with PATCH'),
      },
    ],
  })
  addMember(@Auth() auth: AuthContext, @Param() _p: OrganizationParams, @Body() dto: AddMemberDto): Promise<MemberResponse> {
    return this.members.add(auth, dto);
  }

  @Patch(':userId')
  @Authorized(Permission.OrgManage)
  @Endpoint({
    operationId: 'changeMemberRole',
    summary: "Change a member's role",
    description: 'Changes the role of a member; it takes effect within AUTH_CACHE_SECONDS.',
    response: { description: 'The member with the new role.', type: MemberResponse, example: MEMBER_EXAMPLE },
    problems: [MEMBER_NOT_FOUND, LAST_OWNER],
  })
  changeMemberRole(@Auth() auth: AuthContext, @Param() p: MemberParams, @Body() dto: ChangeRoleDto): Promise<MemberResponse> {
    return this.members.changeRole(auth, p.userId, dto.role);
  }

  @Delete(':userId')
  @Authorized(Permission.OrgManage)
  @HttpCode(HttpStatus.NO_CONTENT)
  @Endpoint({
    operationId: 'removeMember',
    summary: 'Remove a member',
    description: "Removes a member from the organization; the person's access stops within AUTH_CACHE_SECONDS.",
    response: { status: 204, description: 'Removed.' },
    problems: [MEMBER_NOT_FOUND, LAST_OWNER],
  })
  removeMember(@Auth() auth: AuthContext, @Param() p: MemberParams): Promise<void> {
    return this.members.remove(auth, p.userId);
  }
}
