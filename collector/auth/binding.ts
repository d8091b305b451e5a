/**
 * Links a Registry to the trust services built for it, so collector/auth/guards.ts
 * (whose `requireRole(registry, role)` signature every area uses) can accept
 * session cookies and rotated agent tokens without new parameters.
 */
import type { Registry } from '../store/sqlite/registry.js'
import type { AuthService } from './service.js'

const bound = new WeakMap<Registry, AuthService>()

export function bindAuth (registry: Registry, auth: AuthService): void {
  bound.set(registry, auth)
}

export function authFor (registry: Registry): AuthService | undefined {
  return bound.get(registry)
}
