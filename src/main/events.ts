/** A minimal typed event emitter (no DOM, no Node): on() returns the function that unsubscribes. */
export class TypedEmitter<Events extends object> {
  private listeners = new Map<keyof Events, Set<(e: never) => void>>();

  on<K extends keyof Events>(type: K, listener: (event: Events[K]) => void): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener as (e: never) => void);
    return () => set!.delete(listener as (e: never) => void);
  }

  protected emit<K extends keyof Events>(type: K, event: Events[K]): void {
    this.listeners.get(type)?.forEach((l) => (l as (e: Events[K]) => void)(event));
  }
}
