import { it } from 'node:test'
import { runIndexerConformance } from '../indexer-conformance.ts'
import { SqlIndexer } from './sql-indexer.ts'
import { createPgDatabase, serverAvailable } from './test-databases.ts'

if (await serverAvailable('postgresql')) {
  runIndexerConformance('postgresql', {
    newIndexer: async () => {
      const db = await createPgDatabase()
      return { indexer: new SqlIndexer({ url: db.url }), cleanup: () => db.drop() }
    },
  })
} else {
  it('postgresql indexer conformance', (t) => t.skip('PostgreSQL server unreachable'))
}
