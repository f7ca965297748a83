/**
 * A checksum database client that verifies as the go command does (a port of
 * golang.org/x/mod/sumdb/client.go v0.7.0, https://go.dev/design/25530-sumdb):
 * a lookup's signed tree head must verify with the database's Ed25519 key and
 * be consistent with the last accepted head (else sumdb.forked), the record
 * must be in the signed tree (an inclusion proof from authenticated tiles of
 * height 8) and name the module version asked. The larger of the accepted
 * and the served head is kept in a store that processes share, by
 * compare-and-set.
 */
import { isModgateError, ModgateError } from '../core/errors.ts';
import { escapePath, escapeVersion } from '../core/gomod/module.ts';
import { type NoteVerifier, openNote, parseVerifierKey } from './note.ts';
import { checkRecord, proveRecord } from './proofs.ts';
import { type GoSumHashes, goSumHashes, parseLookupAnswer } from './record.ts';
import { TileStore } from './tile-store.ts';
import { TILE_HEIGHT, tileHashReader } from './tiles.ts';
import { checkTimeline, type SignedTree } from './timeline.ts';
import { type HashReader, parseTree, recordHash, type Tree } from './tlog-hash.ts';

/**
 * Reads a path below the database root: `latest`, `lookup/<escaped path>@<escaped version>`,
 * `tile/8/0/x001/234.p/5`. Rejects with ModgateError('sumdb.unavailable') when it
 * cannot fetch, and with ModgateError('upstream.not_found') for a lookup answered 404/410.
 */
export interface SumdbTransport {
  get(path: string): Promise<Buffer>;
}

/** The last accepted signed tree head (note text), durable and shared by processes. */
export interface TreeHeadStore {
  load(): Promise<string | undefined>;
  compareAndSet(
    expected: string | undefined,
    next: string,
  ): Promise<{ swapped: boolean; current: string | undefined }>;
}

export interface SumdbClientOptions {
  /** The database's name, e.g. `sum.golang.org`; the verifier key must carry the same. */
  name: string;
  /** Its verifier key, e.g. `sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8`. */
  verifierKey: string;
  transport: SumdbTransport;
  treeHeads: TreeHeadStore;
}

/** Rounds of merging a served head while concurrent lookups move the accepted one (each round it grew). */
const MAX_MERGE_ROUNDS = 16;

/** Compare-and-set attempts on the tree head store before giving up. */
const MAX_STORE_ATTEMPTS = 16;

/** Notes already checked to be on the accepted timeline (entries). */
const CHECKED_NOTES = 64;

type When = 'past' | 'now' | 'future';

export class SumdbClient {
  readonly #name: string;
  readonly #verifiers: readonly NoteVerifier[];
  readonly #transport: SumdbTransport;
  readonly #store: TreeHeadStore;
  readonly #tiles: TileStore;
  /** The largest head accepted so far; undefined until the store was read and held none. */
  #latest: SignedTree | undefined;
  /** The store's value as last read or written. */
  #stored: string | undefined;
  #ready: Promise<void> | undefined;
  readonly #onTimeline = new Set<string>();

  constructor(options: SumdbClientOptions) {
    let verifier: NoteVerifier;
    try {
      verifier = parseVerifierKey(options.verifierKey);
    } catch (err) {
      throw new ModgateError(
        'config.invalid',
        `checksum database ${options.name}: bad verifier key: ${(err as Error).message}`,
      );
    }
    if (verifier.name !== options.name) {
      throw new ModgateError(
        'config.invalid',
        `checksum database ${options.name}: the verifier key is for ${verifier.name}`,
      );
    }
    this.#name = options.name;
    this.#verifiers = [verifier];
    this.#transport = options.transport;
    this.#store = options.treeHeads;
    this.#tiles = new TileStore((path) => this.#get(path));
  }

  /** The database's name (what gateway/integrity's ChecksumDatabase reads). */
  get name(): string {
    return this.#name;
  }

  /**
   * The go.sum hashes the database vouches for, after verifying the note
   * signature, the record's inclusion in the signed tree and the tree's
   * consistency with the last accepted head (then stored if newer).
   */
  async lookup(module: string, version: string): Promise<GoSumHashes> {
    const path = `lookup/${escapePath(module)}@${escapeVersion(version)}`;
    try {
      await this.#init();
      const answer = parseLookupAnswer(await this.#get(path));
      await this.#mergeLatest(this.#open(answer.treeNote));
      await this.#checkRecord(answer.id, answer.text);
      return goSumHashes(answer.text, module, version);
    } catch (err) {
      if (!isModgateError(err) || err.code === 'sumdb.forked') throw err;
      throw new ModgateError(
        err.code,
        `checksum database ${this.#name}: ${module}@${version}: ${err.message.replace(/\s*\n\s*/g, ' ')}`,
        {
          cause: err,
          ...(err.detail === undefined ? {} : { detail: err.detail }),
        },
      );
    }
  }

  async #get(path: string): Promise<Buffer> {
    try {
      return await this.#transport.get(path);
    } catch (err) {
      if (isModgateError(err)) throw err;
      throw new ModgateError('sumdb.unavailable', `cannot fetch ${path}`, { cause: err });
    }
  }

  /** Verifies a signed tree head (note.Open, tlog.ParseTree). */
  #open(note: Buffer | string): SignedTree {
    const bytes = typeof note === 'string' ? Buffer.from(note) : note;
    try {
      const opened = openNote(bytes, this.#verifiers);
      return { note: bytes.toString('utf8'), tree: parseTree(opened.text) };
    } catch (err) {
      if (!isModgateError(err)) throw err;
      throw new ModgateError(err.code, `reading tree note: ${err.message}`, {
        detail: { note: bytes.toString('utf8') },
      });
    }
  }

  #init(): Promise<void> {
    this.#ready ??= (async () => {
      const stored = await this.#store.load();
      if (stored !== undefined) this.#latest = this.#open(stored);
      this.#stored = stored;
      if (this.#latest !== undefined) this.#onTimeline.add(this.#latest.note);
    })().catch((err: unknown) => {
      this.#ready = undefined;
      throw err;
    });
    return this.#ready;
  }

  /** Reads `tree`'s hashes from authenticated tiles: cached ones first, and all fetched anew when they do not hash up. */
  #reader = (tree: Tree): HashReader => {
    const cachedFirst = tileHashReader(tree, TILE_HEIGHT, this.#tiles);
    const fresh = tileHashReader(tree, TILE_HEIGHT, this.#tiles.fresh);
    return (indexes) =>
      cachedFirst(indexes).catch((err: unknown) => {
        if (!isModgateError(err, 'sumdb.bad_response')) throw err;
        return fresh(indexes);
      });
  };

  /** Merges `served` into the in-memory head (x/mod's mergeLatestMem). */
  async #mergeMem(served: SignedTree): Promise<When> {
    for (let round = 0; round < MAX_MERGE_ROUNDS; round++) {
      const latest = this.#latest;
      if (latest !== undefined && served.tree.n <= latest.tree.n) {
        if (!this.#onTimeline.has(served.note)) {
          await checkTimeline(this.#name, latest, served, this.#reader);
          this.#remember(served.note);
        }
        return served.tree.n < latest.tree.n ? 'past' : 'now';
      }
      if (latest !== undefined) await checkTimeline(this.#name, latest, served, this.#reader);
      if (this.#latest === latest) {
        this.#latest = served;
        this.#remember(served.note);
        return 'future';
      }
    }
    throw new ModgateError('sumdb.unavailable', 'the accepted tree head kept moving');
  }

  #remember(note: string): void {
    if (this.#onTimeline.size >= CHECKED_NOTES) this.#onTimeline.clear();
    this.#onTimeline.add(note);
  }

  /** Merges `served` and, when it moved the head forward, writes the head to the store (x/mod's mergeLatest). */
  async #mergeLatest(served: SignedTree): Promise<void> {
    if ((await this.#mergeMem(served)) !== 'future') return;
    for (let attempt = 0; attempt < MAX_STORE_ATTEMPTS; attempt++) {
      const stored = this.#stored;
      if (stored !== undefined && (await this.#mergeMem(this.#open(stored))) !== 'past') return;
      const latest = this.#latest as SignedTree;
      const result = await this.#store.compareAndSet(stored, latest.note);
      if (result.swapped) {
        this.#stored = latest.note;
        return;
      }
      this.#stored = result.current;
    }
    throw new ModgateError('state.unavailable', 'the tree head store kept changing');
  }

  /** Checks that record `id` with `text` is in the accepted tree (x/mod's checkRecord, as an inclusion proof). */
  async #checkRecord(id: number, text: Buffer): Promise<void> {
    const latest = this.#latest as SignedTree;
    const { n, hash } = latest.tree;
    if (id >= n)
      throw new ModgateError('sumdb.bad_response', `cannot validate record ${id} in tree of size ${n}`);
    const proof = await proveRecord(n, id, this.#reader(latest.tree));
    if (!checkRecord(proof, n, hash, id, recordHash(text))) {
      throw new ModgateError('sumdb.bad_response', 'cannot authenticate record data in server response');
    }
  }
}
