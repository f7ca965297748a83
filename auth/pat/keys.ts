/**
 * modgate's own signing keys for personal access tokens. A key ring is an
 * ordered list of private keys, each with a `kid`: the first signs new
 * tokens, all verify. Rotation: put a new key first, keep the old one until
 * the tokens it signed have expired (or revoke them), then remove it — its
 * tokens stop verifying.
 *
 * Keys come from a JWK set (`{ "keys": [{ "kty": "OKP", "crv": "Ed25519",
 * "d": ..., "x": ..., "kid": ... }] }`) or from PKCS#8 PEM, each with a `kid`.
 */
import { createPrivateKey, createPublicKey, type JsonWebKeyInput, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { ModgateError } from '../../core/errors.ts';

/** Algorithms a PAT key may use. */
export type PatAlgorithm = 'EdDSA' | 'ES256';
const ALGORITHMS: readonly PatAlgorithm[] = ['EdDSA', 'ES256'];

/** One key of the ring. */
export interface PatKey {
  readonly kid: string;
  readonly alg: PatAlgorithm;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** A PEM key as configuration gives it. */
export interface PemKeyInput {
  readonly kid: string;
  /** PKCS#8 private key PEM (Ed25519 or P-256). */
  readonly pem: string;
}

function invalid(message: string, cause?: unknown): ModgateError {
  return new ModgateError('config.invalid', message, { cause });
}

/** The algorithm a private key is used with, from its type; rejects anything else. */
function algorithmOf(key: KeyObject, kid: string): PatAlgorithm {
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  throw invalid(`personal token key ${kid}: only Ed25519 (EdDSA) and P-256 (ES256) keys are supported`);
}

/** An ordered, immutable set of PAT keys: `signing` is the first. */
export class PatKeyRing {
  readonly #keys: readonly PatKey[];
  readonly #byKid: ReadonlyMap<string, PatKey>;

  private constructor(keys: readonly PatKey[]) {
    if (keys.length === 0) throw invalid('personal token keys: at least one key is required');
    const byKid = new Map<string, PatKey>();
    for (const key of keys) {
      if (byKid.has(key.kid)) throw invalid(`personal token keys: kid ${key.kid} appears twice`);
      byKid.set(key.kid, key);
    }
    this.#keys = keys;
    this.#byKid = byKid;
  }

  /** From private keys in PEM (PKCS#8), first signs. Throws `config.invalid`. */
  static fromPem(inputs: readonly PemKeyInput[]): PatKeyRing {
    return new PatKeyRing(
      inputs.map(({ kid, pem }) => {
        if (kid === '') throw invalid('personal token keys: every key needs a kid');
        let privateKey: KeyObject;
        try {
          privateKey = createPrivateKey(pem);
        } catch (cause) {
          throw invalid(`personal token key ${kid}: not a PKCS#8 private key PEM`, cause);
        }
        return { kid, alg: algorithmOf(privateKey, kid), privateKey, publicKey: createPublicKey(privateKey) };
      }),
    );
  }

  /** From a JWK set of private keys (RFC 7517), each with `kid`, first signs. Throws `config.invalid`. */
  static fromJwks(jwks: { keys: readonly JWK[] }): PatKeyRing {
    return new PatKeyRing(
      jwks.keys.map((jwk, index) => {
        const kid = jwk.kid;
        if (kid === undefined || kid === '') throw invalid(`personal token keys: key ${index} has no kid`);
        if (jwk.d === undefined)
          throw invalid(`personal token key ${kid}: a private key (with "d") is required`);
        if (jwk.alg !== undefined && !ALGORITHMS.includes(jwk.alg as PatAlgorithm)) {
          throw invalid(`personal token key ${kid}: alg ${jwk.alg} is not supported (EdDSA or ES256)`);
        }
        let privateKey: KeyObject;
        try {
          privateKey = createPrivateKey({ key: jwk as JsonWebKeyInput['key'], format: 'jwk' });
        } catch (cause) {
          throw invalid(`personal token key ${kid}: not a usable private JWK`, cause);
        }
        return { kid, alg: algorithmOf(privateKey, kid), privateKey, publicKey: createPublicKey(privateKey) };
      }),
    );
  }

  /** The key that signs new tokens. */
  get signing(): PatKey {
    return this.#keys[0]!;
  }

  /** The key with `kid`, or undefined when it is not (or no longer) in the ring. */
  get(kid: string): PatKey | undefined {
    return this.#byKid.get(kid);
  }

  /** All `kid`s, signing key first. */
  get kids(): readonly string[] {
    return this.#keys.map((k) => k.kid);
  }
}
