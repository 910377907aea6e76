export const ROLES = ['owner', 'admin', 'developer', 'tester'] as const;
export type Role = (typeof ROLES)[number];

/** Testers/QA may never use remote access (product rule from the original user document). */
export const REMOTE_ACCESS_ROLES: ReadonlySet<Role> = new Set<Role>(['owner', 'admin', 'developer']);

export const STACKS = ['linux', 'macos'] as const;
export type Stack = (typeof STACKS)[number];

export const BUILD_STATUSES = ['running', 'finished', 'aborted'] as const;
export type BuildStatus = (typeof BUILD_STATUSES)[number];
