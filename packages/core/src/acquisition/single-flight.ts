/**
 * Concurrent callers with the same flight key share one promise: N callers of a cold
 * key make one token request. The flight is forgotten as soon as it settles, so the next
 * caller after a failure starts a new one.
 */
export class SingleFlight<T> {
  private readonly flights = new Map<string, Promise<T>>();

  /** Whether a flight for `key` is under way. */
  has(key: string): boolean {
    return this.flights.has(key);
  }

  /** Joins the flight under way for `key`, or starts one with `start`. */
  run(key: string, start: () => Promise<T>): Promise<T> {
    const running = this.flights.get(key);
    if (running !== undefined) return running;
    const flight = start();
    this.flights.set(key, flight);
    const done = (): void => {
      if (this.flights.get(key) === flight) this.flights.delete(key);
    };
    flight.then(done, done);
    return flight;
  }
}
