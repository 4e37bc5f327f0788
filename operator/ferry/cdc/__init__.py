"""Online migrations: change data capture from the source and exactly-once apply on the target.

How a snapshot copy and a change stream meet (the design, see docs/online.md):

1. Before any row is read, Ferry opens a capture on the source and takes its start position
   P0: a logical replication slot (pgoutput, on a publication of the selected tables) on
   PostgreSQL, the current binlog file and position on MariaDB/MySQL.
2. The initial copy runs as usual, batch by batch with its checkpoints. It reads the live
   tables, not a snapshot at P0: every read happens after P0, and a worker killed and
   restarted re-reads its remaining key ranges later still. No exported snapshot has to
   outlive a crash.
3. The follower then applies every change committed after P0 in source commit order, and
   applies it *idempotently*: an insert or a full-row update is an upsert by key, a delete
   deletes the key if present, an update whose row is absent (it was deleted later, and the
   copy read after that) is skipped. Whatever moment the copy read a row at, replaying every
   later change converges to the source's row: the last change of a key decides it. That is
   what makes a crash during the copy harmless.
4. Every applied batch commits in one target transaction together with the source position it
   reaches (`ferry.cdc.bookkeeping`), so a follower killed at any point resumes from the
   stored position with no gap and no duplicate. The source is told to release what is
   applied (the slot is advanced) only after that commit.

Tables need a key (a primary key, or a unique key of not-null columns): without one no change
can be applied idempotently, and online mode refuses the table in the plan.
"""
