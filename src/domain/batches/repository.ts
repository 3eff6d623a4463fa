/** The batches tables' SQL in two parts: the queue (claims, outcomes, cancel, purge) and the reads (lists, counts, events). */
import type { Db } from '../../db/database.js'
import { BatchQueueRepository, type BatchRepositoryHooks } from './queue.js'
import { BatchReadRepository } from './reads.js'

export class BatchRepository {
  readonly reads: BatchReadRepository
  readonly queue: BatchQueueRepository

  constructor (db: Db, hooks: BatchRepositoryHooks = {}) {
    this.reads = new BatchReadRepository(db)
    this.queue = new BatchQueueRepository(db, this.reads, hooks)
  }
}
