import { createHash } from 'node:crypto'

/** Upstream sack lock name: SHA-1 hex digest of `gnocchi-sack-<sack name>-lock`. */
export function sackLockName(sackName: string): string {
  return createHash('sha1').update(`gnocchi-sack-${sackName}-lock`).digest('hex')
}
