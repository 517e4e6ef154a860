/** A fault to inject: the `nth` call of `store.method` fails, before the real call runs or after it succeeded. */
export interface Fault {
  readonly store: 'events' | 'archive';
  readonly method: string;
  readonly nth: number;
  readonly phase: 'before' | 'after';
}

export class InjectedFault extends Error {
  override readonly name = 'InjectedFault';
}

/**
 * Wraps a real store (on dynalite or fauxqs) so that one chosen call fails like a crash would: `before` loses the call,
 * `after` loses only the acknowledgement. Counts every call so a fault-free run tells which faults are possible.
 */
export class FaultPlan {
  readonly calls = new Map<string, number>();
  private fired = false;

  /** `fault`: one planned fault, fired once; or a function deciding for each call (e.g. at random). */
  constructor(private readonly fault?: Fault | ((call: Omit<Fault, 'phase'>) => Fault['phase'] | undefined)) {}

  private decide(call: Omit<Fault, 'phase'>): Fault['phase'] | undefined {
    if (typeof this.fault === 'function') return this.fault(call);
    if (this.fired || this.fault === undefined) return undefined;
    const { store, method, nth, phase } = this.fault;
    return store === call.store && method === call.method && nth === call.nth ? phase : undefined;
  }

  get hasFired(): boolean {
    return this.fired;
  }

  wrap = <T extends object>(store: T, name: 'events' | 'archive'): T =>
    new Proxy(store, {
      get: (target, property, receiver) => {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function' || typeof property !== 'string') return value;
        return async (...args: unknown[]) => {
          const key = `${name}.${property}`;
          const count = (this.calls.get(key) ?? 0) + 1;
          this.calls.set(key, count);
          const phase = this.decide({ store: name, method: property, nth: count });
          if (phase === 'before') {
            this.fired = true;
            throw new InjectedFault(`before ${key} #${count}`);
          }
          const result = await value.apply(target, args);
          if (phase === 'after') {
            this.fired = true;
            throw new InjectedFault(`after ${key} #${count}`);
          }
          return result;
        };
      },
    });
}
