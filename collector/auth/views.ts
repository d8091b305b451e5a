/** API shapes of users and newly created secrets, shared by the auth and admin routes. */
import { Type, type Static } from 'typebox'
import type { User } from './users.js'

export const RoleSchema = Type.Union([Type.Literal('viewer'), Type.Literal('technician'), Type.Literal('admin')])

export const UserView = Type.Object({
  id: Type.String(),
  username: Type.String(),
  role: RoleSchema,
  createdAt: Type.Optional(Type.String()),
  updatedAt: Type.Optional(Type.String()),
  passwordChangedAt: Type.Optional(Type.String()),
  disabled: Type.Optional(Type.Boolean())
})
export type UserView = Static<typeof UserView>

export function userView (u: User): UserView {
  return {
    id: u.id,
    username: u.username,
    role: u.role,
    createdAt: new Date(u.createdMs).toISOString(),
    updatedAt: new Date(u.updatedMs).toISOString(),
    passwordChangedAt: new Date(u.passwordChangedMs).toISOString(),
    disabled: u.disabledMs !== null
  }
}

/** A token just created: `token` is the secret, shown this once and never again. */
export const TokenCreated = Type.Object({
  id: Type.String(),
  token: Type.String({ description: 'secret, shown once' }),
  name: Type.String(),
  role: RoleSchema,
  userId: Type.Optional(Type.String()),
  expiresAt: Type.Optional(Type.String({ description: 'the token is refused (401 VIGIE_ERR_TOKEN_EXPIRED) from this time on' }))
})

/** `expiresInDays` of a token creation request: default VIGIE_API_TOKEN_DAYS. */
export const ExpiresInDays = Type.Optional(Type.Integer({ minimum: 1, maximum: 3650, description: 'lifetime in days (default: the collector\'s VIGIE_API_TOKEN_DAYS, 90)' }))

/** How a token listing shows its expiry: `expiresAt`, or `neverExpires` for tokens made before expiry existed; `expired` once past. */
export function tokenExpiryView (expiresMs: number | null, nowMs: number): { expiresAt?: string, neverExpires?: true, expired?: true } {
  if (expiresMs === null) return { neverExpires: true }
  return { expiresAt: new Date(expiresMs).toISOString(), ...(expiresMs <= nowMs ? { expired: true as const } : {}) }
}
