export const ROLES = ['user', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** The authenticated caller, from a verified JWT. `id` is a positive integer kept as a decimal string. */
export interface AuthUser {
  id: string;
  role: Role;
}
