/** ORDER BY and keyset pagination with PostgreSQL's NULL ordering on every engine (indexer.ts). */
import { sql } from 'kysely'
import type { SortDirection, SortKey } from '../indexer.ts'
import type { Frag, Row } from './context.ts'
import type { SqlDialect } from './dialect.ts'

function isDesc(direction: SortDirection): boolean {
  return direction.startsWith('desc')
}

/** PostgreSQL's rule: plain asc → NULLs last, plain desc → NULLs first. */
function nullsFirst(direction: SortDirection): boolean {
  return direction === 'desc' || direction.endsWith('nullsfirst')
}

export function orderBy(dialect: SqlDialect, sorts: readonly SortKey[]): Frag {
  return sql.join(
    sorts.map((s) => dialect.orderTerm(sql.id(s.key), isDesc(s.direction), nullsFirst(s.direction))),
  )
}

/** Rows strictly after `marker` in the order `sorts` (keyset pagination, NULL-aware). */
export function after(sorts: readonly SortKey[], marker: Row): Frag {
  const alternatives: Frag[] = []
  for (let i = 0; i < sorts.length; i++) {
    const terms: Frag[] = []
    for (let j = 0; j < i; j++) {
      const v = marker[sorts[j].key]
      terms.push(v === null ? sql`${sql.id(sorts[j].key)} IS NULL` : sql`${sql.id(sorts[j].key)} = ${v}`)
    }
    const { key, direction } = sorts[i]
    const value = marker[key]
    const col = sql.id(key)
    if (value === null) {
      if (!nullsFirst(direction)) continue // nothing sorts after NULL on this key
      terms.push(sql`${col} IS NOT NULL`)
    } else {
      const cmp = sql`${col} ${sql.raw(isDesc(direction) ? '<' : '>')} ${value}`
      terms.push(nullsFirst(direction) ? cmp : sql`(${cmp} OR ${col} IS NULL)`)
    }
    alternatives.push(sql`(${sql.join(terms, sql` AND `)})`)
  }
  if (alternatives.length === 0) return sql`1 = 0`
  return sql`(${sql.join(alternatives, sql` OR `)})`
}
