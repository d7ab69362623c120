/**
 * PingWatchdog: proves a busy HTTP/2 connection alive. A connection whose peer vanished without a
 * FIN or RST (a dead host, a dropped route) never says so: its requests would wait forever. While
 * the connection is busy, a PING goes out every `intervalMs`; one still unanswered at the next
 * tick, or answered with a failure, declares the connection dead, and its owner fails every
 * pending request. Both HTTP/2 clients use it (H2Session over Node's http2, LeanH2Session).
 *
 * Invariants: the timer runs only while the owner is busy (it stops itself at the first idle
 * tick and `arm` restarts it), never keeps the process up (unref'd), and `dead` is called at most
 * once per arming.
 */

/** How often a busy connection proves the server is alive. */
export const PING_INTERVAL_MS = 15_000;

export interface PingWatchdogOptions {
  /** whether requests are pending (an idle connection needs no proof) */
  busy(): boolean;
  /** sends a PING; `answered` is called once with whether it was acknowledged; false: not sent */
  ping(answered: (ok: boolean) => void): boolean;
  /** the connection is dead: fail what is pending and drop it */
  dead(why: string): void;
  readonly intervalMs?: number;
}

export class PingWatchdog {
  readonly #o: PingWatchdogOptions;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #outstanding = false;

  constructor(o: PingWatchdogOptions) {
    this.#o = o;
    this.#intervalMs = o.intervalMs ?? PING_INTERVAL_MS;
  }

  /** A request started: watch, unless already watching. */
  arm(): void {
    if (this.#timer) return;
    this.#outstanding = false;
    // a callback of a timer already stopped does nothing (Node 20's mocked timers, for one, run
    // an interval cleared from inside its own callback again)
    const timer: NodeJS.Timeout = setInterval(() => {
      if (this.#timer === timer) this.#tick();
    }, this.#intervalMs);
    timer.unref();
    this.#timer = timer;
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    if (!this.#o.busy()) return this.stop();
    if (this.#outstanding) {
      this.stop();
      return this.#o.dead(`no answer to a ping within ${this.#intervalMs / 1000} s`);
    }
    this.#outstanding = true;
    const timer = this.#timer;
    const sent = this.#o.ping((ok) => {
      if (this.#timer !== timer) return; // an answer to an earlier arming's ping
      this.#outstanding = false;
      if (!ok) {
        this.stop();
        this.#o.dead('ping failed');
      }
    });
    if (!sent) this.#outstanding = false;
  }
}
