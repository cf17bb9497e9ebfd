import { it } from 'node:test'
import { runIndexerConformance } from '../indexer-conformance.ts'
import { SqlIndexer } from './sql-indexer.ts'
import { createMysqlDatabase, serverAvailable } from './test-databases.ts'

if (await serverAvailable('mysql')) {
  runIndexerConformance('mysql', {
    lifespanSupported: false,
    newIndexer: async () => {
      const db = await createMysqlDatabase()
      return { indexer: new SqlIndexer({ url: db.url }), cleanup: () => db.drop() }
    },
  })
} else {
  it('mysql indexer conformance', (t) => t.skip('MySQL/MariaDB server unreachable'))
}
