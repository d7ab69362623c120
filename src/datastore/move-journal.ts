/**
 * MoveJournals: what lets garbage collection and group moves run at the same time without GC
 * missing a snapshot (PBS 4.1.9 keeps a "GC move journal" for the same reason).
 *
 * The danger: GC's mark phase walks namespace by namespace. A snapshot that moves from a namespace
 * GC has not reached yet into one it has walked already is seen in neither; its chunks keep their
 * old marks and the sweep would remove them, and with them a finished backup.
 *
 * The rule: every snapshot move runs through `moving(target, …)`, which first writes the target
 * group into every journal open at that moment. GC opens a journal before it walks (`open`, which
 * also waits until the moves begun earlier have ended, so their snapshots sit where the walk will
 * look) and, after the walk, walks each group its journal names, again until the journal stays
 * empty; only then does it close the journal (synchronously after the last empty `take`, so no
 * move slips in between) and sweep.
 *
 * Why that is enough: a rename is atomic, so a snapshot is always in its old group or its new one.
 * If the walk missed it in the old group, it had moved there before the walk looked, so its
 * target was journaled before the walk ended and the re-walk, which comes later, finds it (or
 * finds the target of its next move, journaled too). Moves and GC of a datastore run in the one
 * server process that has it open, so the journal lives in memory.
 */
import type { GroupRef } from '../core/backup-ref.ts';

export interface MoveJournal {
  /** The groups snapshots were moved into since the last `take` (each once), and forgets them. */
  take(): GroupRef[];
  /** Stops recording; call it with no await between the last empty `take` and it. */
  close(): void;
}

export class MoveJournals {
  readonly #open = new Set<Map<string, GroupRef>>();
  readonly #inFlight = new Set<Promise<unknown>>();

  /** Runs `move`, which puts snapshots into `target`, after telling every open journal. */
  async moving<T>(target: GroupRef, move: () => Promise<T>): Promise<T> {
    const key = `${target.ns}\0${target.type}\0${target.id}`;
    for (const journal of this.#open) journal.set(key, { ns: target.ns, type: target.type, id: target.id });
    const running = move();
    this.#inFlight.add(running);
    try {
      return await running;
    } finally {
      this.#inFlight.delete(running);
    }
  }

  /** A journal of the moves from now on, once the moves begun before have ended (or failed). */
  async open(): Promise<MoveJournal> {
    const journal = new Map<string, GroupRef>();
    this.#open.add(journal);
    await Promise.allSettled([...this.#inFlight]);
    return {
      take: () => {
        const groups = [...journal.values()];
        journal.clear();
        return groups;
      },
      close: () => {
        this.#open.delete(journal);
      },
    };
  }
}
