/** The users of the test configuration, one per role. */
export const TEST_USERS = [
  { name: 'alice', token: 'test-alice-token', roles: ['admin'], groups: ['release-managers'] },
  { name: 'bob', token: 'test-bob-token', roles: ['operator'], groups: ['release-managers'] },
  { name: 'carol', token: 'test-carol-token', roles: ['viewer'], groups: [] },
  { name: 'dave', token: 'test-dave-token', roles: ['viewer'], groups: ['approvers'] },
] as const;

export type TestUser = (typeof TEST_USERS)[number]['name'];

export function tokenOf(user: TestUser): string {
  return TEST_USERS.find((u) => u.name === user)!.token;
}
