/** The users of the test configuration, one per role. */
export const TEST_USERS = [
  { name: 'alice', token: 'test-alice-token', roles: ['admin'], groups: ['release-managers'], slack: 'U0ALICE' },
  { name: 'bob', token: 'test-bob-token', roles: ['operator'], groups: ['release-managers'], slack: 'U0BOB' },
  { name: 'carol', token: 'test-carol-token', roles: ['viewer'], groups: [], slack: 'U0CAROL' },
  { name: 'dave', token: 'test-dave-token', roles: ['viewer'], groups: ['approvers'], slack: 'U0DAVE' },
] as const;

/** The Talkback commands of the test configuration. */
export const TEST_TALKBACK = [
  {
    name: 'checkup',
    run: 'echo "checkup of $PASO_EXECUTION_ID for $PASO_TALKBACK_BY: $GREETING"',
    allowed: { users: ['bob'], groups: [] },
  },
];

export const TEST_SLACK_SIGNING_SECRET = 'test-signing-secret-0123456789';

export type TestUser = (typeof TEST_USERS)[number]['name'];

export function tokenOf(user: TestUser): string {
  return TEST_USERS.find((u) => u.name === user)!.token;
}
