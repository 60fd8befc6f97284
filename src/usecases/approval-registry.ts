/**
 * The kinds of guarded change the engine knows, by name. The composition root registers the
 * built-in ones (src/usecases/approval-kinds.ts); a test may add its own (a kind is its parameters,
 * its executor and its card text). Kept free of the kind type itself, so the ports (deps.ts) can
 * carry it without importing the engine's model.
 */
export class ApprovalKinds<K extends { readonly name: string } = { readonly name: string }> {
  private readonly kinds = new Map<string, K>();

  constructor(kinds: readonly K[] = []) {
    for (const k of kinds) this.add(k);
  }

  add(kind: K): void {
    if (this.kinds.has(kind.name)) throw new Error(`approval kind ${kind.name} is registered twice`);
    this.kinds.set(kind.name, kind);
  }

  get(name: string): K {
    const kind = this.kinds.get(name);
    if (!kind) throw new Error(`no approval kind ${name} (a row of a kind this version does not know)`);
    return kind;
  }

  has(name: string): boolean {
    return this.kinds.has(name);
  }
}
