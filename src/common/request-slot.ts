/**
 * State that belongs to one request (or its response), kept on that object under a private symbol
 * instead of in a WeakMap keyed by it. Same lifetime: the state goes when the request goes.
 *
 * Why not a WeakMap: V8's young-generation GC treats the values in a long-lived WeakMap as strong (the
 * keys stay weak, so a WeakSet or a WeakMap of numbers costs nothing). A value survives every minor GC
 * while its entry exists, and so does everything it reaches: the audit record reached the response
 * through a closure, so the whole request did. Requests that lasted milliseconds were promoted to the
 * old generation, for full GCs to reclaim (README, Performance).
 *
 * The property is not enumerable: a spread, JSON.stringify or util.inspect of a request never shows the
 * state, which may hold outbound headers with a client's credential.
 */
export class RequestSlot<Owner extends object, Value> {
  private readonly key: symbol;

  constructor(description: string) {
    this.key = Symbol(description);
  }

  get(owner: Owner): Value | undefined {
    return (owner as Record<symbol, Value | undefined>)[this.key];
  }

  set(owner: Owner, value: Value): void {
    Object.defineProperty(owner, this.key, { value, writable: true, configurable: true, enumerable: false });
  }
}
