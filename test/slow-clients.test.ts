/**
 * Slow and silent clients cannot hold the gateway: with
 * `listen.headers_timeout: 3s`, 100 TCP connections that never start TLS,
 * 100 that finish the handshake and never send a byte, and slowloris clients
 * sending their headers at 1 byte/s are all closed within the timeout (plus
 * Node's 1 s check), the ones that reached HTTP with modgate's 408 line,
 * while paced requests of another client are answered every second
 * throughout. A 1 MB `Authorization` header gets 431 with modgate's line, and
 * the gateway goes on serving.
 */
import { connect as tcpConnect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USERS } from '../harness/directory-fixture.ts';
import { httpsGet } from '../harness/https-client.ts';
import { maxPacedRequests, pacedStreams } from './support/paced-streams.ts';
import { type Stack, startStack } from './support/stack.ts';

/** listen.headers_timeout of the gateway under test (ms). */
const HEADERS_TIMEOUT_MS = 3_000;
/** Node checks for expired connections once a second; allow that plus scheduling on a loaded machine (ms). */
const CLOSE_SLACK_MS = 2_000;
/** Connections of each silent kind. */
const SILENT = 100;
/** Slowloris connections, each sending one header byte per second. */
const SLOWLORIS = 5;
const INFO = '/example.com/hello/@v/v1.0.0.info';

let stack: Stack;
let url: URL;

beforeAll(async () => {
  stack = await startStack({
    directory: 'file',
    upstream: 'dir',
    gatewayConfig: async (config) => ({
      ...config,
      listen: { host: '127.0.0.1', port: 0, headers_timeout: `${HEADERS_TIMEOUT_MS / 1000}s` },
    }),
  });
  url = new URL(stack.gateway.url);
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

/** What a client connection saw: how long the gateway kept it open, and what it answered. */
interface Held {
  readonly openMs: number;
  readonly answer: string;
  readonly sentBytes: number;
}

/** Opens a connection (TCP only, or TLS) and, for `trickle`, sends it at one byte per second; resolves once the gateway closes it. */
function hold(kind: 'tcp' | 'tls', trickle = ''): Promise<Held> {
  const opened = Date.now();
  const target = { host: url.hostname, port: Number(url.port) };
  const socket = kind === 'tcp' ? tcpConnect(target) : tlsConnect({ ...target, ca: stack.pki.caPem });
  let answer = '';
  let sentBytes = 0;
  let timer: NodeJS.Timeout | undefined;
  socket.on('data', (chunk: Buffer) => {
    answer += chunk.toString('utf8');
  });
  if (trickle !== '') {
    socket.once('secureConnect', () => {
      const send = () => {
        if (sentBytes < trickle.length && socket.writable) socket.write(trickle[sentBytes++]!);
      };
      send();
      timer = setInterval(send, 1_000);
    });
  }
  return new Promise((resolve) => {
    socket.on('error', () => undefined);
    socket.once('close', () => {
      clearInterval(timer);
      resolve({ openMs: Date.now() - opened, answer, sentBytes });
    });
  });
}

describe('slow and silent clients', () => {
  it('are closed within listen.headers_timeout while other clients are served throughout', async () => {
    const headers = `GET ${INFO} HTTP/1.1\r\nHost: ${url.host}\r\nUser-Agent: slowloris\r\n`;
    const attackers = [
      ...Array.from({ length: SILENT }, () => hold('tcp')),
      ...Array.from({ length: SILENT }, () => hold('tls')),
      ...Array.from({ length: SLOWLORIS }, () => hold('tls', headers)),
    ];
    const started = Date.now();
    // Two streams, at most one request per 100 ms each, for as long as the attack lasts.
    const pacing = { streams: 2, durationMs: HEADERS_TIMEOUT_MS + CLOSE_SLACK_MS, intervalMs: 100 };
    const answeredAt: number[] = [];
    const served = pacedStreams(pacing, async () => {
      const res = await httpsGet(stack.gateway.url, INFO, {
        ca: stack.pki.caPem,
        basic: [USERS.alice.name, USERS.alice.password],
      }).catch((err: Error) => ({ status: 0, text: err.message }));
      answeredAt.push(Date.now() - started);
      return res.status === 200 ? undefined : `${res.status} ${res.text}`;
    });
    const held = await Promise.all(attackers);
    const { requests, failures } = await served;

    expect(failures).toEqual([]);
    expect(requests).toBeLessThanOrEqual(maxPacedRequests(pacing));
    // Served throughout: answers in every second of the attack, not only once it was over.
    for (let second = 0; second < HEADERS_TIMEOUT_MS / 1000; second++) {
      expect(
        answeredAt.some((ms) => ms >= second * 1000 && ms < (second + 1) * 1000),
        `no answer in second ${second}`,
      ).toBe(true);
    }
    for (const h of held) {
      expect(h.openMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 100);
      expect(h.openMs).toBeLessThan(HEADERS_TIMEOUT_MS + CLOSE_SLACK_MS);
    }
    const [tcp, tls, slow] = [held.slice(0, SILENT), held.slice(SILENT, 2 * SILENT), held.slice(2 * SILENT)];
    // Never got as far as TLS: closed without a word.
    expect(new Set(tcp.map((h) => h.answer))).toEqual(new Set(['']));
    const timedOut = 'modgate: request headers did not arrive within 3s\n';
    for (const h of [...tls, ...slow]) {
      expect(h.answer).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
      expect(h.answer).toContain('content-type: text/plain; charset=utf-8\r\n');
      expect(h.answer.endsWith(`\r\n\r\n${timedOut}`)).toBe(true);
    }
    // The slowloris clients were still sending when they were cut: the bound is on the whole header, not on silence.
    for (const h of slow) expect(h.sentBytes).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS / 1000);
  }, 30_000);

  it('a 1 MB Authorization header gets 431 with modgate’s line, and the gateway goes on serving', async () => {
    const socket = tlsConnect({ host: url.hostname, port: Number(url.port), ca: stack.pki.caPem });
    let answer = '';
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('utf8');
    });
    socket.on('error', () => undefined); // the gateway closes while the header is still being sent
    socket.once('secureConnect', () =>
      socket.write(
        `GET ${INFO} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Basic ${'A'.repeat(1024 * 1024)}\r\n\r\n`,
      ),
    );
    await new Promise((resolve) => socket.once('close', resolve));
    expect(answer).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(answer).toContain('content-type: text/plain; charset=utf-8\r\n');
    expect(answer.endsWith('\r\n\r\nmodgate: request headers are larger than 16 KiB\n')).toBe(true);
    await sleep(100);
    const res = await httpsGet(stack.gateway.url, INFO, {
      ca: stack.pki.caPem,
      basic: [USERS.alice.name, USERS.alice.password],
    });
    expect(res.status).toBe(200);
  });
});
