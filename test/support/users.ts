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
  {
    name: 'whoami',
    run: 'echo "deploying as $DEPLOY_TOKEN"',
    allowed: { users: ['bob'], groups: [] },
    secrets: ['DEPLOY_TOKEN'],
  },
];

/** The named locks of the test configuration: test/integration/named-locks.test.ts gives each test its own. */
export const TEST_LOCKS = [
  { name: 'env:prod', order: 'fifo', description: 'the production environment' },
  { name: 'locks-a' },
  { name: 'locks-b' },
  { name: 'locks-shared' },
  { name: 'locks-newest', order: 'newest-first' },
  { name: 'locks-watch' },
  { name: 'locks-rollback' },
  { name: 'locks-replay' },
  { name: 'locks-recover' },
  { name: 'locks-console', description: 'the console test’s environment' },
] as const;

/** Secret values of the test configuration; tests look for them everywhere a user could see one. */
export const TEST_SECRET_VALUES = {
  DEPLOY_TOKEN: 'dpl-7f3a9c2e51b84d06',
  REGISTRY_PASSWORD: 'reg-Qx8vL2mN5pR7tK4w',
  CLOUD_TOKEN: 'cld-3e8d1f6a9b2c7054',
  SCOPED_TOKEN: 'scp-9a1b2c3d4e5f6a7b',
} as const;

/** The worker's environment variable that holds CLOUD_TOKEN. */
export const TEST_SECRET_ENV = { PASO_TEST_CLOUD_TOKEN: TEST_SECRET_VALUES.CLOUD_TOKEN };

/** The secrets of the test configuration: one of each source, a scoped one, and one no worker has. */
export function testSecrets(registryPasswordFile: string) {
  return [
    { name: 'DEPLOY_TOKEN', value: TEST_SECRET_VALUES.DEPLOY_TOKEN },
    { name: 'REGISTRY_PASSWORD', file: registryPasswordFile },
    { name: 'CLOUD_TOKEN', env: 'PASO_TEST_CLOUD_TOKEN' },
    { name: 'SCOPED_TOKEN', value: TEST_SECRET_VALUES.SCOPED_TOKEN, pipelines: ['secrets-scoped'] },
    { name: 'GONE_TOKEN', env: 'PASO_TEST_UNSET_TOKEN' },
  ];
}

export const TEST_SLACK_SIGNING_SECRET = 'test-signing-secret-0123456789';

export type TestUser = (typeof TEST_USERS)[number]['name'];

export function tokenOf(user: TestUser): string {
  return TEST_USERS.find((u) => u.name === user)!.token;
}
